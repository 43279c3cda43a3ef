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

/**
 * Checks that untrusted input has the shape of a {@link Message}. It checks
 * shape only (types, finite safe-integer rounds, JSON values); whether a
 * ballot is acceptable to an acceptor is the acceptor's guard to decide.
 */
export function validateMessage(x: unknown): Validated {
  if (typeof x !== 'object' || x === null) return { ok: false, reason: 'not an object' };
  const m = x as Record<string, unknown>;
  if (typeof m.from !== 'string' || m.from.length === 0) return { ok: false, reason: 'missing sender' };
  const needBallot = (): string | null => (isBallot(m.ballot) ? null : `bad ballot ${safeText(m.ballot)}`);
  switch (m.type) {
    case 'prepare': {
      const bad = needBallot();
      return bad ? { ok: false, reason: bad } : { ok: true, msg: { type: 'prepare', from: m.from, ballot: m.ballot as Ballot } };
    }
    case 'promise': {
      const bad = needBallot();
      if (bad) return { ok: false, reason: bad };
      const acc = m.accepted;
      if (acc !== null) {
        if (typeof acc !== 'object' || acc === undefined) return { ok: false, reason: 'bad accepted proposal' };
        const a = acc as Record<string, unknown>;
        if (!isBallot(a.ballot) || !isValue(a.value)) return { ok: false, reason: 'bad accepted proposal' };
      }
      return { ok: true, msg: { type: 'promise', from: m.from, ballot: m.ballot as Ballot, accepted: acc as AcceptedProposal | null } };
    }
    case 'nack': {
      const bad = needBallot();
      if (bad) return { ok: false, reason: bad };
      if (!isBallot(m.promised)) return { ok: false, reason: `bad promised ballot ${safeText(m.promised)}` };
      return { ok: true, msg: { type: 'nack', from: m.from, ballot: m.ballot as Ballot, promised: m.promised } };
    }
    case 'accept':
    case 'accepted':
    case 'decide': {
      const bad = needBallot();
      if (bad) return { ok: false, reason: bad };
      if (!('value' in m) || !isValue(m.value)) return { ok: false, reason: 'value is not JSON' };
      return { ok: true, msg: { type: m.type, from: m.from, ballot: m.ballot as Ballot, value: m.value } };
    }
    default:
      return { ok: false, reason: `unknown message type ${safeText(m.type)}` };
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
