/**
 * The self-contained HTML report of `synod bench --html`: one file, inline
 * CSS and SVG, no scripts, nothing fetched from the network. It opens with
 * what was measured, then the goals, then each benchmark's tables and charts.
 */
import type { Chart, Goal, SuiteReport, Table } from './report.js';
import { fmt, fmtFigure, tickLabels } from './report.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#e6550d', '#31a354'];
const color = (i: number) => COLORS[i % COLORS.length] as string;

/** Scale from [lo, hi] to [a, b], linear or log10. */
function scale(lo: number, hi: number, a: number, b: number, log: boolean): (x: number) => number {
  const f = log ? (x: number) => Math.log10(Math.max(x, lo)) : (x: number) => x;
  const l = f(lo);
  const h = f(hi);
  return (x) => (h === l ? (a + b) / 2 : a + ((f(x) - l) / (h - l)) * (b - a));
}

/** "Nice" tick values over [lo, hi]. */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (!(hi > lo)) return [lo];
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
    return out.length >= 2 ? out : [lo, hi];
  }
  const step0 = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) as number;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

const W = 760;

function legend(names: readonly string[], x: number, y: number): string {
  return names.map((n, i) => `<g transform="translate(${x},${y + i * 16})"><rect width="10" height="10" fill="${color(i)}"/><text x="14" y="9" font-size="11">${esc(n)}</text></g>`).join('');
}

