/**
 * The wire form of Multi-Paxos messages between actors, and the validation
 * of everything that arrives from a peer, which is untrusted. Pure: used by
 * every host (the worker entry, the simulated worlds) through the protocol
 * description in src/host/multipaxos.ts, and by the record log for the
 * batches it stores.
 *
 * A batch of commands travels between actors as JSON text, encoded once per
 * batch object and cached (`batchJson`): the leader encodes a batch
 * once for its accepts to every acceptor, its retries and its commits; an
 * acceptor writes the text it received to its log as it is. A string clones
 * as a memcpy, and JSON.parse on the receiving side costs about half of what
 * deserialising the same objects does.
 */
import { isBallot, type Ballot } from '../ballot.js';
import type { ActorId } from '../ids.js';
import type { AcceptedEntry, Batch, KvResult, MpMessage, MpSnapshot, SlotEntry } from './types.js';
import { isValue, type Value } from '../value.js';

/** A result as it travels in a learner's answers (the runtime's `MpTurnReport.answers`): the client knows which operation it asked for. */
export function encodeResult(result: KvResult): Value {
  return result.f === 'read' ? result.value : result.f === 'cas' ? result.ok : 0;
}

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

/**
 * The wire form of a message between actors: the message with the value of
 * every slot entry replaced by its batch's JSON text. Other messages travel
 * as they are. `validateMpMessage` reads it back.
 */
export function toWire(msg: MpMessage): unknown {
  switch (msg.type) {
    case 'accept':
    case 'commit':
      return { ...msg, entries: msg.entries.map((e) => ({ slot: e.slot, value: batchJson(e.value) })) };
    case 'promise':
      return { ...msg, entries: msg.entries.map((e) => ({ slot: e.slot, ballot: e.ballot, value: batchJson(e.value) })) };
    default:
      return msg;
  }
}

/** The result of `validateMpMessage`: the message, or why it was refused. */
export type MpValidated = { readonly ok: true; readonly msg: MpMessage } | { readonly ok: false; readonly reason: string };

/**
 * Checks that untrusted input is an `MpMessage` in wire form (see
 * `toWire`) and returns a fresh copy of its envelope holding only the
 * fields the protocol knows (commands inside batches are checked in place,
 * see `batchProblem`). It checks shape only (types, safe-integer slots
 * and rounds, JSON values); whether a ballot is acceptable is the acceptor's
 * guard to decide.
 */
