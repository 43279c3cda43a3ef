/**
 * The replicated key-value store as a state machine of the log: get (read),
 * put (write) and cas over independent registers. Exactly-once delivery of a
 * retried command is the log's business (its client sessions), not this
 * machine's: it only ever sees each command once.
 */
import type { StateMachine } from '../../core/multipaxos/machine.js';
import type { Command } from '../../core/multipaxos/types.js';
import { canonicalJson, isValue, type Value } from '../../core/value.js';
import { exactFieldsProblem } from '../../core/messages.js';

/** A key-value operation. Reads go through the log, so they are linearizable. */
export type KvOp =
  | { readonly f: 'read'; readonly key: string }
  | { readonly f: 'write'; readonly key: string; readonly value: Value }
  | { readonly f: 'cas'; readonly key: string; readonly from: Value; readonly to: Value };

/** A client command of the key-value store: a log command whose operation is a {@link KvOp}. */
export interface KvCommand extends Command {
  readonly op: KvOp;
}

/** What an operation returned: the value read, or whether a cas swapped. */
export type KvResult = { readonly f: 'read'; readonly value: Value } | { readonly f: 'write' } | { readonly f: 'cas'; readonly ok: boolean };

/** The store's state. Keys absent from `data` hold null. */
export interface KvState {
  readonly data: Map<string, Value>;
}

/** The fields of each kind of op. */
const OP_FIELDS: Readonly<Record<KvOp['f'], readonly string[]>> = { read: ['f', 'key'], write: ['f', 'key', 'value'], cas: ['f', 'key', 'from', 'to'] };

/** Orders keys as strings compare, for stable descriptions. */
function byKey([a]: readonly [string, Value], [b]: readonly [string, Value]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The key-value state machine. */
export const kvMachine: StateMachine<KvState, KvOp, KvResult> = {
  name: 'kv',
  init: () => ({ data: new Map() }),
  apply(kv, op) {
    switch (op.f) {
      case 'read':
        return { f: 'read', value: kv.data.get(op.key) ?? null };
      case 'write':
        kv.data.set(op.key, op.value);
        return { f: 'write' };
      case 'cas': {
        const current = kv.data.get(op.key) ?? null;
        if (canonicalJson(current) !== canonicalJson(op.from)) return { f: 'cas', ok: false };
        kv.data.set(op.key, op.to);
        return { f: 'cas', ok: true };
      }
    }
  },
  readOnly: (op) => op.f === 'read',
  // [key, value] pairs, as snapshots have been stored since the first log schema.
  snapshot: (kv) => [...kv.data] as Value,
  restore: (snapshot) => ({ data: new Map(snapshot as [string, Value][]) }),
  opProblem(x) {
    const o = x as Record<string, unknown>;
    if (typeof o.key !== 'string') return 'no string key';
    const fields = typeof o.f === 'string' && Object.hasOwn(OP_FIELDS, o.f) ? OP_FIELDS[o.f as KvOp['f']] : null;
    if (fields === null || exactFieldsProblem(o, fields, 'an op') !== null) return 'a malformed op';
    if (o.f === 'read' || (o.f === 'write' && isValue(o.value)) || (o.f === 'cas' && isValue(o.from) && isValue(o.to))) return null;
    return 'a malformed op';
  },
  resultProblem(x) {
    if (typeof x !== 'object' || x === null) return 'not an object';
    const r = x as Record<string, unknown>;
    if (r.f === 'write') return exactFieldsProblem(r, ['f'], 'a result');
    if (r.f === 'cas') return typeof r.ok === 'boolean' ? exactFieldsProblem(r, ['f', 'ok'], 'a result') : 'a cas result without ok';
    if (r.f === 'read') return isValue(r.value) ? exactFieldsProblem(r, ['f', 'value'], 'a result') : 'a read result without a value';
    return 'an unknown kind of result';
  },
  snapshotProblem(x) {
    if (!Array.isArray(x)) return 'data and sessions must be arrays';
    for (const pair of x as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isValue(pair[1])) return 'a data entry is not a [key, value] pair';
    }
    return null;
  },
  describeOp: (op) => (op.f === 'read' ? `read ${op.key}` : op.f === 'write' ? `write ${op.key}=${canonicalJson(op.value)}` : `cas ${op.key} ${canonicalJson(op.from)}->${canonicalJson(op.to)}`),
  describeResult: (r) => (r.f === 'read' ? `read=${canonicalJson(r.value)}` : r.f === 'write' ? 'ok' : r.ok ? 'swapped' : 'not swapped'),
  describeState: (kv) => `kv={${[...kv.data.entries()].sort(byKey).map(([k, v]) => `${k}=${canonicalJson(v)}`).join(' ')}}`,
  snapshotSize: (snapshot) => ({ count: (snapshot as unknown[]).length, noun: 'keys' }),
};

/** A result as it travels in a learner's answers (the runtime's `MpTurnReport.answers`): the client knows which operation it asked for. */
export function encodeResult(result: KvResult): Value {
  return result.f === 'read' ? result.value : result.f === 'cas' ? result.ok : 0;
}
