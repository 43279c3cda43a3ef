/**
 * Sweeps and shrinking of the simulated key-value store: each seed's run is
 * checked for log safety and its history for linearizability. The loops are
 * the ones single-decree runs use ({@link tallySeeds}, {@link shrinkWith});
 * this module says only what a key-value run counts and when it fails.
 */
import { checkLinearizable, type LinearizabilityResult } from '../check/linearizability.js';
import type { Violation } from '../check/types.js';
import { simulateKv, type KvSimOptions, type KvSimResult } from './kvsim.js';
import type { FaultSchedule } from './schedule.js';
import { removableWith, shrinkWith, type ShrinkLimits, type ShrunkRun } from './shrink.js';
import { DEFAULT_KEEP_FAILING, tallySeeds, type SeedOutcome, type SeedTally } from './sweep.js';

/** Default budget of one linearizability check, in ms. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/** Options of a key-value sweep: a seed range plus a run's options but the seed. */
export interface KvSweepOptions extends Omit<KvSimOptions, 'seed' | 'schedule' | 'trace' | 'onTrace' | 'stopOnViolation'> {
  /** First seed of the range. */
  readonly first: number;
  /** Last seed of the range (inclusive). */
  readonly last: number;
  /** Budget of the linearizability check per run. */
  readonly checkTimeoutMs?: number;
  /** How many of the lowest failing seeds to list in {@link KvSweepResult.failingSeeds}. Default 10. */
  readonly keepFailing?: number;
  /** Called after each run with the number of runs done so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** A run that failed: log-safety (or liveness) violations, or a history that is not (or not provably) linearizable. */
export interface KvFailure {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly linearizability: LinearizabilityResult;
}

/** What a key-value sweep found. */
export interface KvSweepResult {
  readonly runs: number;
  readonly ops: number;
  readonly completed: number;
  /** Runs with a log-safety violation. */
  readonly unsafeRuns: number;
  /** Runs that made no progress in their liveness phase (option `liveness`). */
  readonly livenessRuns: number;
  /** Runs whose history is not linearizable. */
  readonly nonLinearizableRuns: number;
  /** Runs whose linearizability check ran out of budget. */
  readonly unknownRuns: number;
  readonly firstFailure: KvFailure | null;
  /** Runs that failed (unsafe, not linearizable, or not shown linearizable). */
  readonly failingRuns: number;
  /** The lowest failing seeds, ascending (at most `keepFailing`). */
  readonly failingSeeds: readonly number[];
  readonly leaderChanges: number;
  /** Reconfigurations that took effect (new views chosen), summed over the runs. */
  readonly reconfigurations: number;
  /** Those of them that changed the proposers. */
  readonly proposerChanges: number;
}

/** What a key-value run counts in a sweep. */
export type KvCounts = { ops: number; completed: number; unsafeRuns: number; livenessRuns: number; nonLinearizableRuns: number; unknownRuns: number; leaderChanges: number; reconfigurations: number; proposerChanges: number };
/** The options of a key-value sweep chunk (no callbacks: chunks cross threads). */
export type KvSweepTask = Omit<KvSweepOptions, 'first' | 'last' | 'onProgress' | 'keepFailing'>;

/** A key-value run and the check of its history. */
export interface KvChecked {
  readonly run: KvSimResult;
  readonly linearizability: LinearizabilityResult;
  /** True when the log is unsafe, the liveness phase made no progress, or the history is not (provably) linearizable. */
  readonly failed: boolean;
}

/** Runs one key-value seed and checks it: the one place that says when a key-value run fails. */
export function checkedKvRun(opts: KvSimOptions, checkTimeoutMs = DEFAULT_CHECK_TIMEOUT_MS): KvChecked {
  const run = simulateKv(opts);
  const linearizability = checkLinearizable(run.history, { timeoutMs: checkTimeoutMs });
  return { run, linearizability, failed: run.violations.length > 0 || !linearizability.ok };
}

/** One key-value seed, as a sweep sees it. */
export function kvSeed(task: KvSweepTask, seed: number): SeedOutcome<KvCounts, Omit<KvFailure, 'seed'>> {
  const { checkTimeoutMs, ...run } = task;
  const { run: r, linearizability: lin, failed } = checkedKvRun({ ...run, seed }, checkTimeoutMs);
  return {
    counts: {
      ops: run.ops,
      completed: r.completed,
      unsafeRuns: r.violations.some((v) => v.kind !== 'liveness') ? 1 : 0,
      livenessRuns: r.violations.some((v) => v.kind === 'liveness') ? 1 : 0,
      nonLinearizableRuns: lin.status === 'not-linearizable' ? 1 : 0,
      unknownRuns: lin.status === 'unknown' ? 1 : 0,
      leaderChanges: r.stats.leaderChanges,
      reconfigurations: r.stats.reconfigurations,
      proposerChanges: r.stats.proposerChanges,
    },
    failure: failed ? { violations: r.violations, linearizability: lin } : null,
  };
}

/** A key-value tally as a {@link KvSweepResult}. */
export function kvSweepResult(t: SeedTally<KvCounts, Omit<KvFailure, 'seed'>>): KvSweepResult {
  return { runs: t.runs, ...t.counts, firstFailure: t.firstFailure ? { seed: t.firstFailure.seed, ...t.firstFailure.failure } : null, failingRuns: t.failingRuns, failingSeeds: t.failingSeeds };
}

/** Runs and checks seeds `first..last`. */
export function sweepKv(opts: KvSweepOptions): KvSweepResult {
  const { first, last, onProgress, keepFailing = DEFAULT_KEEP_FAILING, ...task } = opts;
  return kvSweepResult(tallySeeds(first, last, keepFailing, (seed) => kvSeed(task, seed), onProgress));
}

/** The key-value run to shrink: a run's options (a `schedule` to start from, or none to use the faults the seed draws). */
export type KvShrinkInput = Omit<KvSimOptions, 'trace' | 'onTrace' | 'stopOnViolation'> & { readonly checkTimeoutMs?: number };

/** What a shrink of a key-value run found. */
export interface KvShrinkResult extends Omit<ShrunkRun<unknown>, 'result'> {
  /** The log-safety violations of the shrunk run. */
  readonly violations: readonly Violation[];
  /** The linearizability verdict of the shrunk run's history. */
  readonly linearizability: LinearizabilityResult;
}

/** The step bound of a key-value run given no `maxSteps`. */
function defaultMaxSteps(input: { ops: number; maxSteps?: number }): number {
  return input.maxSteps ?? input.ops * 400;
}

/**
 * Shrinks a failing key-value run (unsafe log, or a history that is not
 * linearizable) to a small fault schedule and step bound with which the seed
 * still fails. Throws if the run does not fail.
 */
export function shrinkKv(input: KvShrinkInput, limits: ShrinkLimits = {}): KvShrinkResult {
  const { schedule, checkTimeoutMs, ...base } = input;
  const { result, ...found } = shrinkWith<KvChecked>(
    {
      seed: input.seed,
      steps: defaultMaxSteps(input),
      ...(schedule ? { schedule } : {}),
      failing: 'violate log safety, linearizability or liveness',
      attempt: (s, steps) => {
        const c = checkedKvRun({ ...base, maxSteps: steps, stopOnViolation: true, ...(s ? { schedule: s } : {}) }, checkTimeoutMs);
        // The step bound is the fault phase's: a liveness phase runs past it, for as long as its own bound allows.
        return { failed: c.failed, schedule: c.run.schedule, steps: c.run.faultSteps, result: c };
      },
    },
    limits,
  );
  return { ...found, violations: result.run.violations, linearizability: result.linearizability };
}

/** The faults of `schedule` whose removal leaves the key-value run failing (empty: 1-minimal). One run per fault. */
export function removableKvFaults(input: KvShrinkInput & { schedule: FaultSchedule }): number[] {
  const { checkTimeoutMs, ...run } = input;
  return removableWith(input.schedule, (schedule) => checkedKvRun({ ...run, schedule, stopOnViolation: true }, checkTimeoutMs).failed);
}