export function validateMpMessage(x: unknown): MpValidated {
  if (typeof x !== 'object' || x === null) return refuse('not an object');
  const m = x as Record<string, unknown>;
  const from = m.from;
  if (typeof from !== 'string' || from.length === 0) return refuse('missing sender');
  const ballot = m.ballot as Ballot;
  const needBallot = BALLOTED.has(m.type);
  if (needBallot && !isBallot(ballot)) return refuse(`bad ballot in ${String(m.type)}`);
  const b = needBallot ? { round: ballot.round, proposer: ballot.proposer } : null;
  switch (m.type) {
    case 'prevote':
    case 'prevote-ok':
      return { ok: true, msg: { type: m.type, from, ballot: b as Ballot } };
    case 'prepare':
      if (!isSlot(m.fromSlot)) return refuse('bad fromSlot');
      return { ok: true, msg: { type: 'prepare', from, ballot: b as Ballot, fromSlot: m.fromSlot } };
    case 'promise': {
      const entries = acceptedEntries(m.entries);
      if (typeof entries === 'string') return refuse(`promise: ${entries}`);
      if (!isSlot(m.trimmed)) return refuse('promise: bad trimmed');
      return { ok: true, msg: { type: 'promise', from, ballot: b as Ballot, entries, trimmed: m.trimmed } };
    }
    case 'nack':
      if (!isBallot(m.promised)) return refuse('bad promised ballot');
      return { ok: true, msg: { type: 'nack', from, ballot: b as Ballot, promised: { round: m.promised.round, proposer: m.promised.proposer } } };
    case 'accept': {
      const entries = slotEntries(m.entries);
      if (typeof entries === 'string') return refuse(`accept: ${entries}`);
      return { ok: true, msg: { type: 'accept', from, ballot: b as Ballot, entries } };
    }
    case 'accepted': {
      if (!Array.isArray(m.slots) || !m.slots.every(isSlot)) return refuse('accepted: slots must be an array of slot numbers');
      return { ok: true, msg: { type: 'accepted', from, ballot: b as Ballot, slots: [...(m.slots as number[])] } };
    }
    case 'commit': {
      const entries = slotEntries(m.entries);
      if (typeof entries === 'string') return refuse(`commit: ${entries}`);
      return { ok: true, msg: { type: 'commit', from, entries } };
    }
    case 'heartbeat':
      if (!isSlot(m.commitIndex)) return refuse('bad commitIndex');
      return { ok: true, msg: { type: 'heartbeat', from, ballot: b as Ballot, commitIndex: m.commitIndex } };
    case 'catchup':
      if (!isSlot(m.fromSlot)) return refuse('bad fromSlot');
      return { ok: true, msg: { type: 'catchup', from, fromSlot: m.fromSlot } };
    case 'applied':
    case 'trim':
      if (!isSlot(m.upTo)) return refuse(`${m.type}: bad upTo`);
      return { ok: true, msg: { type: m.type, from, upTo: m.upTo } };
    case 'snapshot-request':
      if (typeof m.learner !== 'string' || m.learner.length === 0) return refuse('snapshot-request: no learner');
      return { ok: true, msg: { type: 'snapshot-request', from, learner: m.learner } };
    case 'snapshot':
      return snapshot(from, m);
    default:
      return refuse('unknown message type');
  }
}

/** The message types that carry a ballot. */
const BALLOTED: ReadonlySet<unknown> = new Set(['prevote', 'prevote-ok', 'prepare', 'promise', 'nack', 'accept', 'accepted', 'heartbeat']);

function refuse(reason: string): MpValidated {
  return { ok: false, reason };
}

/** A slot number (or slot count): a safe integer >= 0. */
function isSlot(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function slotEntries(x: unknown): SlotEntry[] | string {
  if (!Array.isArray(x)) return 'entries must be an array';
  const out: SlotEntry[] = [];
  for (const e of x as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'an entry is not an object';
    const { slot, value } = e as Record<string, unknown>;
    if (!isSlot(slot)) return 'an entry has a bad slot';
    const batch = parseBatch(value);
    if (typeof batch === 'string') return `slot ${slot}: ${batch}`;
    out.push({ slot, value: batch });
  }
  return out;
}

function acceptedEntries(x: unknown): AcceptedEntry[] | string {
  if (!Array.isArray(x)) return 'entries must be an array';
  const out: AcceptedEntry[] = [];
  for (const e of x as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'an entry is not an object';
    const { slot, ballot, value } = e as Record<string, unknown>;
    if (!isSlot(slot)) return 'an entry has a bad slot';
    if (!isBallot(ballot)) return `slot ${slot}: bad ballot`;
    const batch = parseBatch(value);
    if (typeof batch === 'string') return `slot ${slot}: ${batch}`;
    out.push({ slot, ballot: { round: ballot.round, proposer: ballot.proposer }, value: batch });
  }
  return out;
}

/** A snapshot message, checked in place (see {@link snapshotProblem}). */
function snapshot(from: ActorId, m: Record<string, unknown>): MpValidated {
  const problem = snapshotProblem(m);
  if (problem !== null) return refuse(`snapshot: ${problem}`);
  const { upTo, data, sessions } = m as unknown as MpSnapshot;
  return { ok: true, msg: { type: 'snapshot', from, upTo, data, sessions } };
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
function parseBatch(x: unknown): Batch | string {
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
