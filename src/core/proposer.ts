/**
 * The proposer core. Phase 1: pick a ballot above every round it has used or
 * seen, persist that round, then send prepare to every acceptor and gather
 * promises from a majority. Phase 2: propose the value of the highest-numbered
 * proposal reported in those promises, or its own value if none; the value is
 * chosen once a majority accept. Phase 3: tell the learners. A nack or a
 * timeout sends it into a randomised, exponentially growing backoff before it
 * tries again with a higher ballot, so duelling proposers do not livelock.
 */
import { ballotEq, ballotGt, compareBallots, describeBallot, type Ballot } from './ballot.js';
import { assert } from './assert.js';
import type { CoreConfig } from './config.js';
import type { Effect, Input, ProposerRecord, Step } from './effects.js';
import type { ActorId } from './ids.js';
import type { AcceptedMsg, AcceptedProposal, NackMsg, PromiseMsg } from './messages.js';
import { isQuorum } from './quorum.js';
import { nextRound } from './rounds.js';
import type { Value } from './value.js';

/** Where a proposer is in its current attempt. */
export type ProposerPhase = 'idle' | 'prepare' | 'accept' | 'backoff' | 'done';

/** A proposer's state. Only `roundMax` is durable. */
export interface ProposerState {
  readonly role: 'proposer';
  readonly id: ActorId;
  readonly config: CoreConfig;
  readonly phase: ProposerPhase;
  /** Highest round this proposer has used (and persisted before using). */
  readonly roundMax: number;
  /** The highest round each acceptor is known to have promised (from its promises and nacks); the next ballot climbs from these (`nextRound`). */
  readonly known: Readonly<Record<ActorId, number>>;
  /** Acceptors that answered the current attempt. */
  readonly heard: readonly ActorId[];
  /** The value the client asked for, if any. */
  readonly wanted: { readonly value: Value } | null;
  /** The ballot of the current attempt. */
  readonly ballot: Ballot | null;
  /** Promises for the current ballot, by acceptor: what each reported as accepted. */
  readonly promises: Readonly<Record<ActorId, AcceptedProposal | null>>;
  /** The value sent in phase 2 of the current ballot. */
  readonly proposal: { readonly value: Value } | null;
  /** Acceptors that accepted the current proposal. */
  readonly accepts: readonly ActorId[];
  /** Consecutive failed attempts; sets the backoff. */
  readonly failures: number;
  /** What this proposer knows was chosen. */
  readonly chosen: AcceptedProposal | null;
  /** Control bug `reuseBallot` only: the round to reuse for the first request after a restart. */
  readonly reuseRound: number | null;
}

/** A fresh proposer, or one recovered from its last durable record. */
export function initProposer(id: ActorId, config: CoreConfig, record: ProposerRecord | null = null): ProposerState {
  const roundMax = record?.roundMax ?? 0;
  return {
    role: 'proposer',
    id,
    config,
    phase: 'idle',
    roundMax,
    known: {},
    heard: [],
    wanted: null,
    ballot: null,
    promises: {},
    proposal: null,
    accepts: [],
    failures: 0,
    chosen: null,
    reuseRound: config.bugs.reuseBallot && roundMax > 0 ? roundMax : null,
  };
}

/** One step of the proposer; `random` is a draw in [0, 1) used for backoff jitter. */
export function stepProposer(s: ProposerState, input: Input, random: number): Step<ProposerState> {
  switch (input.type) {
    case 'propose':
      return onPropose(s, input.value);
    case 'timeout':
      return onTimeout(s, random);
    case 'receive': {
      const msg = input.msg;
      if (msg.type === 'promise') return onPromise(s, msg);
      if (msg.type === 'accepted') return onAccepted(s, msg);
      if (msg.type === 'nack') return onNack(s, msg, random);
      return ignore(s, `proposer does not take ${msg.type}`);
    }
  }
}

/**
 * A client asks to propose `value`. Once something is chosen, the answer is
 * that, and the decision is announced to the learners again so that one that
 * was down when it was first announced catches up.
 */
function onPropose(s: ProposerState, value: Value): Step<ProposerState> {
  assert((s.chosen !== null) === (s.phase === 'done'), `${s.id}: chosen ${s.chosen !== null} in phase ${s.phase}`);
  assert(s.phase === 'idle' || s.phase === 'done' || s.wanted !== null, `${s.id}: phase ${s.phase} with nothing to propose`);
  if (s.chosen) {
    const { ballot, value: chosen } = s.chosen;
    const effects: Effect[] = [{ type: 'chosen', ballot, value: chosen }];
    for (const to of s.config.members.learners) effects.push({ type: 'send', to, msg: { type: 'decide', from: s.id, ballot, value: chosen } });
    return { state: s, effects };
  }
  const next = { ...s, wanted: { value } };
  if (s.phase !== 'idle') return { state: next, effects: [] };
  if (s.reuseRound !== null) return reuseLastBallot(next, s.reuseRound);
  return startRound(next);
}

