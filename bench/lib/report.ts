/**
 * What a benchmark hands the suite, and what the suite writes: figures
 * (every one a finite number with its unit and which direction is better),
 * charts for the HTML report, tables for the terminal, and the goals.
 */

/** Which way a figure improves. */
export type Better = 'lower' | 'higher';

/** One measured figure: the median over repeats, with their min and max. */
export interface Figure {
  readonly value: number;
  readonly min: number;
  readonly max: number;
  /** How many repeats (or samples, for a single-measurement figure) it summarizes. */
  readonly n: number;
  readonly unit: string;
  readonly better: Better;
}

/** A named line or set of points of a chart. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** Chart data the HTML report draws as inline SVG. */
export type Chart =
  /** Latency distributions: x is the percentile (0..100), y the latency. */
  | { readonly kind: 'percentiles'; readonly title: string; readonly unit: string; readonly series: readonly Series[] }
  /** Latency against throughput: x is commands/s, y latency, one line per configuration. */
  | { readonly kind: 'curve'; readonly title: string; readonly xLabel: string; readonly yLabel: string; readonly series: readonly Series[] }
  /** Horizontal bars with min–max whiskers. */
  | { readonly kind: 'bars'; readonly title: string; readonly unit: string; readonly log?: boolean; readonly bars: ReadonlyArray<{ readonly label: string; readonly value: number; readonly min: number; readonly max: number }> };

/** A table for the terminal and the HTML report (cells already formatted). */
export interface Table {
  readonly title: string;
  readonly head: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

/** What one benchmark returns. */
export interface BenchOutput {
  /** The configuration it ran with (counts, durations, repeats). */
  readonly config: Record<string, unknown>;
  readonly figures: Record<string, Figure>;
  readonly charts: readonly Chart[];
  readonly tables: readonly Table[];
  /** Caveats: options missing from this build, measurements that failed and were retried, and so on. */
  readonly notes: readonly string[];
}

/** A benchmark's entry in the report. */
export interface BenchResult extends BenchOutput {
  readonly title: string;
  readonly description: string;
  readonly durationS: number;
}

/** A goal from the issue: reported, never asserted. */
export interface Goal {
  readonly id: string;
  readonly description: string;
  readonly bench: string;
  readonly figure: string;
  readonly op: '>=' | '<=';
  readonly target: number;
  readonly unit: string;
  /** Null when the benchmark did not run (or lacks the figure). */
  readonly measured: number | null;
  readonly met: boolean | null;
}

/** Where the run happened. */
export interface Env {
  readonly node: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly platform: string;
  readonly arch: string;
  /** `git rev-parse HEAD` of the package, or null outside a git checkout. */
  readonly commit: string | null;
  /** When the run started (ISO 8601). */
  readonly date: string;
  readonly totalMemGiB: number;
  readonly loadavgBefore: readonly number[];
  readonly loadavgAfter: readonly number[];
  readonly durationS: number;
  readonly percentiles: string;
}

/** The one object `--json` writes. */
export interface SuiteReport {
  readonly env: Env;
  readonly options: { readonly quick: boolean; readonly only: readonly string[] | null; readonly repeats: number | null };
  readonly results: Record<string, BenchResult>;
  readonly goals: readonly Goal[];
  /** Benchmarks that threw, by name. */
  readonly errors: Record<string, string>;
}

/** Builds a figure from per-repeat values. */
export function figure(values: readonly number[], unit: string, better: Better): Figure {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length === 0 ? Number.NaN : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  return { value: median, min: s.length ? (s[0] as number) : Number.NaN, max: s.length ? (s[s.length - 1] as number) : Number.NaN, n: s.length, unit, better };
}

/** A number for a table: 3 significant digits, k/M for large ones. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

/**
 * Labels for an axis's tick values, as precise as the ticks are apart and no
 * more: 0, 0.5, 1, 1.5 (not 0.000, 0.500, 1.00, 1.50), 0.0002 and 0.0004 (not
 * 0.000 twice), 0, 5k, 10k. Evenly spaced ticks share one unit suffix (the
 * largest decides it), ticks of a log axis (1, 2, 5, 10, ...) each have
 * their own.
 */
export function tickLabels(values: readonly number[], log = false): string[] {
  if (log) return values.map((v) => tickLabels([v])[0] as string);
  const finite = values.filter(Number.isFinite);
  const top = Math.max(0, ...finite.map(Math.abs));
  const [scale, suffix] = top >= 1e6 ? [1e6, 'M'] : top >= 1e4 ? [1e3, 'k'] : [1, ''];
  // The fewest decimals that write every tick exactly.
  const exact = (d: number) => finite.every((v) => Math.abs(Number((v / scale).toFixed(d)) - v / scale) <= 1e-9 * Math.max(1, Math.abs(v / scale)));
  let decimals = 0;
  while (decimals < 12 && !exact(decimals)) decimals++;
  return values.map((v) => {
    if (!Number.isFinite(v)) return '-';
    // Number() drops the trailing zeros (1.50 -> 1.5) and the sign of -0.
    return `${Number((v / scale).toFixed(decimals))}${v === 0 ? '' : suffix}`;
  });
}

/** "median (min–max)" of a figure. */
export function fmtFigure(f: Figure | undefined): string {
  if (!f) return '-';
  return f.n > 1 && f.min !== f.max ? `${fmt(f.value)} (${fmt(f.min)}–${fmt(f.max)})` : fmt(f.value);
}

/** A plain-text table. */
export function renderTable(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [t.title, line(t.head), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line)].join('\n');
}
