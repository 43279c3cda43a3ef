/**
 * The Multi-Paxos acceptor. One promise covers every slot; accepted entries
 * are kept per slot. As in single-decree Paxos, every promise and accepted
 * reply rides on a persist effect, so it leaves only once the state behind it
 * is durable; the host writes all the records of one turn in one transaction
 * (group commit).
 */
import { assert } from '../assert.js';
import { ballotEq, ballotGt, compareBallots, describeBallot, type Ballot } from '../ballot.js';
import type { ActorId } from '../ids.js';
import { judgeBallot } from '../rounds.js';
import { batchJson } from './wire.js';
import { anyViewHas, lastView, membersOf, mergeViews, trustedProposers, type View } from './views.js';
import type { AcceptedEntry, Batch, CommitEntry, MpAccept, MpConfig, MpConfirm, MpEffect, MpHeartbeat, MpInput, MpPrepare, MpPrevote, MpRecord, MpStep, MpTrim } from './types.js';

/** The acceptor's state: exactly what it persists. */
export interface MpAcceptorState {
  readonly role: 'acceptor';
  readonly id: ActorId;
  readonly config: MpConfig;
  promised: Ballot | null;
  /** Accepted entries by slot. */
  readonly log: Map<number, AcceptedEntry>;
  /** The highest ballot of any accepted entry (so the invariant check is O(1), not a walk of the log). */
  maxAccepted: Ballot | null;
  /** Slots below this are chosen, applied by every learner, and dropped from the log. */
  trimmed: number;
  /**
   * Heard the holder of its promise (an accept or a heartbeat at that
   * ballot) in the current period of its election timer, or in the last one.
   * Not durable: a restarted acceptor hears the leader again soon enough.
   * While it hears a live leader it refuses prevotes from anyone else, so a
   * proposer that rejoins after a partition does not depose a working leader.
   */
  heardNow: boolean;
  heardLast: boolean;
  /** One past the highest slot this acceptor ever accepted (or its trim point, if higher): how far it has seen the log go. */
  top: number;
  /**
   * The ballot whose owner this acceptor promised on a prepare (phase 1): the
   * leader of record, whose accepts may reach past `top + slotHorizon`. After
   * a restart, the durable promise counts as one. Not persisted separately.
   */
  phase1: Ballot | null;
  /**
   * The views deciding the slots from `trimmed` on, as the last trim told,
   * and any newer ones a leader's heartbeat announced (undefined: never told
   * of any but view 0). Reported in promises, so that a proposer that skips
   * to the trim point knows who decides past it.
   */
  views: readonly View[] | undefined;
  /** The proposers whose ballots and trims it takes: its configured ones and those of `views` (see `views.ts`). Not persisted: worked out from `views`. */
  trusted: readonly ActorId[];
  /** Asked the proposers it trusts for the views in this period of its election timer (a ballot from a proposer it does not know came in). */
  askedViews: boolean;
}

/**
 * How far past what it has seen (`top`) an acceptor accepts a slot from a
 * proposer it did not promise on a prepare, and how far a trim may go: a
 * leader proposes at most `window` slots past its commit index, so a larger
 * jump can only come from a broken or hostile member, and accepting it would
 * make the next leader fill every slot in between with no-ops.
 */
export function slotHorizon(config: MpConfig): number {
  return config.window * 64;
}

