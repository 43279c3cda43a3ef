/**
 * The acceptor core. It promises a ballot iff the ballot is higher than any it
 * promised before, accepts a proposal iff its ballot is at least its promise,
 * and never lets a promise or an accepted reply leave before the state behind
 * it is durable: replies ride in the `then` of a persist effect.
 */
import { ballotGt, compareBallots, describeBallot, type Ballot } from './ballot.js';
import { assert } from './assert.js';
import type { CoreConfig } from './config.js';
import type { AcceptorRecord, Effect, Input, Step } from './effects.js';
import type { ActorId } from './ids.js';
import type { AcceptedProposal, AcceptMsg, PrepareMsg } from './messages.js';

/** An acceptor's state. `promised` and `accepted` are exactly what it persists. */
export interface AcceptorState {
  readonly role: 'acceptor';
  readonly id: ActorId;
  readonly config: CoreConfig;
  readonly promised: Ballot | null;
  readonly accepted: AcceptedProposal | null;
}

/** A fresh acceptor, or one recovered from its last durable record. */
export function initAcceptor(id: ActorId, config: CoreConfig, record: AcceptorRecord | null = null): AcceptorState {
  return { role: 'acceptor', id, config, promised: record?.promised ?? null, accepted: record?.accepted ?? null };
}

/** The record an acceptor persists. */
export function acceptorRecord(s: AcceptorState): AcceptorRecord {
  return { role: 'acceptor', promised: s.promised, accepted: s.accepted };
}

/** One step of the acceptor. */
export function stepAcceptor(s: AcceptorState, input: Input): Step<AcceptorState> {
  if (input.type !== 'receive') return ignore(s, `acceptor does not take ${input.type}`);
  const msg = input.msg;
  switch (msg.type) {
    case 'prepare':
      return onPrepare(s, msg);
    case 'accept':
      return onAccept(s, msg);
    default:
      return ignore(s, `acceptor does not take ${msg.type}`);
  }
}

/**
 * Phase 1b. "If the proposal number n is greater than that of any prepare
 * request to which it has already responded, then it responds to the request
 * with a promise not to accept any more proposals numbered less than n and
 * with the highest-numbered proposal (if any) that it has accepted."
 */
function onPrepare(s: AcceptorState, msg: PrepareMsg): Step<AcceptorState> {
  const refused = ignoreBallot(s, msg.from, msg.ballot);
  if (refused) return ignore(s, `prepare ${describeBallot(msg.ballot)}: ${refused}`);
  if (!ballotGt(msg.ballot, s.promised)) {
    // Not required by Paxos, but a nack tells a stale proposer to move on.
    return { state: s, effects: [{ type: 'send', to: msg.from, msg: nack(s, msg.ballot) }] };
  }
  const next: AcceptorState = { ...s, promised: msg.ballot };
  const reply: Effect = { type: 'send', to: msg.from, msg: { type: 'promise', from: s.id, ballot: msg.ballot, accepted: s.accepted } };
  return { state: next, effects: [{ type: 'persist', record: acceptorRecord(next), then: [reply] }] };
}

/**
 * Phase 2b. "If an acceptor receives an accept request for a proposal numbered
 * n, it accepts the proposal unless it has already responded to a prepare
 * request having a number greater than n." Accepting n also promises n, so
 * the accepted ballot never exceeds the promised one.
 */
function onAccept(s: AcceptorState, msg: AcceptMsg): Step<AcceptorState> {
  const refused = ignoreBallot(s, msg.from, msg.ballot);
  if (refused) return ignore(s, `accept ${describeBallot(msg.ballot)}: ${refused}`);
  if (compareBallots(msg.ballot, s.promised) < 0) {
    return { state: s, effects: [{ type: 'send', to: msg.from, msg: nack(s, msg.ballot) }] };
  }
  const next: AcceptorState = { ...s, promised: msg.ballot, accepted: { ballot: msg.ballot, value: msg.value } };
  const accepted = { type: 'accepted', from: s.id, ballot: msg.ballot, value: msg.value } as const;
  const then: Effect[] = [{ type: 'send', to: msg.from, msg: accepted }];
  for (const learner of s.config.members.learners) then.push({ type: 'send', to: learner, msg: accepted });
  return { state: next, effects: [{ type: 'persist', record: acceptorRecord(next), then }] };
}

/**
 * The guard against misbehaving proposers: a ballot must belong to a
 * configured proposer, come from that proposer, and have a round no more than
 * `maxRoundJump` above what this acceptor has promised. Returns why the ballot
 * is refused, or null. (Rounds are already finite safe integers >= 1: hosts
 * validate message shape before a message reaches the core.)
 */
function ignoreBallot(s: AcceptorState, from: ActorId, b: Ballot): string | null {
  if (!Number.isSafeInteger(b.round) || b.round < 1) return 'round is not a safe integer >= 1';
  if (!s.config.members.proposers.includes(b.proposer)) return `ballot owner ${b.proposer} is not a proposer`;
  if (from !== b.proposer) return `sender ${from} does not own the ballot`;
  const base = s.promised?.round ?? 0;
  if (b.round - base > s.config.maxRoundJump) return `round jumps more than ${s.config.maxRoundJump} past promised ${describeBallot(s.promised)}`;
  return null;
}

function nack(s: AcceptorState, ballot: Ballot) {
  assert(s.promised !== null, 'nack needs a promise');
  return { type: 'nack', from: s.id, ballot, promised: s.promised } as const;
}

function ignore(s: AcceptorState, reason: string): Step<AcceptorState> {
  return { state: s, effects: [{ type: 'ignore', reason }] };
}

/** The acceptor's invariants; hosts check them after every step. */
export function acceptorInvariants(s: AcceptorState): void {
  if (s.accepted !== null) {
    assert(s.promised !== null, `${s.id}: accepted ${describeBallot(s.accepted.ballot)} without a promise`);
    assert(compareBallots(s.accepted.ballot, s.promised) <= 0, `${s.id}: accepted ${describeBallot(s.accepted.ballot)} above promised ${describeBallot(s.promised)}`);
  }
}
