/**
 * Multi-Paxos data in the form both the log stores and the wire carries:
 * batches of commands as JSON text, encoded at most once per batch object
 * and remembered when decoded, and the shape checks of batches and state
 * machine snapshots. The log (log.ts) writes a batch as the very text it
 * arrived in and checks what it reads back; the worker protocol
 * (../mpwire.ts) sends that text and checks what a peer sent. One cache and
 * one set of checks serve both, so the two can never disagree on what a
 * well-formed batch is.
 */
import type { Batch, KvResult } from '../../core/multipaxos/types.js';
import { isValue } from '../../core/value.js';

/** JSON texts of batches already encoded or decoded in this thread, by batch object. */
const batchTexts = new WeakMap<Batch, string>();

/**
 * The JSON text of `batch`, encoded at most once per batch object: a batch
 * is immutable once a core has made it (cores never change a batch after
 * putting it in a message or a record), and one batch object is sent to
 * every acceptor, re-sent, committed and logged.
 */
export function batchJson(batch: Batch): string {
  let text = batchTexts.get(batch);
  if (text === undefined) {
    text = JSON.stringify(batch);
    batchTexts.set(batch, text);
  }
  return text;
}

/** A slot number (or slot count): a safe integer >= 0. */
export function isSlot(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

/**
 * Why `x` is not a state machine snapshot — `upTo`, `data` as [key, value]
 * pairs and `sessions` as [clientId, {seq, result}] pairs — or null when it
 * is one. Checked in place, like batches.
 */
export function snapshotProblem(x: Record<string, unknown>): string | null {
  if (!isSlot(x.upTo)) return 'bad upTo';
  if (!Array.isArray(x.data) || !Array.isArray(x.sessions)) return 'data and sessions must be arrays';
  for (const pair of x.data as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isValue(pair[1])) return 'a data entry is not a [key, value] pair';
  }
  for (const pair of x.sessions as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'object' || pair[1] === null) return 'a session is not a [clientId, {seq, result}] pair';
    const { seq, result } = pair[1] as Record<string, unknown>;
    if (!Number.isSafeInteger(seq) || (seq as number) < 0 || !isResult(result)) return `session ${pair[0]} is malformed`;
  }
  return null;
}

/** True when `x` is a well-formed operation result. */
function isResult(x: unknown): x is KvResult {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return r.f === 'write' || (r.f === 'cas' && typeof r.ok === 'boolean') || (r.f === 'read' && 'value' in r && isValue(r.value));
}

/**
 * The batch whose JSON text is `x`, or why it is not one. The text is
 * remembered for the batch, so forwarding or logging it does not encode it
 * again.
 */
export function parseBatch(x: unknown): Batch | string {
  if (typeof x !== 'string') return 'a batch is not JSON text';
  let parsed: unknown;
  try {
    parsed = JSON.parse(x);
  } catch {
    return 'a batch is not valid JSON';
  }
  const problem = batchProblem(parsed);
  if (problem !== null) return problem;
  batchTexts.set(parsed as Batch, x);
  return parsed as Batch;
}

/**
 * Why `x` is not a batch of well-formed commands, or null when it is one.
 * Commands are checked in place, not copied: a batch is what JSON.parse just
 * made, so it holds only plain data, and copying every command of every
 * batch at every hop would double the allocation on the data path. A field a
 * peer added to a command travels with it but is never read: the state
 * machine reads only clientId, seq and the op's f, key, value, from and to.
 */
export function batchProblem(x: unknown): string | null {
  if (!Array.isArray(x)) return 'the batch is not an array';
  for (const c of x as unknown[]) {
    const problem = commandProblem(c);
    if (problem !== null) return problem;
  }
  return null;
}

/** Why `x` is not a well-formed command, or null when it is one. */
function commandProblem(x: unknown): string | null {
  if (typeof x !== 'object' || x === null) return 'a command is not an object';
  const { clientId, seq, op } = x as Record<string, unknown>;
  if (typeof clientId !== 'string' || clientId.length === 0) return 'a command has no clientId';
  if (!Number.isSafeInteger(seq) || (seq as number) < 0) return `command of ${clientId} has a bad seq`;
  if (typeof op !== 'object' || op === null) return `command ${clientId}#${String(seq)} has no op`;
  const o = op as Record<string, unknown>;
  if (typeof o.key !== 'string') return `command ${clientId}#${String(seq)} has no string key`;
  if (o.f === 'read' || (o.f === 'write' && 'value' in o && isValue(o.value)) || (o.f === 'cas' && 'from' in o && 'to' in o && isValue(o.from) && isValue(o.to))) return null;
  return `command ${clientId}#${String(seq)} has a malformed op`;
}