/** A fresh acceptor, or one rebuilt from its durable records (in the order written). */
export function initMpAcceptor(id: ActorId, config: MpConfig, records: Iterable<MpRecord> = []): MpAcceptorState {
  const s: MpAcceptorState = { role: 'acceptor', id, config, promised: null, log: new Map(), maxAccepted: null, trimmed: 0, heardNow: false, heardLast: false, top: 0, phase1: null, views: undefined, trusted: config.members.proposers, askedViews: false };
  for (const r of records) {
    if (r.kind === 'promised' && ballotGt(r.ballot, s.promised)) s.promised = r.ballot;
    // Control bug `forgetAccepted`: the accepted slots are not read back.
    if (r.kind === 'accepted' && !config.bugs.forgetAccepted) {
      const prior = s.log.get(r.slot);
      if (!prior || compareBallots(r.ballot, prior.ballot) >= 0) s.log.set(r.slot, { slot: r.slot, ballot: r.ballot, value: r.value });
      if (ballotGt(r.ballot, s.maxAccepted)) s.maxAccepted = r.ballot;
    }
    // A trim record at the same point carries views a heartbeat announced (see onHeartbeat).
    if (r.kind === 'trim' && r.upTo >= s.trimmed) {
      s.trimmed = r.upTo;
      if (r.views !== undefined) s.views = r.views;
    }
  }
  for (const slot of s.log.keys()) if (slot < s.trimmed) s.log.delete(slot);
  s.top = s.trimmed;
  for (const slot of s.log.keys()) if (slot + 1 > s.top) s.top = slot + 1;
  s.phase1 = s.promised;
  s.trusted = trustedProposers(config.members.proposers, s.views);
  return s;
}

/** One step of the acceptor. */
export function stepMpAcceptor(s: MpAcceptorState, input: MpInput): MpStep<MpAcceptorState> {
  if (input.type === 'start') return { state: s, effects: [armPeriod(s)] };
  if (input.type === 'timeout' && input.timer === 'election') {
    s.heardLast = s.heardNow;
    s.heardNow = false;
    s.askedViews = false;
    return { state: s, effects: [armPeriod(s)] };
  }
  if (input.type !== 'receive') return ignore(s, `acceptor does not take ${input.type === 'timeout' ? `the ${input.timer} timer` : input.type}`);
  const msg = input.msg;
  if (msg.type === 'prevote') return onPrevote(s, msg);
  if (msg.type === 'prepare') return onPrepare(s, msg);
  if (msg.type === 'accept') return onAccept(s, msg);
  if (msg.type === 'heartbeat') return onHeartbeat(s, msg);
  if (msg.type === 'trim') return onTrim(s, msg);
  if (msg.type === 'confirm') return onConfirm(s, msg);
  return ignore(s, `acceptor does not take ${msg.type}`);
}

/**
 * The period of the election timer, by which the acceptor tells a live leader
 * from a gone one: a leader counts as live for one to two periods after it was
 * last heard. Half the shortest election timeout, so that a follower whose
 * timer runs out after the leader died finds the acceptors mostly past it,
 * and still two heartbeats or more per period.
 */
function armPeriod(s: MpAcceptorState): MpEffect {
  return { type: 'setTimer', timer: 'election', delay: Math.max(1, Math.floor(s.config.electionMinMs / 2)) };
}

/**
 * PreVote: would this acceptor promise the ballot? Yes iff the ballot is
 * above its promise and it hears no live leader other than the asker.
 * Nothing is persisted; the answer binds nothing.
 */
function onPrevote(s: MpAcceptorState, msg: MpPrevote): MpStep<MpAcceptorState> {
  const judged = judgeBallot(s.trusted, s.promised, msg.from, msg.ballot, s.config.maxRoundJump);
  if (judged.verdict === 'drop') return dropped(s, msg.from, msg.ballot, `prevote ${describeBallot(msg.ballot)}: ${judged.reason}`);
  if (judged.verdict === 'far' || !ballotGt(msg.ballot, s.promised)) return { state: s, effects: [nack(s, msg.from, msg.ballot)] };
  assert(compareBallots(s.maxAccepted, s.promised) <= 0, () => `${s.id}: accepted above its promise before a prevote`);
  if ((s.heardNow || s.heardLast) && s.promised !== null && s.promised.proposer !== msg.from) {
    assert(s.promised !== null, () => `${s.id}: hears a leader without a promise`);
    return { state: s, effects: [nack(s, msg.from, msg.ballot)] };
  }
  return { state: s, effects: [{ type: 'send', to: msg.from, msg: { type: 'prevote-ok', from: s.id, ballot: msg.ballot } }] };
}

