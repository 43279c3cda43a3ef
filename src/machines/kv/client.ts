/**
 * The key-value store as its clients see it, beyond the state machine: how a
 * result travels in a learner's answer and what the caller gets back from it,
 * how errors name an operation, and how an operation is written in a Jepsen
 * history. `createKvCluster`'s client (src/runtime/client/log-client.ts, as a
 * ClientMachine) and the simulator's clients (src/sim/kvsim.ts) both use it.
 * Pure, like the machine.
 */
import type { Value } from '../../core/value.js';
import { encodeResult, kvMachine, type KvOp } from './machine.js';

/** What a caller of the key-value store gets: the value read, whether a cas swapped, nothing for a write. */
export type KvAnswer = Value | boolean | undefined;

/** The Jepsen fields of a key-value operation (src/check/history.ts). */
export interface KvJepsenFields {
  readonly f: KvOp['f'];
  readonly key: string;
  readonly value: Value;
  readonly swapped?: false;
}

/** What an operation carries in the history: nothing for a read, the value written, `[from, to]` for a cas. */
function carried(op: KvOp): Value {
  return op.f === 'read' ? null : op.f === 'write' ? op.value : [op.from, op.to];
}

/** How key-value operations are written as Jepsen events. */
export const kvJepsen = {
  /** An invocation, and an outcome that is unknown (`info`). */
  invoked: (op: KvOp): KvJepsenFields => ({ f: op.f, key: op.key, value: carried(op) }),
  /** An `ok` completion. A cas that answered false happened (it saw another value): ok, with `swapped: false`, not fail. */
  completed(op: KvOp, answer: KvAnswer): KvJepsenFields {
    if (op.f === 'read') return { f: op.f, key: op.key, value: answer as Value };
    return { f: op.f, key: op.key, value: carried(op), ...(op.f === 'cas' && answer !== true ? { swapped: false as const } : {}) };
  },
};

/** The key-value machine, the wire form of its results, and how its clients name and record its operations. */
export const kvClient = {
  machine: kvMachine,
  encodeResult,
  /** The inverse of {@link encodeResult}, given the operation: the value for a read, the swapped flag for a cas, nothing for a write. */
  decodeResult: (op: KvOp, encoded: Value): KvAnswer => (op.f === 'read' ? encoded : op.f === 'cas' ? encoded === true : undefined),
  label: (op: KvOp): string => `${op.f} ${JSON.stringify(op.key)}`,
  history: kvJepsen,
};
