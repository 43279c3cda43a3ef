/**
 * Shrinking a failing run: given a seed, its options and its fault schedule,
 * find a small schedule (and a low step bound) with which the same seed still
 * fails. {@link shrinkWith} is the search, for either protocol; {@link shrink}
 * shrinks a single-decree run that violates safety (`shrinkKv` a key-value
 * run).
 *
 * 1. Delta debugging (ddmin) over the fault list: try halves, then quarters
 *    and their complements, … keeping any smaller list that still fails.
 * 2. Shorten what remains: crashes with shorter downtimes, partitions that
 *    heal sooner, shorter long delays and earlier duplicates (smallest value
 *    that still fails, by bisection).
 * 3. Remove single faults until none can go; repeat 2–3 until nothing
 *    changes. The result is then 1-minimal: removing any one fault makes the
 *    run safe (within the step bound).
 *
 * After every run that still fails, the schedule becomes the list of faults
 * that actually happened in it (a subset of what was tried: faults whose
 * message was never sent or whose actor was already down drop out) and the
 * step bound becomes the step at which the run stopped — the violation's.
 * Everything is deterministic, and bounded by a number of re-runs.
 */
import type { Violation } from '../check/types.js';
import type { FaultSchedule, ScheduledFault } from './schedule.js';
import { simulate, type SimOptions } from './simulator.js';

/** The run to shrink: a run's options (a `schedule` to start from, or none to use the faults the seed draws). */
export type ShrinkInput = Omit<SimOptions, 'trace' | 'onTrace' | 'stopOnViolation'>;

/** Limits of a shrink. */
export interface ShrinkLimits {
  /** Most simulator runs to spend, the first (reproducing) run included. Default 2,000. */
  readonly maxRuns?: number;
}

/** What a shrink of a single-decree run found. */
export interface ShrinkResult extends Omit<ShrunkRun<unknown>, 'result'> {
  /** The violations of the shrunk run. */
  readonly violations: readonly Violation[];
}

/** Default bound on re-runs. */
export const DEFAULT_SHRINK_RUNS = 2000;

class OutOfRuns extends Error {}

/** One re-run as the search sees it: whether it still fails, the faults that happened, where it stopped, and what the protocol reports of it. */
export interface ShrinkAttempt<R> {
  readonly failed: boolean;
  readonly schedule: FaultSchedule;
  readonly steps: number;
  readonly result: R;
}

/** What {@link shrinkWith} found; `result` is the protocol's report of the shrunk run. */
export interface ShrunkRun<R> {
  readonly seed: number;
  /** The faults of the original failing run. */
  readonly original: FaultSchedule;
  /** Its step count. */
  readonly originalSteps: number;
  /** The shrunk schedule: replaying it with `seed` and `steps` still fails. */
  readonly schedule: FaultSchedule;
  /** The shrunk step bound. */
  readonly steps: number;
  readonly result: R;
  /** Runs used. */
  readonly runs: number;
  readonly maxRuns: number;
  /** True when 1-minimality was verified: every single fault was removed in turn and each removal made the run pass. False if the run budget ran out first. */
  readonly minimal: boolean;
}

/** The run to shrink, for {@link shrinkWith}. */
export interface ShrinkStart<R> {
  readonly seed: number;
  readonly steps: number;
  /** A schedule to start from; none: the faults the seed draws. */
  readonly schedule?: FaultSchedule;
  /** Re-runs the seed with a schedule (undefined: draw faults) and a step bound, stopping at the first failure it can see. */
  readonly attempt: (schedule: FaultSchedule | undefined, steps: number) => ShrinkAttempt<R>;
  /** What failing means, for the error thrown on a run that passes (e.g. `violate safety`). */
  readonly failing: string;
}