/**
 * Phase 1b for every slot from `fromSlot` on: promise iff the ballot is at
 * least the promise. An equal ballot is answered again (its promise is
 * durable already, or in an earlier write the reply waits for), so a
 * candidate whose prepares or promises were lost retries its own ballot
 * instead of climbing to a new one.
 */
function onPrepare(s: MpAcceptorState, msg: MpPrepare): MpStep<MpAcceptorState> {
  assert(s.trimmed <= s.top, () => `${s.id}: trimmed ${s.trimmed} past the top ${s.top} before a prepare`);
  const judged = judgeBallot(s.trusted, s.promised, msg.from, msg.ballot, s.config.maxRoundJump);
  if (judged.verdict === 'drop') return dropped(s, msg.from, msg.ballot, `prepare ${describeBallot(msg.ballot)}: ${judged.reason}`);
  if (judged.verdict === 'far' || compareBallots(msg.ballot, s.promised) < 0) return { state: s, effects: [nack(s, msg.from, msg.ballot)] };
  const again = ballotEq(msg.ballot, s.promised);
  s.promised = msg.ballot;
  s.phase1 = msg.ballot;
  const entries: AcceptedEntry[] = [];
  for (const e of s.log.values()) if (e.slot >= msg.fromSlot) entries.push(e);
  entries.sort((a, b) => a.slot - b.slot);
  assert(compareBallots(s.maxAccepted, s.promised) <= 0, () => `${s.id}: promised below an accepted ballot`);
  const reply: MpEffect = { type: 'send', to: msg.from, msg: { type: 'promise', from: s.id, ballot: msg.ballot, entries, trimmed: s.config.bugs.promiseOmitsTrim ? 0 : s.trimmed, ...(s.views ? { views: s.views } : {}) } };
  return { state: s, effects: [{ type: 'persist', records: again ? [] : [{ kind: 'promised', ballot: msg.ballot }], then: [reply] }] };
}

/**
 * A leader's heartbeat, answered as an accept of no slots: the answer (an
 * empty `accepted`, or a nack) is what CheckQuorum counts, and hearing the
 * holder of the promise keeps prevotes from others refused. Views it carries
 * (the proposers changed, see `views.ts`) are taken when the heartbeat is:
 * from a proposer this acceptor trusts, at its promise or above. They are
 * persisted with the trim point, so that a restart keeps trusting the
 * proposers they name.
 */
function onHeartbeat(s: MpAcceptorState, msg: MpHeartbeat): MpStep<MpAcceptorState> {
  assert(msg.type === 'heartbeat', () => `${s.id}: not a heartbeat`);
  assert(compareBallots(s.maxAccepted, s.promised) <= 0, () => `${s.id}: accepted above its promise before a heartbeat`);
  const step = onAccept(s, { type: 'accept', from: msg.from, ballot: msg.ballot, entries: [] });
  if (msg.views === undefined || !ballotEq(s.promised, msg.ballot)) return step;
  const views = mergeViews(s.views, msg.views);
  if (views === null) return step;
  const before = s.views === undefined ? 0 : lastView(s.views).epoch;
  s.views = views;
  // (The sender passed judgeBallot, so it was trusted; a removed leader's views need not name it any more.)
  s.trusted = trustedProposers(s.config.members.proposers, views);
  assert(lastView(views).epoch > before && ballotEq(s.promised, msg.ballot), () => `${s.id}: took views from ${msg.from} no newer than view ${before}, or not at its promise`);
  const persist = step.effects[0] as Extract<MpEffect, { type: 'persist' }>;
  return { state: s, effects: [{ ...persist, records: [...persist.records, { kind: 'trim', upTo: s.trimmed, views }] }, ...step.effects.slice(1)] };
}

/**
 * Phase 2b for a batch of slots: accept iff the ballot is at least the
 * promise (which it then becomes). A slot already held at this very ballot
 * with this very value (a retry whose answer was lost or slow) is answered
 * again without a second record: its record is durable, or in an earlier
 * write that the reply waits for (the host releases a persist only after
 * every earlier one), so the answer vouches for nothing unwritten. Slots
 * below the trim point are chosen and gone: the sender hears the trim point,
 * so that it stops waiting for votes no acceptor will give.
 */
