/**
 * Statistics for the benchmarks. Percentiles are nearest-rank over the
 * sorted samples of one measurement (at most some tens of thousands of
 * samples, so sorting is cheap; no histogram library is used). Over repeats,
 * a figure is the median of the per-repeat values, with their min and max.
 */

/** Nearest-rank percentile `p` (0..1) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}

/** Median of `xs` (mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Median and range of one figure over repeats. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many values (repeats) it summarizes. */
  readonly n: number;
}

/** The median, min and max of `xs` (NaN for all three when empty). */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** The percentiles the reports show of a latency distribution. */
export const PERCENTILES = [0.5, 0.9, 0.99, 0.999] as const;

/** Percentiles of one measurement's samples. */
export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Sorts a copy of `samples` and summarizes it. */
export function summarize(samples: ArrayLike<number>): Summary {
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of s) sum += x;
  return {
    count: s.length,
    mean: s.length > 0 ? sum / s.length : Number.NaN,
    min: s.length > 0 ? (s[0] as number) : Number.NaN,
    p50: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    p999: percentile(s, 0.999),
    max: s.length > 0 ? (s[s.length - 1] as number) : Number.NaN,
  };
}

/**
 * Points of a percentile plot of ascending `sorted`: [percentile (0..100),
 * value] at log-spaced ranks up to p99.9 (or the max), at most ~40 points.
 */
export function percentileCurve(sorted: ArrayLike<number>): Array<[number, number]> {
  if (sorted.length === 0) return [];
  const ps = [0, 10, 25, 50, 75, 90, 95, 98, 99, 99.5, 99.9, 99.95, 99.99, 100];
  const out: Array<[number, number]> = [];
  for (const p of ps) {
    // A percentile finer than the sample count can resolve adds nothing.
    if (p > 99 && p < 100 && sorted.length < 100 / (100 - p)) continue;
    out.push([p, p === 100 ? (sorted[sorted.length - 1] as number) : percentile(sorted, p / 100)]);
  }
  return out;
}

/**
 * The longest gap between consecutive times of `acks` (ms, any order) that
 * overlaps the interval [`from`, `to`]: how long clients went without an
 * acknowledged write while something happened (a reconfiguration). The
 * gaps that span `from` and `to` count, so a stall that began before the
 * event or ended after it is seen whole. NaN when no two acknowledgements
 * surround any part of it.
 */
export function longestGap(acks: readonly number[], from: number, to: number): number {
  const sorted = [...acks].sort((x, y) => x - y);
  let longest = Number.NaN;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i] as number;
    const b = sorted[i + 1] as number;
    if (b >= from && a <= to && !(b - a <= longest)) longest = b - a;
  }
  return longest;
}
