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