function onAccept(s: MpAcceptorState, msg: MpAccept): MpStep<MpAcceptorState> {
  const judged = judgeBallot(s.trusted, s.promised, msg.from, msg.ballot, s.config.maxRoundJump);
  if (judged.verdict === 'drop') return dropped(s, msg.from, msg.ballot, `accept ${describeBallot(msg.ballot)}: ${judged.reason}`);
  if (judged.verdict === 'far' || compareBallots(msg.ballot, s.promised) < 0) return { state: s, effects: [nack(s, msg.from, msg.ballot)] };
  s.heardNow = true;
  assert(compareBallots(s.maxAccepted, s.promised) <= 0, () => `${s.id}: accepted above its promise before an accept`);
  const records: MpRecord[] = [];
  if (ballotGt(msg.ballot, s.promised)) {
    s.promised = msg.ballot;
    records.push({ kind: 'promised', ballot: msg.ballot });
  }
  const slots: number[] = [];
  // With `learn: 'votes'` the learners hear the vote too, with the value (see MpVote).
  const votes: CommitEntry[] | null = s.config.learn === 'votes' ? [] : null;
  let belowTrim = false;
  if (msg.entries.length > 0) s.maxAccepted = msg.ballot;
  // Only the proposer this acceptor promised on a prepare may propose past what it has seen; anyone else stays within the horizon.
  const seen = Math.max(s.top, s.trimmed);
  const limit = ballotEq(msg.ballot, s.phase1) ? Number.MAX_SAFE_INTEGER : seen + slotHorizon(s.config);
  const beyond: number[] = [];
  for (const e of msg.entries) {
    if (!Number.isSafeInteger(e.slot) || e.slot < 0) continue;
    if (e.slot >= limit) {
      beyond.push(e.slot);
      continue;
    }
    // A trimmed slot is chosen and gone; accepting anything there again would be a second choice.
    if (e.slot < s.trimmed) {
      belowTrim = true;
      continue;
    }
    slots.push(e.slot);
    votes?.push({ slot: e.slot, value: batchJson(e.value) });
    const held = s.log.get(e.slot);
    if (held && ballotEq(held.ballot, msg.ballot) && sameBatch(held.value, e.value)) continue;
    s.log.set(e.slot, { slot: e.slot, ballot: msg.ballot, value: e.value });
    records.push({ kind: 'accepted', slot: e.slot, ballot: msg.ballot, value: e.value });
    if (e.slot + 1 > s.top) s.top = e.slot + 1;
  }
  assert(records.length <= slots.length + 1, () => `${s.id}: more records than accepted slots`);
  assert(slots.every((slot) => slot < limit), () => `${s.id}: accepted a slot past the horizon ${limit}`);
  const then: MpEffect[] = [{ type: 'send', to: msg.from, msg: { type: 'accepted', from: s.id, ballot: msg.ballot, slots } }];
  if (votes !== null && votes.length > 0) for (const to of votedTo(s)) then.push({ type: 'send', to, msg: { type: 'vote', from: s.id, ballot: msg.ballot, entries: votes } });
  if (belowTrim) then.push({ type: 'send', to: msg.from, msg: { type: 'trim', from: s.id, upTo: s.trimmed, ...(s.views ? { views: s.views } : {}) } });
  const effects: MpEffect[] = [{ type: 'persist', records, then }];
  if (beyond.length > 0) effects.push({ type: 'ignore', reason: `accept ${describeBallot(msg.ballot)}: slot ${beyond[0]}${beyond.length > 1 ? ` and ${beyond.length - 1} more` : ''} past ${limit} (seen up to ${seen}; not promised on a prepare)` });
  return { state: s, effects };
}

/**
 * The learners an acceptor sends its votes to (`learn: 'votes'`): those of
 * its configuration and of the views it was told of. A learner of a view it
 * was not told of learns from the leader's commits instead.
 */
