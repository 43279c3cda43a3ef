/**
 * Client histories of the replicated key-value store, in the Jepsen format:
 * one JSON object per line, each an invocation or a completion of a `read`,
 * `write` or `cas` on one key by one client process. The position of an event
 * in the history is its real-time order; the optional `time` field is carried
 * along but never used for ordering.
 *
 * This module parses and prints histories, pairs invocations with their
 * completions into operations (what the linearizability checker consumes),
 * and generates random histories that are linearizable by construction (for
 * tests and benchmarks).
 */
import { canonicalJson, isValue, type Value } from '../core/value.js';
import { Prng } from '../util/prng.js';

/** A client process: Jepsen numbers them, but any string names one too. */
export type ProcessId = number | string;

/** A register's name. Keys `1` and `"1"` are different registers. */
export type Key = string | number;

/** The operations a client can perform on one register. */
export type OpFunction = 'read' | 'write' | 'cas';

/**
 * What an event says: `invoke` starts an operation; `ok` completes it having
 * taken effect; `fail` completes it having definitely not taken effect; `info`
 * means the outcome is unknown (it may take effect at any later time).
 */
export type EventType = 'invoke' | 'ok' | 'fail' | 'info';

/**
 * One line of a history. `value` is `null` on a read's invocation and the
 * value read (`null` = key absent) on its `ok`; the value written for a write;
 * `[from, to]` for a cas.
 *
 * A cas that answered false completes with `type: 'ok'` and `swapped: false`:
 * it happened, and observed a value other than `from` (following Jepsen,
 * `fail` is left for operations that certainly did not happen, so the checker
 * drops them). An `ok` cas without `swapped`, or with `swapped: true`, swapped.
 */
export interface HistoryEvent {
  readonly process: ProcessId;
  readonly type: EventType;
  readonly f: OpFunction;
  readonly key: Key;
  readonly value: Value;
  /** On a cas's `ok` completion only: false when the cas answered false (the register held a value other than `from`). */
  readonly swapped?: boolean;
  readonly time?: number;
  readonly index?: number;
}

/**
 * An invocation paired with its completion. `call` and `return` are positions
 * in the event array (0-based); an operation whose outcome is unknown has
 * `status: 'info'` and `return: Infinity`, because it may take effect at any
 * time after it was invoked. `value` is the value read (for a read), written
 * (for a write) or `[from, to]` (for a cas).
 */
export interface Operation {
  readonly process: ProcessId;
  readonly f: OpFunction;
  readonly key: Key;
  readonly value: Value;
  readonly status: 'ok' | 'info';
  /**
   * Only on an `ok` cas that answered false: it observed a value other than
   * `from` and left the register unchanged.
   */
  readonly swapped?: false;
  readonly call: number;
  readonly return: number;
}

const EVENT_TYPES: readonly string[] = ['invoke', 'ok', 'fail', 'info'];
const FUNCTIONS: readonly string[] = ['read', 'write', 'cas'];

/**
 * Parses a history: one JSON object per line; blank lines are skipped and
 * fields other than those of {@link HistoryEvent} are ignored. Throws an Error
 * naming the (1-based) line of the first malformed event.
 */
export function parseHistory(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new Error(`history line ${i + 1}: not valid JSON (${(err as Error).message}): ${abbreviate(line)}`);
    }
    const problem = eventProblem(raw);
    if (problem !== undefined) throw new Error(`history line ${i + 1}: ${problem}: ${abbreviate(line)}`);
    const r = raw as Record<string, unknown>;
    events.push({
      process: r.process as ProcessId,
      type: r.type as EventType,
      f: r.f as OpFunction,
      key: r.key as Key,
      value: r.value as Value,
      ...(r.swapped !== undefined ? { swapped: r.swapped as boolean } : {}),
      ...(r.time !== undefined ? { time: r.time as number } : {}),
      ...(r.index !== undefined ? { index: r.index as number } : {}),
    });
  }
  return events;
}

/** Why `raw` is not a history event, or undefined when it is one. */
function eventProblem(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'expected a JSON object';
  const r = raw as Record<string, unknown>;
  if (typeof r.process !== 'number' && typeof r.process !== 'string') return '"process" must be a number or a string';
  if (typeof r.type !== 'string' || !EVENT_TYPES.includes(r.type)) return '"type" must be one of "invoke", "ok", "fail", "info"';
  if (typeof r.f !== 'string' || !FUNCTIONS.includes(r.f)) return '"f" must be one of "read", "write", "cas"';
  if (typeof r.key !== 'number' && typeof r.key !== 'string') return '"key" must be a number or a string';
  if (!('value' in r)) return 'missing "value" (use null when there is none)';
  if (!isValue(r.value)) return '"value" must be a JSON value';
  if (r.swapped !== undefined && (typeof r.swapped !== 'boolean' || r.f !== 'cas' || r.type !== 'ok')) return '"swapped" must be true or false, and only on the ok completion of a cas';
  if (r.time !== undefined && (typeof r.time !== 'number' || !Number.isFinite(r.time))) return '"time" must be a number';
  if (r.index !== undefined && !(Number.isSafeInteger(r.index) && (r.index as number) >= 0)) return '"index" must be a non-negative integer';
  return undefined;
}