/**
 * Control bug `reuseBallot`: the restarted proposer takes its last ballot as
 * still established and sends a new value under it, skipping phase 1. Two
 * different values then share one proposal number, which the proof of Paxos
 * rules out; the safety checker must notice.
 */
function reuseLastBallot(s: ProposerState, round: number): Step<ProposerState> {
  assert(s.wanted !== null, `${s.id}: reusing a ballot with nothing to propose`);
  const ballot: Ballot = { round, proposer: s.id };
  const value = s.wanted.value;
  const promises = Object.fromEntries(s.config.members.acceptors.map((a) => [a, null]));
  const next: ProposerState = { ...s, phase: 'accept', ballot, promises, proposal: { value }, accepts: [], reuseRound: null };
  const effects: Effect[] = s.config.members.acceptors.map((to) => ({ type: 'send', to, msg: { type: 'accept', from: s.id, ballot, value } }));
  effects.push({ type: 'setTimer', timer: 'retry', delay: s.config.phaseTimeoutMs });
  return { state: next, effects };
}

/**
 * Phase 1a. The round is persisted before any prepare for it leaves, so a
 * restarted proposer never reuses a ballot.
 */
function startRound(s: ProposerState): Step<ProposerState> {
  assert(s.wanted !== null, `${s.id}: starting a round with nothing to propose`);
  const round = nextRound(s.config.members.acceptors, s.roundMax, (a) => s.known[a] ?? 0, new Set(s.heard), s.config.maxRoundJump);
  assert(round > s.roundMax, `${s.id}: round ${round} not above roundMax ${s.roundMax}`);
  const ballot: Ballot = { round, proposer: s.id };
  const next: ProposerState = {
    ...s,
    heard: [],
    phase: 'prepare',
    roundMax: Math.max(s.roundMax, round),
    ballot,
    promises: {},
    proposal: null,
    accepts: [],
  };
  const prepares: Effect[] = s.config.members.acceptors.map((to) => ({ type: 'send', to, msg: { type: 'prepare', from: s.id, ballot } }));
  const record: ProposerRecord = { role: 'proposer', roundMax: next.roundMax };
  return {
    state: next,
    effects: [
      { type: 'persist', record, then: prepares },
      { type: 'setTimer', timer: 'retry', delay: s.config.phaseTimeoutMs },
    ],
  };
}

/**
 * Phase 1b received. With promises from a majority, phase 2a: "If the proposer
 * receives a response to its prepare requests from a majority of acceptors,
 * then it sends an accept request ... with a value v, where v is the value of
 * the highest-numbered proposal among the responses, or is any value if the
 * responses reported no proposals."
 */
function onPromise(s: ProposerState, msg: PromiseMsg): Step<ProposerState> {
  assert(s.phase !== 'prepare' || s.ballot !== null, `${s.id}: preparing without a ballot`);
  if (!s.config.members.acceptors.includes(msg.from)) return ignore(s, `promise from non-acceptor ${msg.from}`);
  // Even too late to count, a promise for our current ballot says where that acceptor stands, which the next round climbs from.
  if (ballotEq(msg.ballot, s.ballot)) s = learnRound(s, msg.from, msg.ballot.round);
  if (s.phase !== 'prepare' || !ballotEq(msg.ballot, s.ballot)) return { state: s, effects: [{ type: 'ignore', reason: `stale promise ${describeBallot(msg.ballot)}` }] };
  if (msg.from in s.promises) return ignore(s, `duplicate promise from ${msg.from}`);
  const promises = { ...s.promises, [msg.from]: msg.accepted };
  if (!isQuorum(s.config.members.acceptors, Object.keys(promises))) return { state: { ...s, promises }, effects: [] };
  assert(s.wanted !== null && s.ballot !== null, `${s.id}: phase 1 without a value or ballot`);
  let highest: AcceptedProposal | null = null;
  for (const acc of Object.values(promises)) if (acc && compareBallots(acc.ballot, highest?.ballot ?? null) > 0) highest = acc;
  const value = highest && !s.config.bugs.ignoreAccepted ? highest.value : s.wanted.value;
  const ballot = s.ballot;
  const next: ProposerState = { ...s, phase: 'accept', promises, proposal: { value } };
  const effects: Effect[] = s.config.members.acceptors.map((to) => ({ type: 'send', to, msg: { type: 'accept', from: s.id, ballot, value } }));
  effects.push({ type: 'setTimer', timer: 'retry', delay: s.config.phaseTimeoutMs });
  return { state: next, effects };
}