/** Shrinks a failing run of any protocol (see the module comment). Throws if the run does not fail. */
export function shrinkWith<R>(input: ShrinkStart<R>, limits: ShrinkLimits = {}): ShrunkRun<R> {
  const maxRuns = limits.maxRuns ?? DEFAULT_SHRINK_RUNS;
  if (!Number.isSafeInteger(maxRuns) || maxRuns < 1) throw new RangeError(`maxRuns must be a positive integer, got ${maxRuns}`);
  let runs = 0;
  const run = (schedule: FaultSchedule | undefined, steps: number): ShrinkAttempt<R> => {
    if (runs >= maxRuns) throw new OutOfRuns();
    runs++;
    return input.attempt(schedule, steps);
  };

  const first = run(input.schedule, input.steps);
  if (!first.failed) throw new Error(`seed ${input.seed} does not ${input.failing} with these options: nothing to shrink`);
  let cur: FaultSchedule = first.schedule;
  let steps = first.steps;
  let result = first.result;

  /** Runs a candidate; if it still fails, adopts it (as the faults that happened) and returns true. */
  const tryCandidate = (candidate: FaultSchedule): boolean => {
    const r = run(candidate, steps);
    if (!r.failed) return false;
    cur = r.schedule;
    steps = Math.min(steps, r.steps);
    result = r.result;
    return true;
  };

  let minimal = false;
  try {
    if (cur.length > 0 && !tryCandidate([])) {
      ddmin();
      for (;;) {
        removeSingles();
        if (!shortenAll()) break;
      }
    }
    minimal = true;
  } catch (err) {
    if (!(err instanceof OutOfRuns)) throw err;
  }
  return { seed: input.seed, original: first.schedule, originalSteps: first.steps, schedule: cur, steps, result, runs, maxRuns, minimal };
  /** Classic ddmin over `cur`. */
  function ddmin(): void {
    let n = 2;
    while (cur.length >= 2) {
      const chunks = split(cur, n);
      let reduced = false;
      for (const c of chunks) {
        if (tryCandidate(c)) {
          n = 2;
          reduced = true;
          break;
        }
      }
      if (!reduced && n > 2) {
        for (let i = 0; i < chunks.length; i++) {
          if (tryCandidate(chunks.filter((_, j) => j !== i).flat())) {
            n = Math.max(n - 1, 2);
            reduced = true;
            break;
          }
        }
      }
      if (!reduced) {
        if (n >= cur.length) return;
        n = Math.min(2 * n, cur.length);
      }
    }
  }

  /** Removes single faults until a full pass removes none. */
  function removeSingles(): void {
    for (let i = 0; i < cur.length; ) {
      if (tryCandidate(cur.filter((_, j) => j !== i))) i = 0;
      else i++;
    }
  }

  /** Shortens every fault that has a duration (the smallest value that still fails, by bisection); true if anything changed. */
  function shortenAll(): boolean {
    let changed = false;
    for (const id of cur.map(identity)) {
      const at = () => cur.findIndex((f) => identity(f) === id);
      const i = at();
      const field = i < 0 ? null : durationOf(cur[i] as ScheduledFault);
      if (!field) continue;
      const [name, value] = field;
      const withValue = (v: number) => {
        const k = at();
        return cur.map((f, j) => (j === k ? ({ ...f, [name]: v } as ScheduledFault) : f));
      };
      let lo = 1;
      let hi = value; // fails
      if (hi <= lo) continue;
      if (tryCandidate(withValue(lo))) {
        changed = true;
        continue;
      }
      while (hi - lo > 1 && at() >= 0) {
        const mid = Math.floor((lo + hi) / 2);
        if (tryCandidate(withValue(mid))) {
          hi = mid;
          changed = true;
        } else {
          lo = mid;
        }
      }
    }
    return changed;
  }
}


/** Shrinks a failing single-decree run: one that violates safety (or liveness, with option `liveness`). Throws if the run does not. */
export function shrink(input: ShrinkInput, limits: ShrinkLimits = {}): ShrinkResult {
  const { schedule, ...base } = input;
  const { result, ...found } = shrinkWith<readonly Violation[]>(
    {
      seed: input.seed,
      steps: input.steps,
      ...(schedule ? { schedule } : {}),
      failing: base.liveness === true ? 'violate safety or liveness' : 'violate safety',
      attempt: (s, steps) => {
        const r = simulate({ ...base, steps, stopOnViolation: true, ...(s ? { schedule: s } : {}) });
        // The step bound is the fault phase's: a liveness phase runs past it, for as long as its own bound allows.
        return { failed: r.violations.length > 0, schedule: r.schedule, steps: r.faultSteps, result: r.violations };
      },
    },
    limits,
  );
  return { ...found, violations: result };
}

/** A fault without its duration: what stays the same while it is shortened. */
function identity(f: ScheduledFault): string {
  const field = durationOf(f);
  return JSON.stringify(field ? { ...f, [field[0]]: null } : f);
}

/** The shortenable duration of a fault, as [field, value]. */
function durationOf(f: ScheduledFault): [string, number] | null {
  switch (f.kind) {
    case 'crash':
      return ['downFor', f.downFor];
    case 'partition':
      return ['healAfter', f.healAfter];
    case 'delay':
      return ['by', f.by];
    case 'dup':
      return ['extra', f.extra];
    case 'drop':
    case 'reconfig':
      return null;
  }
}

/** `items` cut into `n` contiguous chunks of nearly equal size (none empty). */
function split<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((items.length - start) / (n - i));
    if (end > start) out.push(items.slice(start, end));
    start = end;
  }
  return out;
}

/**
 * Checks 1-minimality directly: every schedule with one fault removed, run
 * with the same seed, options and step bound. Returns the indices whose
 * removal still fails (empty = 1-minimal). Costs one run per fault.
 */
export function removableWith(schedule: FaultSchedule, fails: (schedule: FaultSchedule) => boolean): number[] {
  const out: number[] = [];
  schedule.forEach((_, i) => {
    if (fails(schedule.filter((__, j) => j !== i))) out.push(i);
  });
  return out;
}

/** {@link removableWith} for a single-decree run: the faults whose removal still violates safety. */
export function removableFaults(input: ShrinkInput & { schedule: FaultSchedule }): number[] {
  return removableWith(input.schedule, (schedule) => simulate({ ...input, schedule, stopOnViolation: true }).violations.length > 0);
}