function abbreviate(line: string): string {
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/**
 * Prints a history as {@link parseHistory} reads it: one JSON object per line,
 * fields in a fixed order, with a trailing newline.
 */
export function formatHistory(events: readonly HistoryEvent[]): string {
  return events
    .map((e) =>
      JSON.stringify({
        process: e.process,
        type: e.type,
        f: e.f,
        key: e.key,
        value: e.value,
        ...(e.swapped !== undefined ? { swapped: e.swapped } : {}),
        ...(e.time !== undefined ? { time: e.time } : {}),
        ...(e.index !== undefined ? { index: e.index } : {}),
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Pairs each invocation with the next completion by the same process and
 * returns the operations a linearizability check must consider, in order of
 * invocation:
 *
 * - `ok` operations, with the value read taken from the completion, and a
 *   cas that answered false (`swapped: false`) marked so;
 * - operations whose outcome is unknown (`info`, or no completion by the end
 *   of the history), as `status: 'info'` with `return: Infinity` — except
 *   reads, which have no effect and so constrain nothing;
 * - `fail`ed operations are left out: they definitely did not happen.
 *
 * After an `info` a Jepsen process never invokes again; if one does, its new
 * operation is simply another operation (the unknown one stays concurrent with
 * everything after it). Throws an Error naming the event (by 0-based position)
 * for a completion with no pending invocation, a second invocation while one
 * is pending, a completion whose `f` or `key` differs from its invocation, or
 * a cas whose value is not `[from, to]`.
 */
export function pairOperations(events: readonly HistoryEvent[]): Operation[] {
  const pending = new Map<ProcessId, number>();
  const ops: Operation[] = [];
  const where = (i: number, e: HistoryEvent) => `history event ${i} (process ${JSON.stringify(e.process)}, ${e.type} ${e.f})`;
  events.forEach((e, i) => {
    const open = pending.get(e.process);
    if (e.type === 'invoke') {
      if (open !== undefined) throw new Error(`${where(i, e)}: invoked while the operation invoked at event ${open} is still pending`);
      if (e.f === 'cas' && !(Array.isArray(e.value) && e.value.length === 2)) {
        throw new Error(`${where(i, e)}: a cas value must be [from, to], got ${canonicalJson(e.value)}`);
      }
      pending.set(e.process, i);
      return;
    }
    if (open === undefined) throw new Error(`${where(i, e)}: completion without a pending invocation`);
    const inv = events[open] as HistoryEvent;
    if (inv.f !== e.f || inv.key !== e.key) {
      throw new Error(`${where(i, e)}: completes the ${inv.f} of key ${JSON.stringify(inv.key)} invoked at event ${open} but names ${e.f} of key ${JSON.stringify(e.key)}`);
    }
    pending.delete(e.process);
    if (e.type === 'fail' || (e.type === 'info' && e.f === 'read')) return;
    const value = e.f === 'read' ? e.value : inv.value;
    const status = e.type === 'ok' ? 'ok' : 'info';
    const unswapped = status === 'ok' && e.f === 'cas' && e.swapped === false ? { swapped: false as const } : {};
    ops.push({ process: e.process, f: e.f, key: e.key, value, status, ...unswapped, call: open, return: status === 'ok' ? i : Infinity });
  });
  for (const open of pending.values()) {
    const inv = events[open] as HistoryEvent;
    if (inv.f !== 'read') ops.push({ process: inv.process, f: inv.f, key: inv.key, value: inv.value, status: 'info', call: open, return: Infinity });
  }
  return ops.sort((a, b) => a.call - b.call);
}

/** One line describing an operation, e.g. `process 2 read -> 5 (events 40-45)`, for reports. */
export function describeOperation(op: Operation): string {
  const what =
    op.f === 'read'
      ? `read -> ${canonicalJson(op.value)}`
      : op.f === 'write'
        ? `write ${canonicalJson(op.value)}`
        : `cas ${canonicalJson((op.value as Value[])[0] ?? null)} -> ${canonicalJson((op.value as Value[])[1] ?? null)}${op.swapped === false ? ' answered false' : ''}`;
  const span = op.status === 'ok' ? `events ${op.call}-${op.return}` : `invoked at event ${op.call}, outcome unknown`;
  return `process ${JSON.stringify(op.process)} ${what} (${span})`;
}

/** Parameters of {@link randomRegisterHistory}. */
export interface RandomHistoryOptions {
  /** Seeds the generator: the same options give the same history. */
  readonly seed: number;
  /** Operations to invoke in total. */
  readonly ops: number;
  /** Client processes (a client whose operation ends in `info` is replaced by a fresh process id). */
  readonly clients: number;
  /** Keys, named `0` to `keys - 1`. */
  readonly keys: number;
  /** At most this many operations are pending at once: 1 gives a sequential history. */
  readonly concurrency: number;
  /** Probability that an operation's completion is `info` rather than its real outcome. */
  readonly infoRate?: number;
  /** Values written and cas'd are integers in [0, values); a small range makes cas succeed often. */
  readonly values?: number;
}

/**
 * A random history that is linearizable by construction: a reference register
 * per key is updated atomically at a random moment between each operation's
 * invocation and completion, and the completion reports what the register
 * did (a cas that found another value answers `ok` with `swapped: false`). An `info` operation either took effect before its `info` event, takes
 * effect at a random later moment, or never does.
 */
export function randomRegisterHistory(options: RandomHistoryOptions): HistoryEvent[] {
  const { seed, ops, clients, keys, concurrency, infoRate = 0, values = 10 } = options;
  if (!(clients >= 1 && keys >= 1 && concurrency >= 1 && ops >= 0 && values >= 1)) {
    throw new RangeError('randomRegisterHistory needs clients, keys, concurrency and values >= 1 and ops >= 0');
  }
  interface Pending {
    readonly process: number;
    readonly f: OpFunction;
    readonly key: number;
    readonly value: Value;
    /** The completion will be `info`, whatever happened. */
    readonly lost: boolean;
    /** What the completion will say, once the operation has taken effect. */
    outcome?: { value: Value; swapped?: false };
  }
  const rng = new Prng(seed);
  const registers: Value[] = new Array<Value>(keys).fill(null);
  const events: HistoryEvent[] = [];
  const idle: number[] = Array.from({ length: clients }, (_, c) => c);
  const pending: Pending[] = [];
  /** Info operations that will still take effect later. */
  const zombies: Pending[] = [];
  let nextProcess = clients;
  let invoked = 0;

  const apply = (op: Pending) => {
    const current = registers[op.key] as Value;
    if (op.f === 'read') op.outcome = { value: current };
    else if (op.f === 'write') {
      registers[op.key] = op.value;
      op.outcome = { value: op.value };
    } else {
      const [from, to] = op.value as [Value, Value];
      const swapped = canonicalJson(current) === canonicalJson(from);
      if (swapped) registers[op.key] = to;
      op.outcome = swapped ? { value: op.value } : { value: op.value, swapped: false };
    }
  };

  while (invoked < ops || pending.length > 0) {
    if (zombies.length > 0 && rng.chance(0.05)) apply(zombies.splice(rng.int(0, zombies.length - 1), 1)[0] as Pending);
    const canInvoke = invoked < ops && pending.length < concurrency && idle.length > 0;
    if (canInvoke && (pending.length === 0 || rng.chance(0.5))) {
      const process = idle.splice(rng.int(0, idle.length - 1), 1)[0] as number;
      const key = rng.int(0, keys - 1);
      const f = rng.pick<OpFunction>(['read', 'read', 'write', 'cas']);
      const value: Value = f === 'read' ? null : f === 'write' ? rng.int(0, values - 1) : [rng.int(0, values - 1), rng.int(0, values - 1)];
      pending.push({ process, f, key, value, lost: rng.chance(infoRate) });
      events.push({ process, type: 'invoke', f, key, value });
      invoked++;
      continue;
    }
    const op = pending[rng.int(0, pending.length - 1)] as Pending;
    if (op.outcome === undefined && !(op.lost && rng.chance(0.3))) {
      apply(op);
      continue;
    }
    if (op.lost) {
      // A Jepsen process never invokes again after an info, so the client
      // carries on under a fresh process id.
      events.push({ process: op.process, type: 'info', f: op.f, key: op.key, value: op.value });
      if (op.outcome === undefined && rng.chance(0.5)) zombies.push(op);
      idle.push(nextProcess++);
    } else {
      const outcome = op.outcome as { value: Value; swapped?: false };
      events.push({ process: op.process, type: 'ok', f: op.f, key: op.key, value: outcome.value, ...(outcome.swapped === false ? { swapped: false } : {}) });
      idle.push(op.process);
    }
    pending.splice(pending.indexOf(op), 1);
  }
  return events;
}