/** Phase 2b received. With a majority, the value is chosen; phase 3 tells the learners. */
function onAccepted(s: ProposerState, msg: AcceptedMsg): Step<ProposerState> {
  assert(s.phase !== 'accept' || (s.ballot !== null && s.proposal !== null), `${s.id}: in phase 2 without a ballot or proposal`);
  if (s.phase !== 'accept' || !ballotEq(msg.ballot, s.ballot)) return ignore(s, `stale accepted ${describeBallot(msg.ballot)}`);
  if (!s.config.members.acceptors.includes(msg.from)) return ignore(s, `accepted from non-acceptor ${msg.from}`);
  if (s.accepts.includes(msg.from)) return ignore(s, `duplicate accepted from ${msg.from}`);
  const accepts = [...s.accepts, msg.from];
  if (!isQuorum(s.config.members.acceptors, accepts)) return { state: { ...s, accepts }, effects: [] };
  assert(s.proposal !== null && s.ballot !== null, `${s.id}: phase 2 without a proposal`);
  const chosen: AcceptedProposal = { ballot: s.ballot, value: s.proposal.value };
  const next: ProposerState = { ...s, phase: 'done', accepts, chosen, failures: 0 };
  const effects: Effect[] = [{ type: 'cancelTimer', timer: 'retry' }, { type: 'chosen', ballot: chosen.ballot, value: chosen.value }];
  for (const to of s.config.members.learners) effects.push({ type: 'send', to, msg: { type: 'decide', from: s.id, ballot: chosen.ballot, value: chosen.value } });
  return { state: next, effects };
}

/** An acceptor has promised a higher ballot than ours: give up this attempt and back off. */
function onNack(s: ProposerState, msg: NackMsg, random: number): Step<ProposerState> {
  // Rounds are learned from acceptors only: what they promised passed their guard.
  if (!s.config.members.acceptors.includes(msg.from)) return ignore(s, `nack from non-acceptor ${msg.from}`);
  assert(s.ballot === null || (s.ballot.proposer === s.id && s.ballot.round <= s.roundMax), `${s.id}: ballot ${describeBallot(s.ballot)} not its own`);
  const seen = ballotEq(msg.ballot, s.ballot) ? learnRound(s, msg.from, msg.promised.round) : s;
  if ((s.phase !== 'prepare' && s.phase !== 'accept') || !ballotEq(msg.ballot, s.ballot)) {
    return { state: seen, effects: [{ type: 'ignore', reason: `stale nack for ${describeBallot(msg.ballot)}` }] };
  }
  // A duplicate of our own prepare is refused with our own ballot: not a reason to give up.
  if (!ballotGt(msg.promised, s.ballot)) return { state: seen, effects: [{ type: 'ignore', reason: `nack not above ${describeBallot(s.ballot)}` }] };
  assert(s.ballot !== null && msg.promised.round >= s.ballot.round, `${s.id}: a nack above ${describeBallot(s.ballot)} names round ${msg.promised.round}`);
  return backoff(seen, random);
}

/** Acceptor `from` answered the current attempt and stands at `round` (or higher). */
function learnRound(s: ProposerState, from: ActorId, round: number): ProposerState {
  const heard = s.heard.includes(from) ? s.heard : [...s.heard, from];
  const known = round > (s.known[from] ?? 0) ? { ...s.known, [from]: round } : s.known;
  return heard === s.heard && known === s.known ? s : { ...s, heard, known };
}

/** The retry timer: a phase timed out (back off), or a backoff ended (try again). */
function onTimeout(s: ProposerState, random: number): Step<ProposerState> {
  assert(s.phase !== 'backoff' || s.failures > 0, `${s.id}: backing off without a failure`);
  assert(s.phase !== 'prepare' || s.ballot !== null, `${s.id}: preparing without a ballot`);
  if (s.phase === 'prepare' || s.phase === 'accept') return backoff(s, random);
  if (s.phase === 'backoff') return startRound(s);
  return ignore(s, `retry timer in phase ${s.phase}`);
}

/** Randomised exponential backoff: the base doubles per consecutive failure, the delay is drawn from [base/2, 3*base/2). */
function backoff(s: ProposerState, random: number): Step<ProposerState> {
  assert(random >= 0 && random < 1, `${s.id}: random draw ${random} outside [0, 1)`);
  const failures = s.failures + 1;
  const base = Math.min(s.config.backoffMaxMs, s.config.backoffBaseMs * 2 ** Math.min(failures - 1, 30));
  const delay = Math.max(1, Math.floor(base / 2 + random * base));
  return { state: { ...s, phase: 'backoff', failures }, effects: [{ type: 'setTimer', timer: 'retry', delay }] };
}

function ignore(s: ProposerState, reason: string): Step<ProposerState> {
  return { state: s, effects: [{ type: 'ignore', reason }] };
}

/** The proposer's invariants; hosts check them after every step. */
export function proposerInvariants(s: ProposerState): void {
  if (s.ballot) {
    assert(s.ballot.proposer === s.id, `${s.id}: ballot ${describeBallot(s.ballot)} is not its own`);
    assert(s.ballot.round <= s.roundMax, `${s.id}: ballot ${describeBallot(s.ballot)} above roundMax ${s.roundMax}`);
  }
  if (s.phase === 'prepare' || s.phase === 'accept') assert(s.ballot !== null && s.wanted !== null, `${s.id}: ${s.phase} without ballot or value`);
  if (s.phase === 'accept') assert(isQuorum(s.config.members.acceptors, Object.keys(s.promises)), `${s.id}: phase 2 without a quorum of promises`);
  if (s.phase === 'done') assert(s.chosen !== null, `${s.id}: done without a chosen value`);
}
