/**
 * A counter as a state machine of the log: `add n` and `get`, both
 * answering the total. Small on purpose: it shows what a machine must give
 * the log (apply, snapshot, restore, validation, descriptions) and nothing
 * more, and the simulator's tests run it to check that the log applies each
 * command exactly once.
 */
import type { StateMachine } from '../../core/multipaxos/machine.js';
import { exactFieldsProblem } from '../../core/messages.js';
import type { Command } from '../../core/multipaxos/types.js';

/** A counter operation: add `n` (any safe integer, negative too) or read the total. */
export type CounterOp = { readonly f: 'add'; readonly n: number } | { readonly f: 'get' };

/** A counter command: a log command whose operation is a {@link CounterOp}. */
export interface CounterCommand extends Command {
  readonly op: CounterOp;
}

/** The counter's state. */
export interface CounterState {
  total: number;
}

/** The counter state machine. Every operation answers the total after it. */
export const counterMachine: StateMachine<CounterState, CounterOp, number> = {
  name: 'counter',
  init: () => ({ total: 0 }),
  apply(state, op) {
    if (op.f === 'add') state.total += op.n;
    return state.total;
  },
  readOnly: (op) => op.f === 'get',
  snapshot: (state) => state.total,
  restore: (snapshot) => ({ total: snapshot as number }),
  opProblem(x) {
    const o = x as Record<string, unknown>;
    if (o.f === 'get') return exactFieldsProblem(o, ['f'], 'a get') === null ? null : 'a malformed get';
    if (o.f === 'add') return exactFieldsProblem(o, ['f', 'n'], 'an add') === null && Number.isSafeInteger(o.n) ? null : 'a malformed add';
    return 'an op that is neither add nor get';
  },
  resultProblem: (x) => (Number.isSafeInteger(x) ? null : 'not a total'),
  snapshotProblem: (x) => (Number.isSafeInteger(x) ? null : 'a counter snapshot that is not a total'),
  describeOp: (op) => (op.f === 'add' ? `add ${op.n}` : 'get'),
  describeResult: (total) => `total=${total}`,
  describeState: (state) => `counter=${state.total}`,
  snapshotSize: () => ({ count: 1, noun: 'counter' }),
};