/** A line chart; x and y may be log scaled; `xTick` labels the x ticks. */
function lineChart(title: string, series: ReadonlyArray<{ name: string; points: ReadonlyArray<readonly [number, number]> }>, opts: { xLabel: string; yLabel: string; xLog?: boolean; xMap?: (x: number) => number; xTicks?: number[]; xTickLabel?: (x: number) => string }): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const H = Math.max(300, 60 + series.length * 16);
  const m = { l: 64, r: 220, t: 28, b: 44 };
  if (pts.length === 0) return `<figure><figcaption>${esc(title)}</figcaption><p>no data</p></figure>`;
  const xm = opts.xMap ?? ((x: number) => x);
  const xs = pts.map(([x]) => xm(x));
  const ys = pts.map(([, y]) => y);
  const yLo = Math.min(...ys.filter((y) => y > 0), Infinity);
  const yHi = Math.max(...ys);
  const yLog = yLo > 0 && yHi / yLo > 30;
  const y0 = yLog ? yLo : 0;
  const xLo = opts.xTicks ? Math.min(...xs, ...opts.xTicks.map(xm)) : Math.min(0, ...xs);
  const xHi = Math.max(...xs, ...(opts.xTicks ?? []).map(xm));
  const sx = scale(xLo, xHi, m.l, W - m.r, false);
  const sy = scale(y0, yHi * (yLog ? 1.2 : 1.05), H - m.b, m.t, yLog);
  let svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">`;
  svg += `<text x="${m.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`;
  const yt = ticks(y0 || (yLog ? yLo : 0), yHi, yLog);
  const yl = tickLabels(yt, yLog);
  yt.forEach((t, i) => (svg += `<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/><text x="${m.l - 4}" y="${sy(t) + 4}" font-size="10" text-anchor="end">${yl[i]}</text>`));
  const xt = opts.xTicks ?? ticks(xLo, xHi, false);
  const xl = opts.xTickLabel ? xt.map(opts.xTickLabel) : tickLabels(xt);
  xt.forEach((t, i) => (svg += `<line x1="${sx(xm(t))}" x2="${sx(xm(t))}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/><text x="${sx(xm(t))}" y="${H - m.b + 14}" font-size="10" text-anchor="middle">${esc(xl[i] as string)}</text>`));
  svg += `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">${esc(opts.xLabel)}</text>`;
  svg += `<text x="14" y="${(m.t + H - m.b) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${esc(opts.yLabel)}${yLog ? ' (log)' : ''}</text>`;
  series.forEach((s, i) => {
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!yLog || y > 0));
    if (p.length === 0) return;
    svg += `<polyline fill="none" stroke="${color(i)}" stroke-width="1.8" points="${p.map(([x, y]) => `${sx(xm(x)).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`;
    for (const [x, y] of p) svg += `<circle cx="${sx(xm(x)).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color(i)}"><title>${esc(`${s.name}: ${fmt(x)}, ${fmt(y)}`)}</title></circle>`;
  });
  svg += legend(series.map((s) => s.name), W - m.r + 12, m.t);
  return `<figure>${svg}</svg></figure>`;
}

function barChart(c: Extract<Chart, { kind: 'bars' }>): string {
  const bars = c.bars.filter((b) => Number.isFinite(b.value));
  if (bars.length === 0) return `<figure><figcaption>${esc(c.title)}</figcaption><p>no data</p></figure>`;
  const m = { l: 260, r: 90, t: 28, b: 30 };
  const rowH = 18;
  const H = m.t + m.b + bars.length * rowH;
  const hi = Math.max(...bars.map((b) => Math.max(b.value, b.max)));
  const lo = c.log ? Math.max(1e-9, Math.min(...bars.map((b) => Math.min(b.value, b.min))) / 2) : 0;
  const sx = scale(lo, hi * 1.05, m.l, W - m.r, c.log === true);
  let svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">`;
  svg += `<text x="8" y="16" font-size="13" font-weight="bold">${esc(c.title)}</text>`;
  const bt = ticks(c.log ? lo : 0, hi, c.log === true);
  const bl = tickLabels(bt, c.log === true);
  bt.forEach((t, i) => (svg += `<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/><text x="${sx(t)}" y="${H - m.b + 14}" font-size="10" text-anchor="middle">${bl[i]}</text>`));
  bars.forEach((b, i) => {
    const y = m.t + i * rowH;
    svg += `<text x="${m.l - 6}" y="${y + 12}" font-size="11" text-anchor="end">${esc(b.label)}</text>`;
    svg += `<rect x="${m.l}" y="${y + 3}" width="${Math.max(0.5, sx(b.value) - m.l).toFixed(1)}" height="${rowH - 6}" fill="${color(0)}" opacity="0.8"><title>${esc(`${b.label}: ${fmt(b.value)} (${fmt(b.min)}–${fmt(b.max)}) ${c.unit}`)}</title></rect>`;
    if (Number.isFinite(b.min) && Number.isFinite(b.max) && b.max > b.min) svg += `<line x1="${sx(b.min).toFixed(1)}" x2="${sx(b.max).toFixed(1)}" y1="${y + rowH / 2}" y2="${y + rowH / 2}" stroke="#333"/>`;
    svg += `<text x="${(sx(Math.max(b.value, b.max)) + 4).toFixed(1)}" y="${y + 12}" font-size="10">${fmt(b.value)}</text>`;
  });
  svg += `<text x="${W - m.r + 4}" y="${H - m.b + 14}" font-size="10">${esc(c.unit)}${c.log ? ' (log)' : ''}</text>`;
  return `<figure>${svg}</svg></figure>`;
}

function chart(c: Chart): string {
  if (c.kind === 'bars') return barChart(c);
  if (c.kind === 'curve') return lineChart(c.title, c.series, { xLabel: c.xLabel, yLabel: c.yLabel });
  // Percentile plot: x = -log10(1 - p), so p50, p90, p99, p99.9 are evenly spaced.
  const cap = 99.99;
  const xMap = (p: number) => -Math.log10(1 - Math.min(p, cap) / 100);
  return lineChart(c.title, c.series, { xLabel: 'percentile', yLabel: c.unit, xMap, xTicks: [0, 50, 90, 99, 99.9, 99.99], xTickLabel: (p) => (p === 99.99 ? 'p99.99/max' : `p${p}`) });
}