function votedTo(s: MpAcceptorState): readonly ActorId[] {
  return membersOf('learners', s.config.members.learners, s.views);
}

/** Same commands in the same order; one batch object is usually both (the simulator), else compare the JSON both arrived as (cached). */
function sameBatch(a: Batch, b: Batch): boolean {
  return a === b || (a.length === b.length && batchJson(a) === batchJson(b));
}

/**
 * Log compaction: the leader saw every learner apply the slots below `upTo`,
 * so they are never needed again. The trim is persisted so that a restart
 * does not bring them back.
 *
 * A trim destroys data, so only the owner of the ballot this acceptor
 * promised (the leader of record) may send one, and it never goes past the
 * slots this acceptor has seen (`top`): a slot can only be chosen by a
 * majority that accepted it, so whatever a trim point past `top` is worth,
 * the acceptors of that majority trim to it, and any quorum of promises a
 * later leader collects still reports it.
 */
function onTrim(s: MpAcceptorState, msg: MpTrim): MpStep<MpAcceptorState> {
  if (!s.trusted.includes(msg.from)) return ignore(s, `trim from non-proposer ${msg.from}`);
  if (s.promised === null || s.promised.proposer !== msg.from) return takeViews(s, msg) ?? ignore(s, `trim to ${msg.upTo} from ${msg.from}: not the owner of the promise ${describeBallot(s.promised)}`);
  const upTo = Math.min(msg.upTo, s.top);
  if (upTo <= s.trimmed) return takeViews(s, msg) ?? ignore(s, `trim to ${msg.upTo}: already trimmed to ${s.trimmed}${upTo < msg.upTo ? ` and seen only up to ${s.top}` : ''}`);
  // Views that begin past the point it would trim to do not say who decides the slots in between: wait for a later trim.
  if (msg.views !== undefined && (msg.views[0] === undefined || msg.views[0].from > upTo)) return ignore(s, `trim to ${msg.upTo}: seen only up to ${s.top}, and the views it carries begin at ${msg.views[0]?.from ?? '?'}`);
  s.trimmed = upTo;
  // The views come with the trim point: a proposer that skips to it learns from this acceptor's promises who decides past it.
  if (msg.views !== undefined) {
    // Newer views a heartbeat announced are kept past the ones the trim carries.
    s.views = s.views === undefined ? msg.views : (mergeViews(msg.views, s.views) ?? msg.views);
    s.trusted = trustedProposers(s.config.members.proposers, s.views);
  }
  for (const slot of s.log.keys()) if (slot < s.trimmed) s.log.delete(slot);
  assert(upTo <= msg.upTo && s.promised.proposer === msg.from, () => `${s.id}: trimmed to ${upTo} on a trim to ${msg.upTo} from ${msg.from}`);
  assert(s.trimmed <= s.top, () => `${s.id}: trimmed to ${s.trimmed} past what it has seen, ${s.top}`);
  return { state: s, effects: [{ type: 'persist', records: [{ kind: 'trim', upTo, ...(s.views ? { views: s.views } : {}) }], then: [] }] };
}

/**
 * Views newer than this acceptor knows, from a proposer it trusts, on a trim
 * it does not otherwise take (an answer to its request for views, see
 * `dropped`): they add to the proposers it trusts, and are persisted with
 * its trim point, which does not move. Null when they tell it nothing new.
 */
function takeViews(s: MpAcceptorState, msg: MpTrim): MpStep<MpAcceptorState> | null {
  const views = msg.views === undefined ? null : mergeViews(s.views, msg.views);
  if (views === null) return null;
  assert(s.trusted.includes(msg.from), () => `${s.id}: views from ${msg.from}, which it does not trust`);
  const before = s.views === undefined ? 0 : lastView(s.views).epoch;
  s.views = views;
  s.trusted = trustedProposers(s.config.members.proposers, views);
  assert(lastView(views).epoch > before, () => `${s.id}: took views from ${msg.from} no newer than view ${before}`);
  return { state: s, effects: [{ type: 'persist', records: [{ kind: 'trim', upTo: s.trimmed, views }], then: [] }] };
}

