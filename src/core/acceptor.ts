/**
 * The acceptor core. It promises a ballot iff the ballot is higher than any it
 * promised before, accepts a proposal iff its ballot is at least its promise,
 * and never lets a promise or an accepted reply leave before the state behind
 * it is durable: replies ride in the `then` of a persist effect.
 */
import { ballotEq, compareBallots, describeBallot, type Ballot } from './ballot.js';
import { judgeBallot } from './rounds.js';
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
  assert(compareBallots(s.accepted?.ballot ?? null, s.promised) <= 0, `${s.id}: accepted above its promise before a prepare`);
  const judged = judgeBallot(s.config.members.proposers, s.promised, msg.from, msg.ballot, s.config.maxRoundJump);
  if (judged.verdict === 'drop') return ignore(s, `prepare ${describeBallot(msg.ballot)}: ${judged.reason}`);
  if (judged.verdict === 'far' || compareBallots(msg.ballot, s.promised) < 0) {
    // Not required by Paxos, but a nack tells a stale proposer to move on, and one too far above where this acceptor stands.
    return { state: s, effects: [{ type: 'send', to: msg.from, msg: nack(s, msg.ballot) }] };
  }
  // An equal ballot is the same proposer retrying phase 1 (its prepare or our promise was lost): promise it again.
  assert(ballotEq(msg.ballot, s.promised) || compareBallots(msg.ballot, s.accepted?.ballot ?? null) > 0, `${s.id}: promising below what it accepted`);
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
  assert(compareBallots(s.accepted?.ballot ?? null, s.promised) <= 0, `${s.id}: accepted above its promise before an accept`);
  const judged = judgeBallot(s.config.members.proposers, s.promised, msg.from, msg.ballot, s.config.maxRoundJump);
  if (judged.verdict === 'drop') return ignore(s, `accept ${describeBallot(msg.ballot)}: ${judged.reason}`);
  if (judged.verdict === 'far' || compareBallots(msg.ballot, s.promised) < 0) {
    return { state: s, effects: [{ type: 'send', to: msg.from, msg: nack(s, msg.ballot) }] };
  }
  const next: AcceptorState = { ...s, promised: msg.ballot, accepted: { ballot: msg.ballot, value: msg.value } };
  assert(compareBallots(msg.ballot, s.promised) >= 0 && compareBallots(msg.ballot, s.accepted?.ballot ?? null) >= 0, `${s.id}: accepting ${describeBallot(msg.ballot)} below what it promised or accepted`);
  const accepted = { type: 'accepted', from: s.id, ballot: msg.ballot, value: msg.value } as const;
  const then: Effect[] = [{ type: 'send', to: msg.from, msg: accepted }];
  for (const learner of s.config.members.learners) then.push({ type: 'send', to: learner, msg: accepted });
  return { state: next, effects: [{ type: 'persist', record: acceptorRecord(next), then }] };
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
