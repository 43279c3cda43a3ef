/**
 * The trace of one simulated run — single-decree Paxos or the Multi-Paxos
 * key-value store: the simulator's structured events, given vector clocks by
 * a {@link TraceBuilder}. Deterministic: the same options give the same
 * trace, byte for byte. It lives with the simulator, which it drives; the
 * trace layer knows only the trace format, not who produces it.
 */
import { membership, allActors } from '../core/ids.js';
import { TraceBuilder } from '../trace/builder.js';
import type { Trace } from '../trace/types.js';
import { simulateKv, type KvSimOptions, type KvSimResult } from './kvsim.js';
import { simulate, type SimOptions, type SimResult } from './simulator.js';

/** A simulated run and its trace. */
export interface SimTrace {
  readonly trace: Trace;
  readonly result: SimResult;
}

/** Runs `opts` in the simulator and records its trace (lanes p1.., a1.., l1.., then `env` if a partition happened). */
export function traceSimulation(opts: Omit<SimOptions, 'onTrace'>): SimTrace {
  const builder = new TraceBuilder();
  for (const id of allActors(membership(opts.proposers, opts.acceptors, opts.learners))) builder.lane(id);
  const result = simulate({ ...opts, onTrace: (e) => builder.add(e) });
  const source = {
    kind: 'sim' as const,
    protocol: 'synod',
    seed: opts.seed,
    steps: opts.steps,
    proposers: opts.proposers,
    acceptors: opts.acceptors,
    learners: opts.learners,
    faults: opts.faults ?? {},
    bug: opts.bug ?? null,
    ...(opts.stagger !== undefined ? { stagger: opts.stagger } : {}),
    ...(opts.requestEveryMs !== undefined ? { requestEveryMs: opts.requestEveryMs } : {}),
    violations: result.violations.length,
    decided: result.decided,
  };
  return { trace: builder.trace(source), result };
}

/**
 * Steps {@link traceUntilDecided} keeps after every learner decided: enough
 * for the decision to reach the proposers and the in-flight replies to land,
 * few enough that the fitted picture is the decision, not a wall of retries.
 */
export const STEPS_AFTER_DECISION = 50;

/** A run cut short soon after it decided, and where it was cut. */
export interface DecidedSimTrace extends SimTrace {
  /** The step at which the last learner first decided, or null when some learner never did (the run was not cut). */
  readonly decidedAt: number | null;
  /** True when the run stopped before `opts.steps` because every learner had decided. */
  readonly cut: boolean;
}

/**
 * Like {@link traceSimulation}, but ends the run `after` steps after every
 * learner decided (or after the last safety violation, when that comes
 * later), since what follows is retries of a settled question. The trace is
 * exactly the run `opts` makes with `steps` lowered to that bound (its source
 * says so), so it replays with `synod sim --steps`. A run in which some
 * learner never decides is traced whole.
 */
export function traceUntilDecided(opts: Omit<SimOptions, 'onTrace'>, after: number = STEPS_AFTER_DECISION): DecidedSimTrace {
  // A first, untraced run finds the step; the simulator is deterministic, so
  // the traced run with the lower bound is the same run, only shorter.
  const whole = simulate(opts);
  const decidedAt = lastFirstDecision(whole);
  if (decidedAt === null) return { ...traceSimulation(opts), decidedAt, cut: false };
  const lastViolation = Math.max(0, ...whole.violations.map((v) => v.step));
  const bound = Math.max(decidedAt, lastViolation) + after;
  if (bound >= whole.steps) return { ...traceSimulation(opts), decidedAt, cut: false };
  const { trace, result } = traceSimulation({ ...opts, steps: bound });
  const source = { ...trace.source, stopped: { stepsAfterDecision: after, decidedAt, stepLimit: opts.steps } };
  return { trace: { ...trace, source }, result, decidedAt, cut: true };
}

/** The step at which the last learner decided for the first time; null unless every learner decided. */
function lastFirstDecision(result: SimResult): number | null {
  if (!result.allDecided) return null;
  let last = 0;
  for (const learner of Object.keys(result.decided)) {
    // The simulator notes each learner's first decision as "<learner> decided <proposal>".
    const first = result.timeline.find((t) => t.text.startsWith(`${learner} decided `));
    if (first === undefined) return null;
    last = Math.max(last, first.step);
  }
  return last;
}

/** A simulated key-value run and its trace. */
export interface KvSimTrace {
  readonly trace: Trace;
  readonly result: KvSimResult;
}

/** Runs the Multi-Paxos key-value store in the simulator and records its trace (lanes p1.., a1.., l1.., then `env`). */
export function traceKvSimulation(opts: Omit<KvSimOptions, 'onTrace'>): KvSimTrace {
  const builder = new TraceBuilder();
  for (const id of allActors(membership(opts.proposers ?? 3, opts.acceptors ?? 3, opts.learners ?? 2))) builder.lane(id);
  const result = simulateKv({ ...opts, onTrace: (e) => builder.add(e) });
  const { trace: _lines, ...options } = opts;
  const source = { kind: 'sim' as const, protocol: 'kv', ...options, violations: result.violations.length, completed: result.completed, unknown: result.unknown };
  return { trace: builder.trace(source), result };
}
