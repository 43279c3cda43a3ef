/**
 * Seed sweeps: run the simulator over a range of seeds and summarise. A sweep
 * stops each run at its first violation (it only needs to know that the seed
 * fails), keeps the first failing run's violations and lists the lowest
 * failing seeds; each replays (and shrinks) from its seed alone.
 */
import type { Violation } from '../check/types.js';
import { simulate, type SimOptions, type SimResult } from './simulator.js';

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

/** Runs seeds `first..last` (inclusive). */
export function sweep(opts: SweepOptions): SweepResult {
  const { first, last, onProgress, clock, keepFailing = DEFAULT_KEEP_FAILING, ...sim } = opts;
  const total = last - first + 1;
  const start = clock?.() ?? 0;
  let decidedRuns = 0;
  let violatingRuns = 0;
  let totalSteps = 0;
  let firstViolation: FirstViolation | null = null;
  const failingSeeds: number[] = [];
  for (let seed = first; seed <= last; seed++) {
    const r: SimResult = simulate({ ...sim, seed, stopOnViolation: true });
    totalSteps += r.steps;
    if (r.allDecided) decidedRuns++;
    if (r.violations.length > 0) {
      violatingRuns++;
      firstViolation ??= { seed, steps: r.steps, violations: r.violations };
      if (failingSeeds.length < keepFailing) failingSeeds.push(seed);
    }
    onProgress?.(seed - first + 1, total);
  }
  return withRates({ first, last, runs: total, decidedRuns, violatingRuns, firstViolation, failingSeeds, totalSteps }, (clock?.() ?? 0) - start);
}

/** A sweep's counts completed with its timing and rates (also used to merge parallel sweeps). */
export function withRates(counts: Omit<SweepResult, 'elapsedMs' | 'seedsPerSec' | 'stepsPerSec'>, elapsedMs: number): SweepResult {
  const perSec = (n: number) => (elapsedMs > 0 ? Math.round((n * 1000) / elapsedMs) : 0);
  return { ...counts, elapsedMs: Math.round(elapsedMs), seedsPerSec: perSec(counts.last - counts.first + 1), stepsPerSec: perSec(counts.totalSteps) };
}
