/**
 * Seed sweeps: run a simulator over a range of seeds and summarise.
 * {@link tallySeeds} is the loop for either protocol: it sums what each run
 * counts, keeps the lowest failing seed's failure and lists the lowest failing
 * seeds; each replays (and shrinks) from its seed alone. {@link sweep} sweeps
 * single-decree runs, stopping each at its first violation (it only needs to
 * know that the seed fails).
 */
import type { Violation } from '../check/types.js';
import { simulate, type SimOptions } from './simulator.js';

/** Options of a sweep: a seed range plus everything a single run takes but the seed. */
export interface SweepOptions extends Omit<SimOptions, 'seed' | 'trace' | 'onTrace' | 'stopOnViolation' | 'schedule'> {
  /** First seed of the range. */
  readonly first: number;
  /** Last seed of the range (inclusive). */
  readonly last: number;
  /** How many of the lowest failing seeds to list in {@link SweepResult.failingSeeds}. Default 10. */
  readonly keepFailing?: number;
  /** Called after each run with the number of runs done so far. */
  readonly onProgress?: (done: number, total: number) => void;
  /** A monotonic clock in ms for the rate figures; the sweep itself never reads time. */
  readonly clock?: () => number;
}

/** The first failing seed of a sweep and what it violated. */
export interface FirstViolation {
  readonly seed: number;
  readonly steps: number;
  readonly violations: readonly Violation[];
}

/** What a sweep found. */
export interface SweepResult {
  readonly first: number;
  readonly last: number;
  readonly runs: number;
  /** Runs in which every learner decided. */
  readonly decidedRuns: number;
  readonly violatingRuns: number;
  /** Violating runs whose violation is a `liveness` one (option `liveness`). */
  readonly livenessRuns: number;
  readonly firstViolation: FirstViolation | null;
  /** The lowest failing seeds, ascending (at most `keepFailing`). */
  readonly failingSeeds: readonly number[];
  readonly totalSteps: number;
  readonly elapsedMs: number;
  readonly seedsPerSec: number;
  readonly stepsPerSec: number;
}

/** Default of {@link SweepOptions.keepFailing}. */
export const DEFAULT_KEEP_FAILING = 10;

/** What one seed's run adds to a sweep: numbers to sum, and its failure (null when it passed). */
export interface SeedOutcome<C extends Record<string, number>, F> {
  readonly counts: C;
  readonly failure: F | null;
}

/** A sweep of any protocol: summed counts, failing runs and the lowest failing seeds. */
export interface SeedTally<C extends Record<string, number>, F> {
  readonly first: number;
  readonly last: number;
  readonly runs: number;
  readonly counts: C;
  readonly failingRuns: number;
  /** The lowest failing seed and its failure. */
  readonly firstFailure: { readonly seed: number; readonly failure: F } | null;
  /** The lowest failing seeds, ascending (at most `keepFailing`). */
  readonly failingSeeds: readonly number[];
}

/** Runs `runSeed` on seeds `first..last` (inclusive) and tallies the outcomes. */
export function tallySeeds<C extends Record<string, number>, F>(
  first: number,
  last: number,
  keepFailing: number,
  runSeed: (seed: number) => SeedOutcome<C, F>,
  onProgress?: (done: number, total: number) => void,
): SeedTally<C, F> {
  const total = last - first + 1;
  const parts: SeedTally<C, F>[] = [];
  for (let seed = first; seed <= last; seed++) {
    const o = runSeed(seed);
    parts.push({ first: seed, last: seed, runs: 1, counts: o.counts, failingRuns: o.failure === null ? 0 : 1, firstFailure: o.failure === null ? null : { seed, failure: o.failure }, failingSeeds: o.failure === null ? [] : [seed] });
    onProgress?.(seed - first + 1, total);
  }
  return mergeTallies(first, last, parts, keepFailing);
}

/** Merges tallies of disjoint seed ranges (in any order) into the tally of `first..last`: the same whatever the split. */
export function mergeTallies<C extends Record<string, number>, F>(first: number, last: number, parts: readonly SeedTally<C, F>[], keepFailing: number): SeedTally<C, F> {
  const counts: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.counts)) counts[k] = (counts[k] ?? 0) + v;
  const firsts = parts.map((p) => p.firstFailure).filter((f): f is NonNullable<typeof f> => f !== null);
  return {
    first,
    last,
    runs: parts.reduce((n, p) => n + p.runs, 0),
    counts: counts as C,
    failingRuns: parts.reduce((n, p) => n + p.failingRuns, 0),
    firstFailure: firsts.length === 0 ? null : firsts.reduce((a, b) => (b.seed < a.seed ? b : a)),
    failingSeeds: parts
      .flatMap((p) => p.failingSeeds)
      .sort((a, b) => a - b)
      .slice(0, keepFailing),
  };
}

/** What a single-decree run counts in a sweep. */
export type SynodCounts = { decidedRuns: number; livenessRuns: number; totalSteps: number };
/** A single-decree run's failure. */
export type SynodFailure = Omit<FirstViolation, 'seed'>;
/** The options of a single-decree sweep chunk (no callbacks: chunks cross threads). */
export type SynodSweepTask = Omit<SweepOptions, 'first' | 'last' | 'onProgress' | 'clock' | 'keepFailing'>;

/** One single-decree seed, as a sweep sees it (stopped at its first violation). */
export function synodSeed(task: SynodSweepTask, seed: number): SeedOutcome<SynodCounts, SynodFailure> {
  const r = simulate({ ...task, seed, stopOnViolation: true });
  return { counts: { decidedRuns: r.allDecided ? 1 : 0, livenessRuns: r.violations.some((v) => v.kind === 'liveness') ? 1 : 0, totalSteps: r.steps }, failure: r.violations.length > 0 ? { steps: r.steps, violations: r.violations } : null };
}

/** A single-decree tally as a {@link SweepResult}. */
export function synodSweepResult(t: SeedTally<SynodCounts, SynodFailure>, elapsedMs: number): SweepResult {
  const firstViolation = t.firstFailure ? { seed: t.firstFailure.seed, ...t.firstFailure.failure } : null;
  return withRates({ first: t.first, last: t.last, runs: t.runs, decidedRuns: t.counts.decidedRuns, violatingRuns: t.failingRuns, livenessRuns: t.counts.livenessRuns, firstViolation, failingSeeds: t.failingSeeds, totalSteps: t.counts.totalSteps }, elapsedMs);
}

/** Runs seeds `first..last` (inclusive). */
export function sweep(opts: SweepOptions): SweepResult {
  const { first, last, onProgress, clock, keepFailing = DEFAULT_KEEP_FAILING, ...task } = opts;
  const start = clock?.() ?? 0;
  const t = tallySeeds(first, last, keepFailing, (seed) => synodSeed(task, seed), onProgress);
  return synodSweepResult(t, (clock?.() ?? 0) - start);
}

/** A sweep's counts completed with its timing and rates. */
export function withRates(counts: Omit<SweepResult, 'elapsedMs' | 'seedsPerSec' | 'stepsPerSec'>, elapsedMs: number): SweepResult {
  const perSec = (n: number) => (elapsedMs > 0 ? Math.round((n * 1000) / elapsedMs) : 0);
  return { ...counts, elapsedMs: Math.round(elapsedMs), seedsPerSec: perSec(counts.last - counts.first + 1), stepsPerSec: perSec(counts.totalSteps) };
}
