/**
 * The messages of single-decree Paxos, as a tagged union. Types only, plus a
 * validator that hosts run on anything that crosses a thread or process
 * boundary before it reaches a core.
 */
import { isBallot, type Ballot } from './ballot.js';
import type { ActorId } from './ids.js';
import { isValue, type Value } from './value.js';

/** A proposal an acceptor has accepted: its ballot and value. */
export interface AcceptedProposal {
  readonly ballot: Ballot;
  readonly value: Value;
}

/** Phase 1a: proposer asks acceptors to promise not to accept ballots below `ballot`. */
export interface PrepareMsg {
  readonly type: 'prepare';
  readonly from: ActorId;
  readonly ballot: Ballot;
}

/** Phase 1b: acceptor promises `ballot` and reports the highest proposal it accepted, if any. */
export interface PromiseMsg {
  readonly type: 'promise';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly accepted: AcceptedProposal | null;
}

/** Rejection of a prepare or accept for `ballot`, carrying the acceptor's higher promise so a stale proposer learns it is stale. */
export interface NackMsg {
  readonly type: 'nack';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly promised: Ballot;
}

/** Phase 2a: proposer asks acceptors to accept `value` at `ballot`. */
export interface AcceptMsg {
  readonly type: 'accept';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly value: Value;
}

/** Phase 2b: acceptor has accepted (and durably stored) `value` at `ballot`; sent to the proposer and to every learner. */
export interface AcceptedMsg {
  readonly type: 'accepted';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly value: Value;
}

/** Phase 3: a proposer tells the learners that `value` was chosen at `ballot`. */
export interface DecideMsg {
  readonly type: 'decide';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly value: Value;
}

/** Every message of single-decree Paxos. */
export type Message = PrepareMsg | PromiseMsg | NackMsg | AcceptMsg | AcceptedMsg | DecideMsg;

/** The `type` tags of {@link Message}. */
export type MessageType = Message['type'];

/** The result of {@link validateMessage}: the message, or why it was refused. */
export type Validated = { ok: true; msg: Message } | { ok: false; reason: string };

/** The longest actor id a message may name; real ids are a letter and a number. */
export const MAX_ID_LENGTH = 64;

/** The fields each message type has, and no others. */
const FIELDS: Readonly<Record<MessageType, readonly string[]>> = {
  prepare: ['type', 'from', 'ballot'],
  promise: ['type', 'from', 'ballot', 'accepted'],
  nack: ['type', 'from', 'ballot', 'promised'],
  accept: ['type', 'from', 'ballot', 'value'],
  accepted: ['type', 'from', 'ballot', 'value'],
  decide: ['type', 'from', 'ballot', 'value'],
};

/**
 * Why the own enumerable fields of `x` are not exactly `fields` (every one
 * present, none more), or null. A field a peer added would otherwise travel
 * into what an acceptor persists: `undefined` is not JSON, a bigint does not
 * stringify at all, and a long string is written to disk as it is.
 */
export function exactFieldsProblem(x: object, fields: readonly string[], what: string): string | null {
  // Checked first without allocating (this runs for every command of every batch a peer sends): every key
  // for-in meets is an own field of `fields`, and there are as many as `fields` has. Anything else, an
  // inherited enumerable key included, takes the exact check below, which also says what is wrong.
  // Fields usually come in the order of `fields` (JSON.parse keeps the order they were encoded in), so the
  // n-th key is first compared with the n-th field, and only one out of order is looked for among them all.
  let n = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k) || (k !== fields[n] && !fields.includes(k))) return fieldsProblem(x, fields, what);
    n++;
  }
  return n === fields.length ? null : fieldsProblem(x, fields, what);
}

/** The exact check of {@link exactFieldsProblem}, on `Object.keys`. */
function fieldsProblem(x: object, fields: readonly string[], what: string): string | null {
  const keys = Object.keys(x);
  for (const k of keys) if (!fields.includes(k)) return `${what} has an unknown field ${safeText(k)}`;
  if (keys.length !== fields.length) return `${what} lacks ${fields.filter((f) => !keys.includes(f)).join(', ')}`;
  return null;
}

/** An actor id as a message may carry it: a non-empty string of at most {@link MAX_ID_LENGTH} characters. */
export function isActorIdText(x: unknown): x is ActorId {
  return typeof x === 'string' && x.length > 0 && x.length <= MAX_ID_LENGTH;
}

/** A fresh ballot holding only `round` and `proposer`, or why `x` is not exactly a ballot. */
export function exactBallot(x: unknown, what = 'ballot'): Ballot | string {
  if (typeof x === 'object' && x !== null && !Array.isArray(x)) {
    const extra = exactFieldsProblem(x, ['round', 'proposer'], what);
    if (extra !== null) return extra;
  }
  if (!isBallot(x)) return `bad ${what} ${safeText(x)}`;
  if (!isActorIdText(x.proposer)) return `${what} has an over-long proposer id`;
  return { round: x.round, proposer: x.proposer };
}

/**
 * Checks that untrusted input has exactly the shape of a {@link Message} and
 * returns a fresh copy of it: the fields of its type and no others, at every
 * level (the message, its ballots, an accepted proposal), finite safe-integer
 * rounds, JSON values. Whether a ballot is acceptable to an acceptor is the
 * acceptor's guard to decide.
 */
export function validateMessage(x: unknown): Validated {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return { ok: false, reason: 'not an object' };
  const m = x as Record<string, unknown>;
  if (!isActorIdText(m.from)) return { ok: false, reason: 'missing sender' };
  const from = m.from;
  if (typeof m.type !== 'string' || !Object.hasOwn(FIELDS, m.type)) return { ok: false, reason: `unknown message type ${safeText(m.type)}` };
  const type = m.type as MessageType;
  const extra = exactFieldsProblem(m, FIELDS[type], type);
  if (extra !== null) return { ok: false, reason: extra };
  const ballot = exactBallot(m.ballot);
  if (typeof ballot === 'string') return { ok: false, reason: ballot };
  switch (type) {
    case 'prepare':
      return { ok: true, msg: { type, from, ballot } };
    case 'promise': {
      const acc = m.accepted;
      if (acc === null) return { ok: true, msg: { type, from, ballot, accepted: null } };
      if (typeof acc !== 'object' || acc === undefined || Array.isArray(acc)) return { ok: false, reason: 'bad accepted proposal' };
      const a = acc as Record<string, unknown>;
      const shape = exactFieldsProblem(a, ['ballot', 'value'], 'accepted proposal');
      if (shape !== null) return { ok: false, reason: shape };
      const accBallot = exactBallot(a.ballot, 'accepted ballot');
      if (typeof accBallot === 'string' || !isValue(a.value)) return { ok: false, reason: 'bad accepted proposal' };
      return { ok: true, msg: { type, from, ballot, accepted: { ballot: accBallot, value: a.value } } };
    }
    case 'nack': {
      const promised = exactBallot(m.promised, 'promised ballot');
      if (typeof promised === 'string') return { ok: false, reason: promised };
      return { ok: true, msg: { type, from, ballot, promised } };
    }
    case 'accept':
    case 'accepted':
    case 'decide':
      if (!isValue(m.value)) return { ok: false, reason: 'value is not JSON' };
      return { ok: true, msg: { type, from, ballot, value: m.value } };
  }
}

function safeText(x: unknown): string {
  try {
    const s = JSON.stringify(x) ?? String(x);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(x);
  }
}
