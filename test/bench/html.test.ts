// The HTML bench report, rendered from a made-up report (no benchmark runs):
// it says what was measured before the goals, and its axes are labelled as
// precisely as their ticks are apart.
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../bench/lib/html.js';
import { figure, tickLabels, type Goal, type SuiteReport } from '../../bench/lib/report.js';

const goal = (over: Partial<Goal>): Goal => ({ id: 'g', description: 'a goal', bench: 'fast', figure: 'lat/p50', op: '<=', target: 1, unit: 'ms', measured: 2, met: false, ...over });

const report: SuiteReport = {
  env: { node: 'v20.19.0', cpuModel: 'cpu', cpus: 2, platform: 'linux', arch: 'x64', commit: null, date: '2026-01-01T00:00:00.000Z', totalMemGiB: 4, loadavgBefore: [0, 0, 0], loadavgAfter: [0, 0, 0], durationS: 3, percentiles: 'exact' },
  options: { quick: true, only: null, repeats: 1 },
  results: {
    fast: {
      title: 'Tiny latencies',
      description: 'how long a step takes, in fractions of a millisecond',
      durationS: 1,
      config: {},
      figures: { 'lat/p50': figure([0.0004], 'ms', 'lower') },
      notes: [],
      tables: [],
      charts: [
        { kind: 'percentiles', title: 'step latency', unit: 'ms', series: [{ name: 'step', points: [[50, 0.0002], [90, 0.0005], [99, 0.0009]] }] },
        { kind: 'bars', title: 'per step', unit: 'ms', bars: [{ label: 'a', value: 0.5, min: 0.4, max: 0.6 }, { label: 'b', value: 2.4, min: 2.2, max: 2.5 }] },
      ],
    },
    wide: {
      title: 'Throughput sweep',
      description: 'latency against offered load',
      durationS: 2,
      config: {},
      figures: {},
      notes: [],
      tables: [],
      charts: [{ kind: 'curve', title: 'latency vs load', xLabel: 'commands/s', yLabel: 'ms', series: [{ name: 'x', points: [[0, 1], [12_000, 2], [24_000, 4]] }] }],
    },
  },
  goals: [goal({ description: 'steps are quick' }), goal({ id: 'h', description: 'unmeasured', measured: null, met: null })],
  errors: { broken: 'Error: it broke\n    at somewhere' },
};

/** The SVG <text> labels of one chart (by its title) with this anchor and size. */
function labels(html: string, title: string, anchor: 'end' | 'middle'): string[] {
  const start = html.indexOf(`font-weight="bold">${title}</text>`);
  expect(start, title).toBeGreaterThan(0);
  const svg = html.slice(start, html.indexOf('</svg>', start));
  return [...svg.matchAll(new RegExp(`<text x="[^"]*" y="[^"]*" font-size="10" text-anchor="${anchor}">([^<]*)</text>`, 'g'))].map((m) => m[1] as string);
}

describe('the HTML bench report', () => {
  const html = renderHtml(report);

  it('says what was measured, then the goals, then each benchmark in detail', () => {
    const at = (text: string) => {
      const i = html.indexOf(text);
      expect(i, text).toBeGreaterThan(0);
      return i;
    };
    const measured = at('<h2>What was measured</h2>');
    expect(measured).toBeLessThan(at('how long a step takes, in fractions of a millisecond'));
    expect(at('latency against offered load')).toBeLessThan(at('Goals (reported, not asserted)'));
    expect(at('broken: failed, nothing measured')).toBeLessThan(at('Goals (reported, not asserted)'));
    expect(at('Goals (reported, not asserted)')).toBeLessThan(at('<section id="bench-fast"><h2>Tiny latencies'));
    // The list links to the sections.
    expect(html).toContain('<a href="#bench-fast">Tiny latencies</a>');
    expect(html).toContain('<section id="bench-wide">');
    expect(html).toMatch(/<tr class="missed"><td>steps are quick<\/td>/);
  });

  it('labels ticks as precisely as they are apart: no 0.000, no two alike', () => {
    const y = labels(html, 'step latency', 'end');
    expect(y).toEqual(['0', '0.0002', '0.0004', '0.0006', '0.0008']);
    const bars = labels(html, 'per step', 'middle');
    expect(bars).toEqual(['0', '0.5', '1', '1.5', '2', '2.5']);
    const load = labels(html, 'latency vs load', 'middle');
    expect(load).toEqual(['0', '5k', '10k', '15k', '20k']);
    // The percentile axis keeps its own names.
    expect(labels(html, 'step latency', 'middle')).toEqual(['p0', 'p50', 'p90', 'p99', 'p99.9', 'p99.99/max']);
    for (const l of [...y, ...bars, ...load]) expect(l).not.toMatch(/^0\.0+$/);
  });
});

describe('tickLabels', () => {
  it.each([
    [[0, 0.5, 1, 1.5, 2], false, ['0', '0.5', '1', '1.5', '2']],
    [[0, 0.0002, 0.0004], false, ['0', '0.0002', '0.0004']],
    [[0, 20, 40, 60], false, ['0', '20', '40', '60']],
    [[0, 5000, 10_000, 15_000], false, ['0', '5k', '10k', '15k']],
    [[0, 2_500_000, 5_000_000], false, ['0', '2.5M', '5M']],
    [[-1, -0.5, 0, 0.5], false, ['-1', '-0.5', '0', '0.5']],
    [[0.001, 0.002, 0.005, 0.01, 1, 20, 50_000], true, ['0.001', '0.002', '0.005', '0.01', '1', '20', '50k']],
  ])('%j (log: %s) -> %j', (values, log, want) => {
    expect(tickLabels(values, log)).toEqual(want);
  });
});
