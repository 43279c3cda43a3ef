/**
 * The learner core. It learns a value once a majority of acceptors report
 * accepting it at the same ballot, or when a proposer announces the value it
 * saw chosen (phase 3). It decides at most once, and the decision is
 * persisted before it is reported.
 */
import { compareBallots, describeBallot } from './ballot.js';
import { assert } from './assert.js';
import type { CoreConfig } from './config.js';
import type { Input, LearnerRecord, Step } from './effects.js';
import type { ActorId } from './ids.js';
import type { AcceptedMsg, AcceptedProposal, DecideMsg } from './messages.js';
import { isQuorum } from './quorum.js';
import { canonicalJson } from './value.js';

/** Votes seen for one (ballot, value). */
export interface Tally {
  readonly proposal: AcceptedProposal;
  readonly voters: readonly ActorId[];
}

/** A learner's state. Only `decided` is durable. */
export interface LearnerState {
  readonly role: 'learner';
  readonly id: ActorId;
  readonly config: CoreConfig;
  /** Accepted reports, keyed by ballot and value. */
  readonly tallies: Readonly<Record<string, Tally>>;
  readonly decided: AcceptedProposal | null;
}

/** A fresh learner, or one recovered from its last durable record. */
export function initLearner(id: ActorId, config: CoreConfig, record: LearnerRecord | null = null): LearnerState {
  return { role: 'learner', id, config, tallies: {}, decided: record?.decided ?? null };
}

/** One step of the learner. */
export function stepLearner(s: LearnerState, input: Input): Step<LearnerState> {
  if (input.type !== 'receive') return ignore(s, `learner does not take ${input.type}`);
  const msg = input.msg;
  if (msg.type === 'accepted') return onAccepted(s, msg);
  if (msg.type === 'decide') return onDecide(s, msg);
  return ignore(s, `learner does not take ${msg.type}`);
}

/** "To learn that a value has been chosen, a learner must find out that a proposal has been accepted by a majority of acceptors." */
function onAccepted(s: LearnerState, msg: AcceptedMsg): Step<LearnerState> {
  if (s.decided) return ignore(s, 'already decided');
  if (!s.config.members.acceptors.includes(msg.from)) return ignore(s, `accepted from non-acceptor ${msg.from}`);
  const key = `${describeBallot(msg.ballot)} ${canonicalJson(msg.value)}`;
  const tally = s.tallies[key];
  if (tally?.voters.includes(msg.from)) return ignore(s, `duplicate accepted from ${msg.from}`);
  // One vote per acceptor, its latest: an acceptor accepts ballots in increasing order, so a report at
  // a lower ballot than its counted vote is old news, and one at a higher ballot replaces it. So a
  // link that floods distinct reports grows no state (it once grew one tally per message).
  const prior = Object.entries(s.tallies).find(([, t]) => t.voters.includes(msg.from));
  if (prior !== undefined && compareBallots(msg.ballot, prior[1].proposal.ballot) <= 0) return ignore(s, `accepted from ${msg.from} at ${describeBallot(msg.ballot)}: it already reported ${describeBallot(prior[1].proposal.ballot)}`);
  const rest: Record<string, Tally> = { ...s.tallies };
  if (prior !== undefined) {
    const left = prior[1].voters.filter((v) => v !== msg.from);
    if (left.length === 0) delete rest[prior[0]];
    else rest[prior[0]] = { proposal: prior[1].proposal, voters: left };
  }
  const voters = [...(tally?.voters ?? []), msg.from];
  const proposal = { ballot: msg.ballot, value: msg.value };
  const tallies = { ...rest, [key]: { proposal, voters } };
  assert(Object.values(tallies).filter((t) => t.voters.includes(msg.from)).length === 1, `${s.id}: ${msg.from} counted other than once`);
  assert(Object.keys(tallies).length <= s.config.members.acceptors.length, `${s.id}: more tallies than acceptors`);
  if (!isQuorum(s.config.members.acceptors, voters)) return { state: { ...s, tallies }, effects: [] };
  return decide({ ...s, tallies }, proposal);
}

/** Phase 3: a proposer saw a majority accept this value. */
function onDecide(s: LearnerState, msg: DecideMsg): Step<LearnerState> {
  if (s.decided) return ignore(s, 'already decided');
  if (!s.config.members.proposers.includes(msg.from)) return ignore(s, `decide from non-proposer ${msg.from}`);
  assert(Object.keys(s.tallies).length <= s.config.members.acceptors.length, `${s.id}: more tallies than acceptors`);
  assert(Object.values(s.tallies).every((t) => !isQuorum(s.config.members.acceptors, t.voters)), `${s.id}: undecided with a quorum tally`);
  return decide(s, { ballot: msg.ballot, value: msg.value });
}

/** Persist the decision, and report it only once it is durable. */
function decide(s: LearnerState, proposal: AcceptedProposal): Step<LearnerState> {
  const next: LearnerState = { ...s, decided: proposal, tallies: {} };
  const record: LearnerRecord = { role: 'learner', decided: proposal };
  return { state: next, effects: [{ type: 'persist', record, then: [{ type: 'decide', ballot: proposal.ballot, value: proposal.value }] }] };
}

function ignore(s: LearnerState, reason: string): Step<LearnerState> {
  return { state: s, effects: [{ type: 'ignore', reason }] };
}

/** The learner's invariants; hosts check them after every step. */
export function learnerInvariants(s: LearnerState): void {
  if (s.decided) assert(Object.keys(s.tallies).length === 0, `${s.id}: decided but still tallying`);
  // One counted vote per acceptor, so the tallies stay as small as the membership.
  const counted = Object.values(s.tallies).flatMap((t) => t.voters);
  assert(new Set(counted).size === counted.length, `${s.id}: an acceptor is counted in two tallies`);
  for (const t of Object.values(s.tallies)) {
    assert(t.voters.every((v) => s.config.members.acceptors.includes(v)), `${s.id}: a tally counts a non-acceptor`);
    assert(!isQuorum(s.config.members.acceptors, t.voters), `${s.id}: a quorum at ${describeBallot(t.proposal.ballot)} but no decision`);
  }
}