/**
 * ReadIndex: has this acceptor promised anything above the leader's ballot?
 * If not, say so (`confirmed`); if so, a nack tells the leader it is deposed.
 * Nothing is written and the promise does not move: the answer only states
 * what this acceptor has promised at the moment it answers, which is all the
 * leader needs (a majority with nothing above its ballot, after the reads
 * arrived, means no other leader had been elected by then).
 */
function onConfirm(s: MpAcceptorState, msg: MpConfirm): MpStep<MpAcceptorState> {
  assert(compareBallots(s.maxAccepted, s.promised) <= 0, () => `${s.id}: accepted above its promise before a confirm`);
  const judged = judgeBallot(s.trusted, s.promised, msg.from, msg.ballot, s.config.maxRoundJump);
  if (judged.verdict === 'drop') return dropped(s, msg.from, msg.ballot, `confirm ${describeBallot(msg.ballot)}: ${judged.reason}`);
  if (judged.verdict === 'far' || compareBallots(msg.ballot, s.promised) < 0) return { state: s, effects: [nack(s, msg.from, msg.ballot)] };
  assert(compareBallots(s.promised, msg.ballot) <= 0, () => `${s.id}: confirming ${describeBallot(msg.ballot)} below its promise ${describeBallot(s.promised)}`);
  // Only the holder of the promise counts as a live leader for prevotes (as with accepts, which raise the promise first).
  if (ballotEq(msg.ballot, s.promised)) s.heardNow = true;
  return { state: s, effects: [{ type: 'send', to: msg.from, msg: { type: 'confirmed', from: s.id, ballot: msg.ballot, id: msg.id } }] };
}

/**
 * A ballot dropped. One from a proposer this acceptor does not know, at its
 * own ballot, may be from a proposer a view it has not heard of added (a new
 * acceptor knows only the proposers it was configured with, which may all be
 * gone): once per period of its election timer, it asks the proposers it
 * trusts to catch it up, and they answer with the views they know (a trim at
 * their trim point; see `views.ts`). Nothing else changes.
 */
function dropped(s: MpAcceptorState, from: ActorId, ballot: Ballot, reason: string): MpStep<MpAcceptorState> {
  const step = ignore(s, reason);
  if (s.askedViews || ballot.proposer !== from || s.trusted.includes(from) || knownNonProposer(s, from)) return step;
  s.askedViews = true;
  for (const to of s.trusted) step.effects.push({ type: 'send', to, msg: { type: 'catchup', from: s.id, fromSlot: s.trimmed } });
  assert(s.askedViews && !s.trusted.includes(from), () => `${s.id}: asked for views on a ballot of ${from}, which it trusts`);
  return step;
}

/** An acceptor or learner of its configuration or of a view it knows: never a proposer (an actor has one role for life). */
function knownNonProposer(s: MpAcceptorState, id: ActorId): boolean {
  const { acceptors, learners } = s.config.members;
  return acceptors.includes(id) || learners.includes(id) || (s.views !== undefined && (anyViewHas(s.views, 'acceptors', id) || anyViewHas(s.views, 'learners', id)));
}

function nack(s: MpAcceptorState, to: ActorId, ballot: Ballot): MpEffect {
  assert(s.promised !== null, 'nack needs a promise');
  return { type: 'send', to, msg: { type: 'nack', from: s.id, ballot, promised: s.promised } };
}

function ignore(s: MpAcceptorState, reason: string): MpStep<MpAcceptorState> {
  return { state: s, effects: [{ type: 'ignore', reason }] };
}

/** Every accepted ballot is at most the promise; the trim point is within what the acceptor has seen. */
export function mpAcceptorInvariants(s: MpAcceptorState): void {
  assert(compareBallots(s.maxAccepted, s.promised) <= 0, () => `${s.id}: accepted at ${describeBallot(s.maxAccepted)} above promised ${describeBallot(s.promised)}`);
  assert(s.trimmed <= s.top, () => `${s.id}: trimmed to ${s.trimmed} past what it has seen, ${s.top}`);
}