function table(t: Table): string {
  return `<table><caption>${esc(t.title)}</caption><thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function goalsTable(goals: readonly Goal[]): string {
  const rows = goals.map((g) => {
    const state = g.met === null ? 'not measured' : g.met ? 'met' : 'missed';
    return `<tr class="${g.met === null ? 'na' : g.met ? 'met' : 'missed'}"><td>${esc(g.description)}</td><td>${esc(`${g.op} ${fmt(g.target)} ${g.unit}`)}</td><td>${g.measured === null ? '-' : esc(`${fmt(g.measured)} ${g.unit}`)}</td><td>${esc(state)}</td><td><code>${esc(`${g.bench}: ${g.figure}`)}</code></td></tr>`;
  });
  return `<table class="goals"><caption>Goals (reported, not asserted)</caption><thead><tr><th>goal</th><th>target</th><th>measured</th><th></th><th>figure</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The id of a benchmark's section. */
const anchor = (name: string) => `bench-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** What the run measured: one line per benchmark (linked to its section), and the ones that failed. */
function measured(report: SuiteReport): string {
  const rows = Object.entries(report.results).map(
    ([name, r]) => `<li><a href="#${esc(anchor(name))}">${esc(r.title)}</a> <small>(${esc(name)}, ${r.durationS} s, ${Object.keys(r.figures).length} figures)</small>: ${esc(r.description)}</li>`,
  );
  const failed = Object.keys(report.errors).map((name) => `<li>${esc(name)}: failed, nothing measured</li>`);
  const none = rows.length + failed.length === 0 ? '<p>No benchmark ran.</p>' : '';
  return `<section class="measured"><h2>What was measured</h2>${none}<ul>${rows.join('')}${failed.join('')}</ul></section>`;
}

/** The whole report as one HTML document. */
export function renderHtml(report: SuiteReport): string {
  const e = report.env;
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>synod benchmarks ${esc(e.date)}</title><style>
body{font-family:sans-serif;max-width:1000px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.8em 0;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
caption{text-align:left;font-weight:bold;padding:4px 0}tr.met td{background:#e6f4e6}tr.missed td{background:#fbe3e3}tr.na td{color:#888}
figure{margin:1em 0}code{font-size:11px}.note{color:#844}section{border-top:2px solid #ddd;margin-top:1.5em}
</style></head><body>`);
  parts.push(`<h1>synod benchmarks</h1><p>${esc(`${e.date} · node ${e.node} · ${e.cpus} × ${e.cpuModel} · ${e.platform} ${e.arch} · commit ${e.commit ?? 'unknown'} · ${report.options.quick ? 'quick' : 'full'} run${report.options.only ? ` (only ${report.options.only.join(', ')})` : ''} · ${e.durationS} s · load ${e.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} → ${e.loadavgAfter.map((x) => x.toFixed(2)).join(' ')}`)}</p>`);
  // What was measured comes first, so the goals that follow (met or missed) read against it.
  parts.push(measured(report));
  parts.push(`<p>Figures are medians over repeats with their min–max; percentiles are ${esc(e.percentiles)}.</p>`);
  for (const [name, err] of Object.entries(report.errors)) parts.push(`<p class="note">${esc(`${name} failed: ${err.split('\n')[0]}`)}</p>`);
  parts.push(goalsTable(report.goals));
  for (const [name, r] of Object.entries(report.results)) {
    parts.push(`<section id="${esc(anchor(name))}"><h2>${esc(r.title)} <small>(${esc(name)}, ${r.durationS} s)</small></h2><p>${esc(r.description)}</p>`);
    for (const n of r.notes) parts.push(`<p class="note">${esc(n)}</p>`);
    for (const t of r.tables) parts.push(table(t));
    for (const c of r.charts) parts.push(chart(c));
    parts.push(`<details><summary>All ${Object.keys(r.figures).length} figures</summary>${table({ title: '', head: ['figure', 'median (min–max)', 'unit', 'better', 'n'], rows: Object.entries(r.figures).map(([k, f]) => [k, fmtFigure(f), f.unit, f.better, String(f.n)]) })}<p><code>${esc(JSON.stringify(r.config))}</code></p></details></section>`);
  }
  parts.push('</body></html>\n');
  return parts.join('\n');
}
