/**
 * Sweeps of the simulated key-value store: each seed's run is checked for log
 * safety and its history for linearizability.
 */
import { checkLinearizable, type LinearizabilityResult } from '../check/linearizability.js';
import type { Violation } from '../check/types.js';
import { simulateKv, type KvSimOptions } from './kvsim.js';

/** Options of a key-value sweep: a seed range plus a run's options but the seed. */
export interface KvSweepOptions extends Omit<KvSimOptions, 'seed'> {
  /** First seed of the range. */
  readonly first: number;
  /** Last seed of the range (inclusive). */
  readonly last: number;
  /** Budget of the linearizability check per run. */
  readonly checkTimeoutMs?: number;
  /** Called after each run with the number of runs done so far. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** A run that failed: log-safety violations, or a history that is not (or not provably) linearizable. */
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
  /** Runs whose history is not linearizable. */
  readonly nonLinearizableRuns: number;
  /** Runs whose linearizability check ran out of budget. */
  readonly unknownRuns: number;
  readonly firstFailure: KvFailure | null;
  readonly leaderChanges: number;
}

/** Runs and checks seeds `first..last`. */
export function sweepKv(opts: KvSweepOptions): KvSweepResult {
  const { first, last, checkTimeoutMs, onProgress, ...run } = opts;
  let ops = 0;
  let completed = 0;
  let unsafeRuns = 0;
  let nonLinearizableRuns = 0;
  let unknownRuns = 0;
  let leaderChanges = 0;
  let firstFailure: KvFailure | null = null;
  for (let seed = first; seed <= last; seed++) {
    const r = simulateKv({ ...run, seed });
    const lin = checkLinearizable(r.history, { timeoutMs: checkTimeoutMs ?? 10_000 });
    ops += run.ops;
    completed += r.completed;
    leaderChanges += r.stats.leaderChanges;
    if (r.violations.length > 0) unsafeRuns++;
    if (lin.status === 'not-linearizable') nonLinearizableRuns++;
    if (lin.status === 'unknown') unknownRuns++;
    if ((r.violations.length > 0 || !lin.ok) && firstFailure === null) firstFailure = { seed, violations: r.violations, linearizability: lin };
    onProgress?.(seed - first + 1, last - first + 1);
  }
  return { runs: last - first + 1, ops, completed, unsafeRuns, nonLinearizableRuns, unknownRuns, firstFailure, leaderChanges };
}
