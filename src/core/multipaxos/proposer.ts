/**
 * The Multi-Paxos proposer. Followers wait for a leader's heartbeats; one
 * that hears none for a randomised election timeout (the random draw is an
 * input) first asks the acceptors whether they would promise its next ballot
 * (PreVote: nothing persisted, so a proposer cut off from a majority never
 * raises its round), and with a majority's yes runs phase 1 once, for every
 * slot from its commit index on. With
 * promises from a majority it becomes the leader: it re-proposes, at its own
 * ballot, the highest-ballot value reported for every slot that may have been
 * chosen, fills the gaps with no-ops, and from then on runs only phase 2 per
 * slot — one round trip per batch of commands — with up to `window` slots in
 * flight and up to `batchMax` commands per slot. The re-proposed slots go
 * through the same window, in slot order, before any new command: after a
 * crash there may be thousands of them, and putting them all in flight at
 * once (and re-sending them all every `retryMs`) swamped the acceptors so
 * that recovery never finished. Chosen slots go to the
 * learners (phase 3). A nack or a heartbeat with a higher ballot makes it
 * step down, and so does not hearing from a majority of acceptors for an
 * election timeout (CheckQuorum: heartbeats go to the acceptors too, and they
 * answer), so a leader cut off from the acceptors stops holding the others
 * back. Rounds come from `core/rounds.ts`, the guard against a proposer "at
 * infinity".
 */
import { assert } from '../assert.js';
import { ballotEq, ballotGt, compareBallots, describeBallot, type Ballot } from '../ballot.js';
import type { ActorId } from '../ids.js';
import { isQuorum } from '../quorum.js';
import { nextRound } from '../rounds.js';
import type { AcceptedEntry, Batch, Command, CommitEntry, MpAccepted, MpApplied, MpCatchup, MpCommit, MpConfig, MpConfirmed, MpEffect, MpHeartbeat, MpInput, MpNack, MpPrevoteOk, MpPromise, MpStep, MpTrim, SlotEntry } from './types.js';
import { slotHorizon } from './acceptor.js';
import { afterBatch, announcesViews, anyViewHas, initialViews, lastView, mergeViews, trustedProposers, trustsProposer, viewAt, viewsFrom, type View } from './views.js';
import { batchJson, committedBatch, committedJson } from './wire.js';
import type { AnyStateMachine } from './machine.js';

/** A proposer's state. Only `roundMax` is durable. */
export interface MpProposerState {
  readonly role: 'proposer';
  readonly id: ActorId;
  readonly config: MpConfig;
  /** `precandidate`: asking for prevotes; `candidate`: running phase 1. */
  mode: 'follower' | 'precandidate' | 'candidate' | 'leader';
  /** Highest round used (persisted before use). */
  roundMax: number;
  /** The highest round each acceptor is known to have promised (learned from its promises and nacks only). */
  readonly known: Map<ActorId, number>;
  /** Acceptors that answered the current attempt (prevote or prepare): the ladder of `nextRound` climbs among them. */
  readonly heard: Set<ActorId>;
  /** The ballot a precandidate asks prevotes for (not yet persisted, so not yet its own `ballot`). */
  preBallot: Ballot | null;
  /** Prevotes granted for `preBallot`. */
  readonly prevotes: Set<ActorId>;
  /** A precandidate already asked again in this election period, with the round a majority's nacks taught it. */
  askedAgain: boolean;
  /** Leader only: acceptors that answered at its ballot since the last quorum check. */
  readonly ackers: Set<ActorId>;
  /** Leader only: those that answered in the period before (a quorum check looks back two periods). */
  readonly ackersLast: Set<ActorId>;
  /** Leader only: acceptors sent an accept since the last heartbeat (they need no heartbeat this time). */
  readonly busy: Set<ActorId>;
  /** Own ballot while candidate or leader. */
  ballot: Ballot | null;
  /** The leader this proposer believes in, and its ballot. */
  leader: ActorId | null;
  leaderBallot: Ballot | null;
  /**
   * Promises at the current ballot, while candidate or leader: what each
   * acceptor reported accepted, by slot. A leader keeps them: it fixes the
   * value it re-proposes for a slot only when it reaches it, from the
   * reports of that slot's view (see `recoveryValue`), and a new view's
   * acceptors promise later, when the view is chosen.
   */
  readonly promises: Map<ActorId, Map<number, AcceptedEntry>>;
  /** Slots proposed and not yet chosen, with who accepted them (a retry goes only to those who have not). */
  readonly inflight: Map<number, { readonly value: Batch; readonly voters: Set<ActorId> }>;
  /**
   * Recovery (leader only): slots [recoverNext, recoverEnd) still to be
   * re-proposed, in order, as the window frees, each with the highest-ballot
   * value a majority of its view's acceptors reported, or a no-op where none
   * did.
   */
  recoverNext: number;
  recoverEnd: number;
  /**
   * Chosen slots this proposer knows (served to catching-up learners): the
   * batches it chose itself, and, as text, those a leader committed to it,
   * parsed only if they may hold a reconfiguration (see CommitEntry and
   * `chosenViews`).
   */
  readonly chosen: Map<number, Batch | string>;
  /** Every slot below it is chosen and in `chosen`. */
  commitIndex: number;
  /** The next free slot. */
  nextSlot: number;
  /** Client commands waiting for a slot. */
  readonly queue: Command[];
  /** True while the retry timer is armed (it must not be pushed back by every new slot, or it would never fire under load). */
  retryArmed: boolean;
  /** True while a catch-up request to the leader is outstanding. */
  catchupArmed: boolean;
  /** Slots below this are chosen, applied by every learner, and discarded. */
  trimmed: number;
  /** How far each learner reports it has applied (leader only). */
  readonly learnerApplied: Map<ActorId, number>;
  /** Leader only, ReadIndex: reads waiting for recovery to end or for a round to be free. */
  readonly readsWaiting: Command[];
  /** Leader only, ReadIndex: confirmation rounds under way, by id, with the commit index their reads wait for and who confirmed. */
  readonly readRounds: Map<number, { readonly index: number; readonly commands: Batch; readonly confirmed: Set<ActorId> }>;
  /** The id of the next confirmation round. Not durable: answers carry the ballot too, and a ballot is never used twice. */
  readSeq: number;
  /**
   * The state machine the log carries: its test for a read-only operation
   * (ReadIndex serves those without the log), and its checks for a committed
   * batch's text. Null: none, so every command goes through the log and
   * every text that must be parsed is refused.
   */
  readonly machine: AnyStateMachine | null;
  /** The views of the log from the trim point on (see `views.ts`): every view chosen below the commit index. */
  views: readonly View[];
  /** The epoch of the last view this proposer persisted as deciding its commit index (a restart starts from it). */
  savedEpoch: number;
  /** Leader only: reconfigurations waiting to be proposed (one at a time, each alone in its slot). */
  readonly reconfigQueue: Command[];
  /** Leader only: slots in flight that hold a reconfiguration. */
  readonly reconfigSlots: Set<number>;
  /** Leader only: the newest view whose acceptors were asked to promise this leader's ballot. */
  askedEpoch: number;
  /** Leader only: views a majority of whose acceptors promised this leader's ballot (a cache of `proposable`, cleared with `promises`). */
  readonly promisedViews: Set<number>;
  /** Counts snapshot requests, to take the learners that can send one in turn. */
  snapshotTurn: number;
  /**
   * Views a leader it trusts announced in heartbeats (the proposers changed,
   * see `views.ts`), kept apart from `views`, which only the log changes:
   * they add to the proposers it trusts, and tell it whether it was added or
   * removed. Not persisted.
   */
  announced: readonly View[] | undefined;
  /** Leader only: removed, it has proposed every slot of its last view, and steps down at the next quorum check (its heartbeats carry the new views until then). */
  leaving: boolean;
  /** It asked every proposer it trusts to catch it up (see `askPeersToCatchUp`): until the catch-up timer fires, it takes their trims, not only the leader's. */
  askedPeers: boolean;
}

/**
 * A fresh proposer, or one recovered from its durable round. `machine` is
 * the replicated state machine: its test for an operation that changes
 * nothing (ReadIndex serves those without the log), and its checks for the
 * commands of a batch committed as text. Without one, every command goes
 * through the log, and committed text that must be parsed is refused.
 */
export function initMpProposer(id: ActorId, config: MpConfig, roundMax = 0, machine: AnyStateMachine | null = null, saved: { readonly base: number; readonly views: readonly View[] } | null = null): MpProposerState {
  const base = saved?.base ?? 0;
  const views = saved?.views ?? initialViews(config.members);
  return {
    role: 'proposer',
    id,
    config,
    mode: 'follower',
    roundMax,
    known: new Map(),
    heard: new Set(),
    preBallot: null,
    prevotes: new Set(),
    askedAgain: false,
    ackers: new Set(),
    ackersLast: new Set(),
    busy: new Set(),
    ballot: null,
    leader: null,
    leaderBallot: null,
    promises: new Map(),
    inflight: new Map(),
    recoverNext: 0,
    recoverEnd: 0,
    chosen: new Map(),
    // A restart starts where the newest view it saved begins: everything below was chosen, and an earlier view's acceptors may be gone for good.
    commitIndex: base,
    nextSlot: base,
    queue: [],
    retryArmed: false,
    catchupArmed: false,
    trimmed: base,
    learnerApplied: new Map(),
    readsWaiting: [],
    readRounds: new Map(),
    readSeq: 0,
    machine,
    views,
    savedEpoch: viewAt(views, base).epoch,
    reconfigQueue: [],
    reconfigSlots: new Set(),
    askedEpoch: 0,
    promisedViews: new Set(),
    snapshotTurn: 0,
    announced: undefined,
    leaving: false,
    askedPeers: false,
  };
}

/** Whether this proposer takes `id` as a proposer: configured, or of a view it knows (see `views.ts`). */
function trusts(s: MpProposerState, id: ActorId): boolean {
  return trustsProposer(s.config.members.proposers, id, s.views, s.announced);
}

/** The other proposers this one trusts: who hears its commits, heartbeats and trims. */
function peers(s: MpProposerState): ActorId[] {
  return trustedProposers(s.config.members.proposers, s.views, s.announced).filter((p) => p !== s.id);
}

/**
 * Whether the newest view this proposer knows names other proposers than
 * it: it was removed (or, a spare, not added yet). It then stands for no
 * election, and leading, proposes no slot of a view that does not name it.
 */
function removed(s: MpProposerState): boolean {
  return !newestView(s).members.proposers.includes(s.id);
}

/** The newest view this proposer knows: chosen in the log it learned, or announced by a leader it trusts. */
function newestView(s: MpProposerState): View {
  return s.announced !== undefined && lastView(s.announced).epoch > lastView(s.views).epoch ? lastView(s.announced) : lastView(s.views);
}

/** The members deciding the proposer's commit index: those it elects itself with, checks its quorum against and confirms reads with. */
function current(s: MpProposerState): View['members'] {
  return viewAt(s.views, s.commitIndex).members;
}

/** Whether `id` is an acceptor of any view this proposer knows (the current one, a newer one, or an older one not yet trimmed). */
function isAcceptor(s: MpProposerState, id: ActorId): boolean {
  return anyViewHas(s.views, 'acceptors', id);
}

/** The acceptors (or learners) of the current view and of every newer one: who hears heartbeats and commits. */
function ahead(s: MpProposerState, role: 'acceptors' | 'learners'): readonly ActorId[] {
  if (s.views.length === 1) return (s.views[0] as View).members[role];
  const ids = new Set<ActorId>();
  for (const v of viewsFrom(s.views, s.commitIndex)) for (const id of v.members[role]) ids.add(id);
  return [...ids];
}

/** Whether a reconfiguration is under way: one in flight, or chosen and not yet deciding (reads wait; so does the next one). */
function reconfiguring(s: MpProposerState): boolean {
  return s.reconfigSlots.size > 0 || lastView(s.views).from > s.commitIndex;
}

/**
 * Moves the commit index over every chosen slot next in line, applying the
 * reconfigurations they hold to the views. A leader asks the acceptors of a
 * newly chosen view to promise its ballot at once, so that they have by the
 * time the view starts deciding; and a proposer whose commit index reaches a
 * new view persists the views, so a restart starts there.
 */
function advanceCommit(s: MpProposerState, fx: MpEffect[]): void {
  const before = s.views;
  for (;;) {
    const value = s.chosen.get(s.commitIndex);
    if (value === undefined) break;
    s.views = chosenViews(s, s.commitIndex, value, fx);
    s.reconfigSlots.delete(s.commitIndex);
    s.commitIndex++;
  }
  if (s.views !== before && s.mode === 'leader') askNewViews(s, fx);
  saveViews(s, fx);
}

/**
 * The views after the batch chosen at `slot` is applied. A batch committed
 * as text is parsed only when it may hold a reconfiguration: valid JSON
 * whose text has neither `reconfig` nor a `\u` escape (the only way to spell
 * a letter of that key otherwise) has no command with that key, so it
 * leaves the views as they are, whatever else it holds; its commands are
 * checked by the learners that apply them. Text that must be parsed and is
 * not a well-formed batch changes nothing either: only a proposer this one
 * trusts could have committed it, and it is ignored with the reason.
 */
function chosenViews(s: MpProposerState, slot: number, value: Batch | string, fx: MpEffect[]): readonly View[] {
  if (typeof value !== 'string') return afterBatch(s.views, slot, value, s.config.window);
  if (!value.includes('reconfig') && !value.includes('\\u')) return s.views;
  const batch = s.machine === null ? 'no state machine to check it against' : committedBatch(value, s.machine);
  if (typeof batch === 'string') {
    fx.push({ type: 'ignore', reason: `the batch committed at slot ${slot}: ${batch}` });
    return s.views;
  }
  s.chosen.set(slot, batch);
  return afterBatch(s.views, slot, batch, s.config.window);
}

/**
 * Persists the views once a newer one decides the trim point: every slot
 * below that view's start is chosen and in every learner's snapshot, so a
 * restarted proposer can start there (see `initMpProposer`) without the
 * acceptors of the views before it, which may be gone for good, and a learner
 * behind it catches up from a snapshot. (Starting at a view's start before
 * the log below it is compacted left a learner that needed those slots with
 * no one to serve them.) A log that never compacts saves when the commit
 * index reaches the view instead.
 */
function saveViews(s: MpProposerState, fx: MpEffect[]): void {
  if (s.views.length === 1 && (s.views[0] as View).epoch <= s.savedEpoch) return;
  const v = viewAt(s.views, s.config.compactEvery === 0 ? s.commitIndex : s.trimmed);
  if (v.epoch <= s.savedEpoch) return;
  s.savedEpoch = v.epoch;
  fx.push({ type: 'persist', records: [{ kind: 'views', base: v.from, views: viewsFrom(s.views, v.from) }], then: [] });
}

/**
 * A leader asks the acceptors of every chosen view newer than the ones asked
 * so far (`again`: of every view still short of a majority of promises, the
 * retry timer's) to promise its ballot for the view's slots.
 */
function askNewViews(s: MpProposerState, fx: MpEffect[], again = false): void {
  assert(s.mode === 'leader' && s.ballot !== null, () => `${s.id}: asking a view to promise while ${s.mode}`);
  // From the commit index, not from the view's start: the first promise an acceptor sends this ballot is the one taken,
  // and it must cover every slot not known chosen. An acceptor of two new views was once asked from each view's start;
  // when its promise from the later one arrived first, the slots of the earlier view went unreported, and the leader
  // filled a chosen one with a no-op. A promise to a prepare sent from commit index c covers every slot from c, and
  // every slot below c was chosen and known when it was sent.
  const asked = new Set<ActorId>();
  for (const v of viewsFrom(s.views, s.commitIndex)) {
    if (again ? isQuorum(v.members.acceptors, s.promises.keys()) : v.epoch <= s.askedEpoch) continue;
    if (v.epoch > s.askedEpoch) s.askedEpoch = v.epoch;
    for (const to of v.members.acceptors) {
      if (s.promises.has(to) || asked.has(to)) continue;
      asked.add(to);
      fx.push({ type: 'send', to, msg: { type: 'prepare', from: s.id, ballot: s.ballot, fromSlot: s.commitIndex } });
    }
  }
  if (awaitingPromises(s)) armRetry(s, fx);
  assert(s.askedEpoch >= viewAt(s.views, s.commitIndex).epoch, () => `${s.id}: asked up to view ${s.askedEpoch}, behind the current view`);
}

/** Leader: a view deciding the commit index or later still lacks a majority of promises (its acceptors are asked again on retry). */
function awaitingPromises(s: MpProposerState): boolean {
  // View 0 is the one every leader was elected in; a later view may be the only one left after a trim, and still lack promises.
  if (lastView(s.views).epoch === 0) return false;
  for (const v of viewsFrom(s.views, s.commitIndex)) if (!isQuorum(v.members.acceptors, s.promises.keys())) return true;
  return false;
}

/**
 * Whether the leader may propose `slot` now: every slot α (the window) or
 * more below it is chosen and known, so its view is known; and a majority of
 * that view's acceptors promised this leader's ballot.
 */
function proposable(s: MpProposerState, slot: number): boolean {
  if (slot >= s.commitIndex + s.config.window && !s.config.bugs.viewBeforeChosen) return false;
  const v = viewAt(s.views, slot);
  // A removed leader finishes the views that name it, and leaves the rest to the proposers of the new one.
  if (!v.members.proposers.includes(s.id) && removed(s)) return false;
  if (s.promisedViews.has(v.epoch)) return true;
  if (!isQuorum(v.members.acceptors, s.promises.keys())) return false;
  s.promisedViews.add(v.epoch);
  return true;
}

/** The value to re-propose at `slot`: the highest-ballot value reported by the acceptors of its view, or a no-op. */
function recoveryValue(s: MpProposerState, slot: number): Batch {
  let best: AcceptedEntry | undefined;
  for (const a of viewAt(s.views, slot).members.acceptors) {
    const e = s.promises.get(a)?.get(slot);
    if (e !== undefined && (best === undefined || compareBallots(e.ballot, best.ballot) > 0)) best = e;
  }
  for (const reports of s.promises.values()) reports.delete(slot);
  return best?.value ?? [];
}

/** One step of the proposer; `random` in [0, 1) sets election timeouts. */
export function stepMpProposer(s: MpProposerState, input: MpInput, random: number): MpStep<MpProposerState> {
  const fx: MpEffect[] = [];
  switch (input.type) {
    case 'start':
      armElection(s, fx, random);
      break;
    case 'request':
      onRequest(s, input.commands, fx);
      break;
    case 'timeout':
      if (input.timer === 'election') {
        if (s.mode === 'leader') checkQuorum(s, fx, random);
        else if (removed(s)) {
          // A removed proposer (or a spare not added yet) stands for nothing; it keeps following whoever leads, and
          // asks the proposers it trusts for the log, which may name it again (a leader it does not know yet may not
          // heartbeat it, and with none, no one would).
          if (s.mode !== 'follower') stepDown(s, s.leader, fx, random);
          else armElection(s, fx, random);
          fx.push({ type: 'ignore', reason: `${s.id} is not a proposer of view ${newestView(s).epoch}: no election` });
          askPeersToCatchUp(s, fx);
        }
        else if (s.mode === 'candidate' && !isQuorum(current(s).acceptors, s.heard)) retryPrepare(s, fx, random);
        else startPrevote(s, fx, random);
      } else if (input.timer === 'heartbeat') onHeartbeatTimer(s, fx);
      else if (input.timer === 'retry') onRetryTimer(s, fx);
      else s.catchupArmed = s.askedPeers = false;
      break;
    case 'receive': {
      const m = input.msg;
      if (m.type === 'prevote-ok') onPrevoteOk(s, m, fx, random);
      else if (m.type === 'promise') onPromise(s, m, fx);
      else if (m.type === 'accepted') onAccepted(s, m, fx);
      else if (m.type === 'nack') onNack(s, m, fx, random);
      else if (m.type === 'heartbeat') onHeartbeat(s, m, fx, random);
      else if (m.type === 'catchup') onCatchup(s, m, fx);
      else if (m.type === 'commit') onCommit(s, m, fx);
      else if (m.type === 'applied') onLearnerApplied(s, m, fx);
      else if (m.type === 'trim') onTrim(s, m, fx);
      else if (m.type === 'confirmed') onConfirmed(s, m, fx);
      else fx.push({ type: 'ignore', reason: `proposer does not take ${m.type}` });
      break;
    }
  }
  // Whatever moved the commit index or freed a round may let waiting reads go.
  if (s.mode === 'leader' && s.readsWaiting.length > 0) startReadRounds(s, fx);
  return { state: s, effects: fx };
}

function onRequest(s: MpProposerState, commands: readonly Command[], fx: MpEffect[]): void {
  if (s.mode !== 'leader') {
    fx.push({ type: 'reject', commands, leader: s.leader === s.id ? null : s.leader });
    return;
  }
  assert(s.ballot !== null && s.leader === s.id, () => `${s.id}: leading without a ballot, or following ${s.leader}`);
  // ReadIndex: reads take no slot; they wait for a confirmation round (started at the end of the step).
  // A client's first command (seq 1) always goes through the log: it opens the client's session, which a read served
  // by ReadIndex would not, and without one the client's next write would be refused as from an evicted session.
  for (const c of commands) {
    if (c.reconfig !== undefined) s.reconfigQueue.push(c);
    else (s.config.reads === 'index' && c.seq !== 1 && s.machine !== null && s.machine.readOnly(c.op) ? s.readsWaiting : s.queue).push(c);
  }
  pump(s, fx);
  assert(s.inflight.size <= s.config.window, () => `${s.id}: ${s.inflight.size} slots in flight, window ${s.config.window}`);
}

/**
 * Phase 2a while the window has room: first the slots recovery still owes,
 * in slot order, then new slots for queued commands; one accept message per
 * acceptor for the lot (split when over `maxAcceptBytes`).
 */
function pump(s: MpProposerState, fx: MpEffect[]): void {
  assert(s.mode === 'leader' && s.ballot !== null, () => `${s.id}: proposing while ${s.mode}`);
  assert(s.recoverEnd <= s.nextSlot, () => `${s.id}: recovery end ${s.recoverEnd} past next slot ${s.nextSlot}`);
  const entries: SlotEntry[] = [];
  while (s.recoverNext < s.recoverEnd && (s.inflight.size < s.config.window || s.config.bugs.unwindowedRecovery) && (s.chosen.has(s.recoverNext) || proposable(s, s.recoverNext) || s.config.bugs.unwindowedRecovery)) {
    const slot = s.recoverNext++;
    // Learned chosen since the election (a commit from the old leader): nothing to re-propose.
    if (s.chosen.has(slot)) {
      for (const reports of s.promises.values()) reports.delete(slot);
      continue;
    }
    const value = recoveryValue(s, slot);
    if (value.some((c) => c.reconfig !== undefined)) s.reconfigSlots.add(slot);
    s.inflight.set(slot, { value, voters: new Set() });
    entries.push({ slot, value });
  }
  // A reconfiguration goes alone in its slot, one at a time, and never while reads wait for a confirmation (see startReadRounds).
  if (s.recoverNext >= s.recoverEnd && s.reconfigQueue.length > 0 && s.readRounds.size === 0 && !reconfiguring(s) && s.inflight.size < s.config.window && proposable(s, s.nextSlot)) {
    const value = [s.reconfigQueue.shift() as Command];
    const slot = s.nextSlot++;
    s.inflight.set(slot, { value, voters: new Set() });
    s.reconfigSlots.add(slot);
    entries.push({ slot, value });
    // Control bug `viewBeforeChosen`: the new view decides from the next slot on, before anyone knows it is chosen.
    const r = (value[0] as Command).reconfig;
    if (s.config.bugs.viewBeforeChosen && r !== undefined && r.epoch === lastView(s.views).epoch) s.views = [...s.views, { epoch: r.epoch + 1, from: slot + 1, members: r.members }];
  }
  while (s.recoverNext >= s.recoverEnd && s.queue.length > 0 && s.inflight.size < s.config.window && proposable(s, s.nextSlot)) {
    const value = s.queue.splice(0, s.config.batchMax);
    const slot = s.nextSlot++;
    s.inflight.set(slot, { value, voters: new Set() });
    entries.push({ slot, value });
  }
  // A chosen view starts deciding only once the log reaches it: with no commands to carry it there, no-ops do (as "Paxos
  // Made Simple" suggests), or reads and the next reconfiguration, which wait for it, would wait for good on an idle log.
  while (s.recoverNext >= s.recoverEnd && s.queue.length === 0 && s.nextSlot < lastView(s.views).from && s.inflight.size < s.config.window && proposable(s, s.nextSlot)) {
    const slot = s.nextSlot++;
    s.inflight.set(slot, { value: [], voters: new Set() });
    entries.push({ slot, value: [] });
  }
  if (entries.length === 0) return;
  sendAccepts(s, entries, fx);
  armRetry(s, fx);
}

/** Sends accepts for `entries` to the acceptors of each entry's view (or to those of `to` among them). */
function sendAccepts(s: MpProposerState, entries: readonly SlotEntry[], fx: MpEffect[], to?: readonly ActorId[]): void {
  const ballot = s.ballot as Ballot;
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = -1;
  for (const e of entries) {
    if (e.slot < lo) lo = e.slot;
    if (e.slot > hi) hi = e.slot;
  }
  // Nearly always one view holds them all (views are runs of slots): one split, sent to each of its acceptors.
  const first = viewAt(s.views, lo);
  if (first === viewAt(s.views, hi)) {
    const acceptors = to === undefined ? first.members.acceptors : first.members.acceptors.filter((a) => to.includes(a));
    for (const part of splitBySize(entries, s.config.maxAcceptBytes)) for (const a of acceptors) fx.push({ type: 'send', to: a, msg: { type: 'accept', from: s.id, ballot, entries: part } });
    for (const a of acceptors) s.busy.add(a);
    return;
  }
  const perAcceptor = new Map<ActorId, SlotEntry[]>();
  for (const e of entries) {
    for (const a of viewAt(s.views, e.slot).members.acceptors) {
      if (to !== undefined && !to.includes(a)) continue;
      const list = perAcceptor.get(a);
      if (list) list.push(e);
      else perAcceptor.set(a, [e]);
    }
  }
  for (const [a, list] of perAcceptor) {
    for (const part of splitBySize(list, s.config.maxAcceptBytes)) fx.push({ type: 'send', to: a, msg: { type: 'accept', from: s.id, ballot, entries: part } });
    s.busy.add(a);
  }
}

/** Consecutive runs of `entries` of at most `max` bytes of batch JSON each (an entry bigger than that alone). */
function splitBySize(entries: readonly SlotEntry[], max: number): SlotEntry[][] {
  const parts: SlotEntry[][] = [];
  let part: SlotEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    // The JSON text is what travels and what the acceptor logs; it is cached per batch, so this costs one encoding per batch at most.
    const size = batchJson(e.value).length + ENTRY_OVERHEAD;
    if (part.length > 0 && bytes + size > max) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(e);
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/** Bytes an accept entry costs besides its batch: the slot and the JSON around it. */
const ENTRY_OVERHEAD = 32;

/** Phase 2b: a slot accepted by a majority is chosen; chosen slots go to the learners. */
function onAccepted(s: MpProposerState, m: MpAccepted, fx: MpEffect[]): void {
  if (s.mode !== 'leader' || !ballotEq(m.ballot, s.ballot)) {
    fx.push({ type: 'ignore', reason: `stale accepted ${describeBallot(m.ballot)}` });
    return;
  }
  if (!isAcceptor(s, m.from)) {
    fx.push({ type: 'ignore', reason: `accepted from non-acceptor ${m.from}` });
    return;
  }
  assert(s.ballot !== null && m.ballot.proposer === s.id, () => `${s.id}: an accepted at our ballot names ${m.ballot.proposer}`);
  // Any answer at our ballot (an empty one answers a heartbeat) shows this acceptor still hears us.
  s.ackers.add(m.from);
  if (m.ballot.round > (s.known.get(m.from) ?? 0)) s.known.set(m.from, m.ballot.round);
  // Each batch goes as the JSON text its accepts carried (cached, see batchJson): learners parse it, followers keep it (see CommitEntry).
  const newly: CommitEntry[] = [];
  for (const slot of m.slots) {
    const e = s.inflight.get(slot);
    if (!e) continue;
    // A slot is decided by its own view's acceptors alone.
    const { acceptors } = viewAt(s.views, slot).members;
    if (!acceptors.includes(m.from)) continue;
    e.voters.add(m.from);
    if (!isQuorum(acceptors, e.voters)) continue;
    s.inflight.delete(slot);
    s.chosen.set(slot, e.value);
    newly.push({ slot, value: batchJson(e.value) });
  }
  if (newly.length === 0) return;
  const learners = ahead(s, 'learners');
  advanceCommit(s, fx);
  // Slots another leader chose past ours (a commit this leader took while deposed without knowing it) may carry the commit index past them.
  if (s.nextSlot < s.commitIndex) s.nextSlot = s.commitIndex;
  assert(s.commitIndex <= s.nextSlot, () => `${s.id}: commit index ${s.commitIndex} past the next slot ${s.nextSlot}`);
  const commit = { type: 'commit', from: s.id, entries: newly } as const;
  for (const to of learners) fx.push({ type: 'send', to, msg: commit });
  // The other proposers learn the log too, so a new leader re-proposes only the slots not known chosen.
  for (const to of peers(s)) fx.push({ type: 'send', to, msg: commit });
  pump(s, fx);
}

/** A follower learns chosen slots from the leader (or from a catch-up answer). */
function onCommit(s: MpProposerState, m: MpCommit, fx: MpEffect[]): void {
  if (!trusts(s, m.from)) {
    fx.push({ type: 'ignore', reason: `commit from non-proposer ${m.from}` });
    return;
  }
  // Slots far past the commit index are left for catch-up: kept, a member's commit for slot 2^53-2 would
  // make this proposer, once elected, fill every slot below it with no-ops (recovery runs to the highest slot it knows).
  const horizon = s.commitIndex + slotHorizon(s.config);
  let beyond = 0;
  for (const e of m.entries) {
    if (e.slot >= horizon) beyond++;
    else if (e.slot >= s.commitIndex && !s.inflight.has(e.slot)) s.chosen.set(e.slot, e.value);
  }
  if (beyond > 0) fx.push({ type: 'ignore', reason: `commit from ${m.from}: ${beyond} slot(s) at or past ${horizon} left for catch-up` });
  advanceCommit(s, fx);
  assert(s.commitIndex <= horizon, () => `${s.id}: a commit moved the commit index to ${s.commitIndex}, past the horizon ${horizon}`);
  assert(!s.chosen.has(s.commitIndex), () => `${s.id}: the commit index ${s.commitIndex} stopped at a chosen slot`);
  // A leader that hears of slots chosen past its own next slot has been deposed without knowing it yet;
  // it must not propose into them, and the acceptors' nacks will soon tell it to step down.
  if (s.nextSlot < s.commitIndex) s.nextSlot = s.commitIndex;
  // `chosen` holds exactly [trimmed, commitIndex) plus whatever arrived past a gap, so more than that is a gap to fill.
  // (It once compared with commitIndex alone, which is wrong once a trim has dropped the slots below `trimmed`.)
  if (s.mode === 'follower' && s.leader !== null && (beyond > 0 || s.chosen.size > s.commitIndex - s.trimmed)) requestCatchup(s, s.leader, fx);
}

/** Asks every proposer this one trusts for the chosen slots from its commit index on (one request per retry period). */
function askPeersToCatchUp(s: MpProposerState, fx: MpEffect[]): void {
  if (s.catchupArmed) return;
  s.catchupArmed = s.askedPeers = true;
  for (const to of peers(s)) fx.push({ type: 'send', to, msg: { type: 'catchup', from: s.id, fromSlot: s.commitIndex } });
  fx.push({ type: 'setTimer', timer: 'catchup', delay: s.config.retryMs });
}

/** A follower behind the leader's commit index asks it for the missing slots (one request per retry period). */
function requestCatchup(s: MpProposerState, leader: ActorId, fx: MpEffect[]): void {
  if (s.catchupArmed || leader === s.id) return;
  s.catchupArmed = true;
  fx.push({ type: 'send', to: leader, msg: { type: 'catchup', from: s.id, fromSlot: s.commitIndex } });
  fx.push({ type: 'setTimer', timer: 'catchup', delay: s.config.retryMs });
}

/**
 * PreVote: ask the acceptors whether they would promise the next ballot.
 * Nothing is persisted and the round is not raised until a majority says
 * yes, so a proposer that cannot reach a majority (cut off for days, say)
 * comes back with the round it left with, and disrupts nobody.
 */
function startPrevote(s: MpProposerState, fx: MpEffect[], random: number, again = false): void {
  assert(s.mode !== 'leader', () => `${s.id}: prevote while leader`);
  assert(s.inflight.size === 0 && s.queue.length === 0, () => `${s.id}: prevote with slots in flight or commands queued`);
  const { acceptors } = current(s);
  const round = prevoteRound(s);
  const ballot: Ballot = { round, proposer: s.id };
  s.mode = 'precandidate';
  s.ballot = null;
  s.preBallot = ballot;
  s.askedAgain = again;
  s.prevotes.clear();
  s.heard.clear();
  s.promises.clear();
  s.promisedViews.clear();
  for (const to of acceptors) fx.push({ type: 'send', to, msg: { type: 'prevote', from: s.id, ballot } });
  if (!again) armElection(s, fx, random);
}

/**
 * The round of the next prevote (`nextRound`). An acceptor not heard from yet
 * is taken to stand where the highest one known stands: a prevote too high
 * costs nothing (no round is persisted until a majority would promise it),
 * and the nacks it draws teach the ladder.
 */
function prevoteRound(s: MpProposerState): number {
  const top = Math.max(0, ...s.known.values());
  return nextRound(current(s).acceptors, s.roundMax, (a) => s.known.get(a) ?? top, s.heard, s.config.maxRoundJump);
}

/** A prevote granted; with a majority, stand for election at that ballot. */
function onPrevoteOk(s: MpProposerState, m: MpPrevoteOk, fx: MpEffect[], random: number): void {
  if (s.mode !== 'precandidate' || !ballotEq(m.ballot, s.preBallot)) {
    fx.push({ type: 'ignore', reason: `stale prevote-ok ${describeBallot(m.ballot)}` });
    return;
  }
  if (!current(s).acceptors.includes(m.from)) {
    fx.push({ type: 'ignore', reason: `prevote-ok from ${m.from}, not an acceptor of the current view` });
    return;
  }
  assert(s.preBallot !== null && s.preBallot.round > s.roundMax, () => `${s.id}: prevote ballot ${describeBallot(s.preBallot)} not above roundMax ${s.roundMax}`);
  s.prevotes.add(m.from);
  assert(s.prevotes.size <= current(s).acceptors.length, () => `${s.id}: more prevotes than acceptors`);
  if (isQuorum(current(s).acceptors, s.prevotes)) startElection(s, s.preBallot as Ballot, fx, random);
}

/** Stand for election: persist the round, then prepare every slot not known chosen. */
function startElection(s: MpProposerState, ballot: Ballot, fx: MpEffect[], random: number): void {
  assert(s.mode === 'precandidate' && ballot.proposer === s.id, () => `${s.id}: election from ${s.mode} at ${describeBallot(ballot)}`);
  assert(ballot.round > s.roundMax, () => `${s.id}: round ${ballot.round} not above roundMax ${s.roundMax}`);
  s.mode = 'candidate';
  s.roundMax = ballot.round;
  s.ballot = ballot;
  s.preBallot = null;
  s.promises.clear();
  s.promisedViews.clear();
  s.heard.clear();
  fx.push({ type: 'persist', records: [{ kind: 'round', roundMax: ballot.round }], then: prepareAll(s, ballot) });
  armElection(s, fx, random);
}

function prepareAll(s: MpProposerState, ballot: Ballot): MpEffect[] {
  return current(s).acceptors.map((to) => ({ type: 'send', to, msg: { type: 'prepare', from: s.id, ballot, fromSlot: s.commitIndex } }));
}

/**
 * A candidate that heard from no majority retries its own ballot (acceptors
 * answer an equal prepare again) instead of climbing: its round was
 * persisted before the first prepare left.
 */
function retryPrepare(s: MpProposerState, fx: MpEffect[], random: number): void {
  assert(s.mode === 'candidate' && s.ballot !== null, () => `${s.id}: retrying a prepare while ${s.mode}`);
  assert(s.ballot.round <= s.roundMax, () => `${s.id}: ballot above its durable round`);
  for (const e of prepareAll(s, s.ballot)) if (e.type === 'send' && !s.heard.has(e.to)) fx.push(e);
  armElection(s, fx, random);
}

/** Phase 1b: with a majority, become the leader. */
function onPromise(s: MpProposerState, m: MpPromise, fx: MpEffect[]): void {
  // Once the log has been reconfigured, a leader still takes promises from acceptors that have not promised yet: a newer
  // view's were asked when it was chosen, and their answers may come after the view began. (A log never reconfigured
  // ignores late promises, as it always did.)
  const forNewView = s.mode === 'leader' && lastView(s.views).epoch > 0 && !s.promises.has(m.from);
  if ((s.mode !== 'candidate' && !forNewView) || !ballotEq(m.ballot, s.ballot)) {
    fx.push({ type: 'ignore', reason: `stale promise ${describeBallot(m.ballot)}` });
    return;
  }
  if (!isAcceptor(s, m.from)) {
    fx.push({ type: 'ignore', reason: `promise from non-acceptor ${m.from}` });
    return;
  }
  assert(s.ballot !== null && (s.mode === 'leader' || s.inflight.size === 0), () => `${s.id}: a candidate without a ballot, or with slots in flight`);
  s.heard.add(m.from);
  if (m.ballot.round > (s.known.get(m.from) ?? 0)) s.known.set(m.from, m.ballot.round);
  const reports = new Map<number, AcceptedEntry>();
  for (const e of s.config.bugs.ignorePromisedValues ? [] : m.entries) {
    const prior = reports.get(e.slot);
    if (e.slot >= s.commitIndex && (prior === undefined || compareBallots(e.ballot, prior.ballot) > 0)) reports.set(e.slot, e);
  }
  s.promises.set(m.from, reports);
  // Slots below an acceptor's trim point are chosen and applied everywhere: never propose there again.
  trimTo(s, m.trimmed, m.views, fx);
  assert(s.commitIndex >= s.trimmed && !s.chosen.has(s.commitIndex), () => `${s.id}: commit index ${s.commitIndex} behind trimmed ${s.trimmed} or at a chosen slot`);
  if (s.mode === 'leader') {
    // Slots the new view's acceptors accepted past what recovery covers are recovered too.
    let top = -1;
    for (const slot of reports.keys()) if (slot > top) top = slot;
    if (top >= s.nextSlot) {
      if (s.recoverNext >= s.recoverEnd) s.recoverNext = s.nextSlot;
      s.recoverEnd = s.nextSlot = top + 1;
    }
    pump(s, fx);
    return;
  }
  if (isQuorum(current(s).acceptors, s.promises.keys())) becomeLeader(s, fx);
}

/**
 * Recovery: for every slot from the commit index up to the highest slot any
 * promise reported, re-propose the value accepted at the highest ballot, or a
 * no-op where nothing was reported, so the log has no holes. The values are
 * fixed now, from this quorum's promises, which is what makes them safe to
 * propose at this ballot however late they are sent; `pump` sends them a
 * window at a time.
 */
function becomeLeader(s: MpProposerState, fx: MpEffect[]): void {
  assert(s.mode === 'candidate' && s.ballot !== null, () => `${s.id}: elected while ${s.mode}`);
  assert(s.inflight.size === 0 && s.queue.length === 0, () => `${s.id}: a candidate with slots in flight or commands queued`);
  let maxSlot = s.commitIndex - 1;
  // (Control bug `ignorePromisedValues`: onPromise kept no reports.)
  for (const reports of s.promises.values()) {
    for (const slot of reports.keys()) {
      if (slot < s.commitIndex) reports.delete(slot);
      else if (slot > maxSlot) maxSlot = slot;
    }
  }
  for (const slot of s.chosen.keys()) if (slot > maxSlot) maxSlot = slot;
  s.mode = 'leader';
  s.leader = s.id;
  s.leaderBallot = s.ballot;
  s.askedEpoch = viewAt(s.views, s.commitIndex).epoch;
  s.recoverNext = s.commitIndex;
  s.recoverEnd = maxSlot + 1;
  s.nextSlot = maxSlot + 1;
  s.ackers.clear();
  s.ackersLast.clear();
  for (const a of s.heard) s.ackers.add(a);
  // The election timer now paces CheckQuorum: a fixed period, by which a majority must have answered.
  fx.push({ type: 'elected', ballot: s.ballot as Ballot }, { type: 'setTimer', timer: 'election', delay: s.config.electionMaxMs });
  // Views already chosen and not yet deciding: their acceptors promise now, before the log reaches them.
  askNewViews(s, fx);
  pump(s, fx);
  onHeartbeatTimer(s, fx);
}

/**
 * A refusal. It tells where the acceptor stands (the ladder of `nextRound`
 * uses it); a higher ballot than ours means someone else leads or stands:
 * give up leadership (or candidacy) and tell the waiting clients to go
 * elsewhere.
 */
function onNack(s: MpProposerState, m: MpNack, fx: MpEffect[], random: number): void {
  if (!isAcceptor(s, m.from)) {
    fx.push({ type: 'ignore', reason: `nack from non-acceptor ${m.from}` });
    return;
  }
  assert(Number.isSafeInteger(m.promised.round) && m.promised.round >= 0, () => `${s.id}: nack names round ${m.promised.round}`);
  if (m.promised.round > (s.known.get(m.from) ?? 0)) s.known.set(m.from, m.promised.round);
  const mine = s.mode === 'precandidate' ? s.preBallot : s.ballot;
  if (ballotEq(m.ballot, mine)) s.heard.add(m.from);
  // A majority refused the prevote and named their promises: ask again at once (once per election period) with the
  // round they taught, rather than wait a whole election timeout. If they refused because they hear a live leader,
  // they refuse again, and that is that.
  // A precandidate has nothing to give up (no ballot of its own yet), so a refused prevote never makes it step down.
  if (s.mode === 'precandidate' && ballotEq(m.ballot, mine)) {
    if (!s.askedAgain && isQuorum(current(s).acceptors, s.heard)) {
      if (prevoteRound(s) > (mine as Ballot).round) {
        startPrevote(s, fx, random, true);
        return;
      }
    }
    fx.push({ type: 'ignore', reason: `prevote ${describeBallot(m.ballot)} refused by ${m.from} (promised ${describeBallot(m.promised)})` });
    return;
  }
  if (s.mode === 'follower' || !ballotEq(m.ballot, mine) || !ballotGt(m.promised, mine)) {
    fx.push({ type: 'ignore', reason: `nack for ${describeBallot(m.ballot)} changes nothing` });
    return;
  }
  assert(mine !== null && mine.proposer === s.id, () => `${s.id}: nack for a ballot not its own`);
  stepDown(s, m.promised.proposer, fx, random);
}

/**
 * A leader's heartbeat. Its round is never adopted (a heartbeat's round
 * passed no acceptor's guard: adopting a made-up one, 5,000,000 from a buggy
 * member, left every proposer's ballots out of the acceptors' range for good),
 * and it is believed at all only within `maxRoundJump` of what some acceptor
 * is known to have promised, the range an acceptor would take. A proposer
 * that does not believe it stands for election as usual; the acceptors, which
 * still hear that leader, refuse its prevote, and their nacks teach it the
 * round.
 */
function onHeartbeat(s: MpProposerState, m: MpHeartbeat, fx: MpEffect[], random: number): void {
  if (!trusts(s, m.from) || m.ballot.proposer !== m.from || m.from === s.id) {
    fx.push({ type: 'ignore', reason: `heartbeat from ${m.from} at ${describeBallot(m.ballot)}: not a proposer's own ballot` });
    // A leader it does not know, ahead of it, may be one that views it missed named (this proposer is new, say): the
    // proposers it trusts catch it up, and the log it learns from them names whom else to trust (see `views.ts`).
    if (m.ballot.proposer === m.from && m.from !== s.id && m.commitIndex > s.commitIndex && !isAcceptor(s, m.from) && !anyViewHas(s.views, 'learners', m.from)) askPeersToCatchUp(s, fx);
    return;
  }
  if (m.ballot.round - Math.max(0, ...s.known.values()) > s.config.maxRoundJump) {
    fx.push({ type: 'ignore', reason: `heartbeat at ${describeBallot(m.ballot)}: more than ${s.config.maxRoundJump} rounds past what any acceptor is known to have promised` });
    return;
  }
  if (compareBallots(m.ballot, s.leaderBallot) < 0) {
    fx.push({ type: 'ignore', reason: `heartbeat from deposed leader ${m.from}` });
    return;
  }
  assert(m.ballot.proposer === m.from && m.from !== s.id, () => `${s.id}: heartbeat from ${m.from} at ${describeBallot(m.ballot)}`);
  // Views a trusted leader announces: whom else to trust, and whether this proposer was added or removed.
  if (m.views !== undefined) s.announced = mergeViews(s.announced, m.views) ?? s.announced;
  s.leader = m.from;
  s.leaderBallot = m.ballot;
  assert(s.mode !== 'leader' || ballotGt(m.ballot, s.ballot), () => `${s.id}: a leader believes a heartbeat not above its own ballot`);
  // A precandidate has promised and persisted nothing: a live leader is what it was looking for.
  if (s.mode === 'precandidate') {
    stepDown(s, m.from, fx, random);
    return;
  }
  if (s.mode !== 'follower') {
    if (!ballotGt(m.ballot, s.ballot)) return;
    stepDown(s, m.from, fx, random);
    return;
  }
  armElection(s, fx, random);
  if (m.commitIndex > s.commitIndex) requestCatchup(s, m.from, fx);
}

function stepDown(s: MpProposerState, leader: ActorId | null, fx: MpEffect[], random: number): void {
  const waiting: Command[] = [...s.queue, ...s.readsWaiting, ...s.reconfigQueue];
  for (const e of s.inflight.values()) waiting.push(...e.value);
  for (const r of s.readRounds.values()) waiting.push(...r.commands);
  s.readsWaiting.length = 0;
  s.readRounds.clear();
  s.mode = 'follower';
  s.leader = leader;
  s.leaving = false;
  s.preBallot = null;
  s.prevotes.clear();
  s.ackers.clear();
  s.ackersLast.clear();
  s.busy.clear();
  s.queue.length = 0;
  s.reconfigQueue.length = 0;
  s.reconfigSlots.clear();
  s.inflight.clear();
  s.recoverNext = s.recoverEnd = 0;
  s.promises.clear();
  s.promisedViews.clear();
  s.retryArmed = false;
  fx.push({ type: 'cancelTimer', timer: 'heartbeat' }, { type: 'cancelTimer', timer: 'retry' });
  if (waiting.length > 0) fx.push({ type: 'reject', commands: waiting, leader });
  armElection(s, fx, random);
}

/**
 * CheckQuorum (the election timer while leading): a leader that no majority
 * of acceptors answered during the last two periods abdicates, so that a
 * leader cut off from the acceptors but not from the other proposers stops
 * heartbeating them into waiting for it. Two periods, not one, so that a
 * machine too busy to run the acceptors for one period (which happens under
 * load) does not make the leader abdicate for nothing.
 */
function checkQuorum(s: MpProposerState, fx: MpEffect[], random: number): void {
  assert(s.mode === 'leader' && s.ballot !== null, () => `${s.id}: quorum check while ${s.mode}`);
  // Removed, with every slot of its views chosen: one more period of heartbeats carrying the new views, then step down.
  const view = viewAt(s.views, s.commitIndex);
  if (removed(s) && !view.members.proposers.includes(s.id)) {
    if (s.leaving) {
      fx.push({ type: 'ignore', reason: `abdicate: not a proposer of view ${view.epoch}, which decides from slot ${view.from}` });
      stepDown(s, null, fx, random);
      return;
    }
    s.leaving = true;
  }
  const answered = new Set([...s.ackers, ...s.ackersLast]);
  const { acceptors } = current(s);
  if (isQuorum(acceptors, answered)) {
    s.ackersLast.clear();
    for (const a of s.ackers) s.ackersLast.add(a);
    s.ackers.clear();
    fx.push({ type: 'setTimer', timer: 'election', delay: s.config.electionMaxMs });
    return;
  }
  assert(!acceptors.every((a) => answered.has(a)), () => `${s.id}: every acceptor answered, yet no quorum`);
  fx.push({ type: 'ignore', reason: `abdicate: ${acceptors.filter((a) => answered.has(a)).length} of ${acceptors.length} acceptors answered at ${describeBallot(s.ballot)} in the last ${2 * s.config.electionMaxMs}` });
  stepDown(s, null, fx, random);
}

function onHeartbeatTimer(s: MpProposerState, fx: MpEffect[]): void {
  if (s.mode !== 'leader') {
    fx.push({ type: 'ignore', reason: 'heartbeat timer while not leader' });
    return;
  }
  assert(s.ballot !== null && ballotEq(s.leaderBallot, s.ballot), () => `${s.id}: leading at ${describeBallot(s.ballot)}, believing ${describeBallot(s.leaderBallot)}`);
  assert(s.inflight.size <= s.config.window, () => `${s.id}: ${s.inflight.size} slots in flight, window ${s.config.window}`);
  // Views naming other proposers than the configured ones go with every heartbeat, to every acceptor (busy or not):
  // an actor trusts only proposers it knows of, and hears of new ones from a leader it trusts (see `views.ts`).
  const announce = announcesViews(s.config.members.proposers, s.views);
  const msg: MpHeartbeat = { type: 'heartbeat', from: s.id, ballot: s.ballot, commitIndex: s.commitIndex, ...(announce ? { views: s.views } : {}) };
  for (const to of peers(s)) fx.push({ type: 'send', to, msg });
  for (const to of ahead(s, 'learners')) fx.push({ type: 'send', to, msg });
  // An acceptor sent accepts since the last heartbeat heard from us already, and its answers count for CheckQuorum.
  for (const to of ahead(s, 'acceptors')) if (announce || !s.busy.has(to)) fx.push({ type: 'send', to, msg });
  s.busy.clear();
  fx.push({ type: 'setTimer', timer: 'heartbeat', delay: s.config.heartbeatMs });
}

/**
 * Re-send accepts for slots still in flight (lost messages, restarted or
 * slow acceptors), each only to the acceptors that have not voted for it:
 * the others' votes are counted already, and re-sending to them only gave a
 * lagging acceptor more to wade through.
 */
function onRetryTimer(s: MpProposerState, fx: MpEffect[]): void {
  s.retryArmed = false;
  if (s.mode !== 'leader' || (s.inflight.size === 0 && s.readRounds.size === 0 && !awaitingPromises(s))) {
    fx.push({ type: 'ignore', reason: s.mode !== 'leader' ? `retry timer while ${s.mode}` : 'retry timer with nothing in flight' });
    return;
  }
  assert(s.ballot !== null, () => `${s.id}: leader without a ballot`);
  assert(s.inflight.size <= s.config.window, () => `${s.id}: ${s.inflight.size} slots in flight, window ${s.config.window}`);
  // Control bug `noAcceptRetry`: nothing is re-sent, so a lost accept or accepted reply holds its slot in flight for good.
  for (const to of s.config.bugs.noAcceptRetry ? [] : ahead(s, 'acceptors')) {
    const entries: SlotEntry[] = [];
    for (const [slot, e] of s.inflight) if (!e.voters.has(to)) entries.push({ slot, value: e.value });
    if (entries.length > 0) sendAccepts(s, entries, fx, [to]);
  }
  // A view's acceptors that have not promised yet are asked again.
  if (awaitingPromises(s)) askNewViews(s, fx, true);
  // Confirmation rounds still short of a majority ask again those that have not answered.
  for (const [id, round] of s.readRounds) {
    for (const to of current(s).acceptors) if (!round.confirmed.has(to)) fx.push({ type: 'send', to, msg: { type: 'confirm', from: s.id, ballot: s.ballot, id } });
  }
  armRetry(s, fx);
}

/**
 * ReadIndex, leader side. Reads wait until recovery is over (before, the
 * commit index need not cover every slot earlier leaders chose), then go in
 * one confirmation round at a time, as etcd's server batches them: every read
 * waiting when a round starts (up to `window` × `batchMax`, what the learners
 * hold) goes in it, and reads that arrive meanwhile wait for the next. A
 * round per batch of requests (up to `window` at once, as before) cost every
 * acceptor a message per batch under load, and reads with 8 or 64 clients
 * ran slower than writes. A round records the commit index now, which covers
 * every write acknowledged before its reads arrived, and asks every acceptor
 * to confirm that it has promised nothing above this leader's ballot.
 */
function startReadRounds(s: MpProposerState, fx: MpEffect[]): void {
  assert(s.mode === 'leader' && s.ballot !== null, () => `${s.id}: read round while ${s.mode}`);
  assert(s.readRounds.size <= s.config.window, () => `${s.id}: ${s.readRounds.size} read rounds, window ${s.config.window}`);
  if (s.commitIndex < s.recoverEnd) return;
  // Reads wait out a reconfiguration (and one waiting to go): with a single view, its majority's confirmation covers every leader that could have chosen a write.
  // They also wait for the promises of every view from the commit index: until they are in, what those views' acceptors
  // accepted is unknown, so the commit index may not cover every write chosen there (a leader restarted behind a view
  // that a single acceptor decides once confirmed reads there at a commit index below writes that acceptor had chosen).
  if (reconfiguring(s) || s.reconfigQueue.length > 0 || awaitingPromises(s)) return;
  while (s.readsWaiting.length > 0 && s.readRounds.size < 1) {
    const commands = s.readsWaiting.splice(0, s.config.window * s.config.batchMax);
    // Control bug `readWithoutQuorum`: no round; a deposed leader that does not know it yet hands out stale reads.
    if (s.config.bugs.readWithoutQuorum) {
      releaseReads(s, readIndex(s), commands, fx);
      continue;
    }
    const id = s.readSeq++;
    s.readRounds.set(id, { index: readIndex(s), commands, confirmed: new Set() });
    for (const to of current(s).acceptors) fx.push({ type: 'send', to, msg: { type: 'confirm', from: s.id, ballot: s.ballot, id } });
  }
  if (s.readRounds.size > 0) armRetry(s, fx);
}

/**
 * The index a read round records: every slot below it that is chosen, or
 * may be chosen and known to a client, is below it. With learners that
 * learn from commits, that is the commit index: a client hears of a write
 * only after this leader (or an earlier one, whose slots recovery covered)
 * knew it chosen. With learners that count votes (`learn: 'votes'`) a client
 * may hear of a write before this leader knows it chosen, so the index is
 * one past every slot this leader proposed (recovery covered every slot an
 * earlier leader may have had chosen); the learners answer once those are
 * chosen and applied.
 */
function readIndex(s: MpProposerState): number {
  return s.config.learn === 'votes' ? s.nextSlot : s.commitIndex;
}

/**
 * ReadIndex: an acceptor had promised nothing above our ballot when it
 * answered. With a majority, no other leader had been elected when the last
 * of them answered, so every write acknowledged before the round's reads
 * arrived is below its index: the learners may answer them once they have
 * applied that far.
 */
function onConfirmed(s: MpProposerState, m: MpConfirmed, fx: MpEffect[]): void {
  if (s.mode !== 'leader' || !ballotEq(m.ballot, s.ballot)) {
    fx.push({ type: 'ignore', reason: `stale confirmed ${describeBallot(m.ballot)}` });
    return;
  }
  if (!current(s).acceptors.includes(m.from)) {
    fx.push({ type: 'ignore', reason: `confirmed from ${m.from}, not an acceptor of the current view` });
    return;
  }
  // Any answer at our ballot shows this acceptor still hears us (CheckQuorum).
  s.ackers.add(m.from);
  const round = s.readRounds.get(m.id);
  if (round === undefined) {
    fx.push({ type: 'ignore', reason: `confirmed round ${m.id}: not under way` });
    return;
  }
  assert(s.ballot !== null && m.ballot.proposer === s.id, () => `${s.id}: a confirmation at our ballot names ${m.ballot.proposer}`);
  assert(round.index <= readIndex(s) && round.commands.length > 0, () => `${s.id}: read round ${m.id} at ${round.index} past the index ${readIndex(s)}, or empty`);
  round.confirmed.add(m.from);
  if (!isQuorum(current(s).acceptors, round.confirmed)) return;
  s.readRounds.delete(m.id);
  releaseReads(s, round.index, round.commands, fx);
}

/** Hands confirmed reads to every learner, to answer once it has applied every slot below `index` (at most `batchMax` per message, the bound of a batch on the wire). */
function releaseReads(s: MpProposerState, index: number, commands: Batch, fx: MpEffect[]): void {
  for (let i = 0; i < commands.length; i += s.config.batchMax) {
    const msg = { type: 'read', from: s.id, index, commands: commands.slice(i, i + s.config.batchMax) } as const;
    for (const to of ahead(s, 'learners')) fx.push({ type: 'send', to, msg });
  }
}

/**
 * A learner or a follower asks for chosen slots it is missing. Below the trim
 * point the entries are gone: a follower only needs to know where the log
 * now starts; a learner needs the state machine itself, which an up-to-date
 * learner is asked to send it.
 */
function onCatchup(s: MpProposerState, m: MpCatchup, fx: MpEffect[]): void {
  assert(s.trimmed <= s.commitIndex, () => `${s.id}: trimmed ${s.trimmed} past the commit index ${s.commitIndex}`);
  // An acceptor asks for the views (a ballot came from a proposer it does not know), or, while this proposer does not
  // lead, an actor that is neither a proposer it trusts nor a learner it knows (a new proposer that heard from a leader
  // it does not know, say): the views this one knows, with its trim point, which the asker takes if they are newer
  // than its own (see `views.ts`).
  if (isAcceptor(s, m.from) || (s.mode !== 'leader' && !trusts(s, m.from) && !anyViewHas(s.views, 'learners', m.from))) {
    const views = s.announced === undefined ? s.views : (mergeViews(s.views, s.announced) ?? s.views);
    if (lastView(views).epoch === 0) fx.push({ type: 'ignore', reason: `views asked for by ${m.from}: none but view 0 known` });
    else fx.push({ type: 'send', to: m.from, msg: { type: 'trim', from: s.id, upTo: s.trimmed, views } });
    return;
  }
  let from = Math.max(0, m.fromSlot);
  if (from < s.trimmed) {
    if (trusts(s, m.from)) {
      fx.push({ type: 'send', to: m.from, msg: { type: 'trim', from: s.id, upTo: s.trimmed, views: viewsFrom(s.views, s.trimmed) } });
      from = s.trimmed;
    } else {
      // Turn by turn among the learners that can (one that does not know the asker, added since it last applied, ignores the request).
      // With none known to have a snapshot that far (this proposer restarted past the slots, see `advanceCommit`, or has
      // not heard from them since it was elected), any other learner of the current view is asked: it sends its state
      // as it is, which the asker takes only if it is ahead.
      let sources = [...s.learnerApplied].filter(([l, upTo]) => l !== m.from && upTo >= s.trimmed).map(([l]) => l);
      if (sources.length === 0) sources = ahead(s, 'learners').filter((l) => l !== m.from);
      const source = sources[s.snapshotTurn++ % Math.max(1, sources.length)];
      if (source === undefined) fx.push({ type: 'ignore', reason: `catch-up from ${m.fromSlot}: below the trim point ${s.trimmed} and no learner to copy` });
      else fx.push({ type: 'send', to: source, msg: { type: 'snapshot-request', from: s.id, learner: m.from } });
      // A learner that missed reconfigurations (removed and brought back) may not know the learner that will send it the snapshot: the views vouch for it.
      if (source !== undefined && lastView(s.views).epoch > 0) fx.push({ type: 'send', to: m.from, msg: { type: 'trim', from: s.id, upTo: s.trimmed, views: viewsFrom(s.views, s.trimmed) } });
      return;
    }
  }
  const entries: CommitEntry[] = [];
  const end = Math.min(s.commitIndex, from + s.config.catchupMax);
  for (let slot = from; slot < end; slot++) {
    const value = s.chosen.get(slot);
    assert(value !== undefined, () => `${s.id}: slot ${slot} below the commit index ${s.commitIndex} is not known chosen`);
    entries.push({ slot, value: committedJson(value) });
  }
  if (entries.length === 0) {
    fx.push({ type: 'ignore', reason: `catch-up from ${m.fromSlot}: nothing chosen there yet` });
    return;
  }
  fx.push({ type: 'send', to: m.from, msg: { type: 'commit', from: s.id, entries } });
}

/**
 * Log compaction: once every learner has applied a prefix at least
 * `compactEvery` slots past the last trim point, the leader trims it
 * everywhere.
 */
function onLearnerApplied(s: MpProposerState, m: MpApplied, fx: MpEffect[]): void {
  if (!anyViewHas(s.views, 'learners', m.from)) {
    fx.push({ type: 'ignore', reason: `applied from non-learner ${m.from}` });
    return;
  }
  assert(Number.isSafeInteger(m.upTo) && m.upTo >= 0, () => `${s.id}: ${m.from} applied up to ${m.upTo}`);
  s.learnerApplied.set(m.from, m.upTo);
  if (s.mode !== 'leader' || s.config.compactEvery === 0) return;
  // Only the current view's learners hold compaction back: removing a learner that is gone lets it resume.
  let upTo = Math.min(s.commitIndex, ...current(s).learners.map((l) => s.learnerApplied.get(l) ?? 0));
  if (upTo - s.trimmed < s.config.compactEvery) return;
  upTo = Math.min(upTo, s.commitIndex);
  trimTo(s, upTo, null, fx);
  assert(s.trimmed === upTo && s.commitIndex >= s.trimmed, () => `${s.id}: trimming to ${upTo} left trimmed ${s.trimmed}, commit index ${s.commitIndex}`);
  const msg = { type: 'trim', from: s.id, upTo, views: viewsFrom(s.views, upTo) } as const;
  for (const to of ahead(s, 'acceptors')) fx.push({ type: 'send', to, msg });
  for (const to of peers(s)) fx.push({ type: 'send', to, msg });
}

/**
 * A trim point from the leader this proposer follows (or, while it asked
 * every proposer it trusts to catch it up, from any of them), or from an
 * acceptor that refused our accepts below it. Either way every slot below is
 * chosen and applied everywhere. Any other trim is ignored: from a proposer
 * that is not the leader, or, from an acceptor, one past the slots this leader has
 * proposed (an acceptor only trims to a point some leader saw chosen, and
 * every chosen slot was reported to this leader when it was elected or
 * proposed by it), since a trim moves the commit index and nothing moves it
 * back.
 */
function onTrim(s: MpProposerState, m: MpTrim, fx: MpEffect[]): void {
  const fromProposer = trusts(s, m.from);
  const fromAcceptor = isAcceptor(s, m.from);
  if (!fromProposer && !fromAcceptor) {
    fx.push({ type: 'ignore', reason: `trim from ${m.from}, neither proposer nor acceptor` });
    return;
  }
  // The views of a proposer it trusts name whom else to trust (an answer to a proposer that asked for the log, see `views.ts`).
  if (fromProposer && m.views !== undefined) s.announced = mergeViews(s.announced, m.views) ?? s.announced;
  if (fromProposer && (s.mode === 'leader' || (m.from !== s.leader && !s.askedPeers))) {
    fx.push({ type: 'ignore', reason: `trim to ${m.upTo} from ${m.from}, not the leader this proposer follows (${s.leader ?? 'none'})` });
    return;
  }
  if (fromAcceptor && (s.mode !== 'leader' || m.upTo > s.nextSlot)) {
    fx.push({ type: 'ignore', reason: `trim to ${m.upTo} from acceptor ${m.from}: ${s.mode === 'leader' ? `past the slots proposed (${s.nextSlot})` : `this proposer is ${s.mode}`}` });
    return;
  }
  if (m.upTo <= s.trimmed) {
    fx.push({ type: 'ignore', reason: `trim to ${m.upTo}: already trimmed to ${s.trimmed}` });
    return;
  }
  trimTo(s, m.upTo, m.views, fx);
  assert(fromAcceptor ? s.mode === 'leader' && m.upTo <= s.nextSlot : m.from === s.leader || s.askedPeers, () => `${s.id}: took a trim from ${m.from} it should have ignored`);
  assert(s.trimmed === m.upTo && s.commitIndex >= s.trimmed, () => `${s.id}: trim to ${m.upTo} left trimmed ${s.trimmed}, commit index ${s.commitIndex}`);
  // The trim may have freed the window.
  if (s.mode === 'leader') pump(s, fx);
}

/**
 * Forgets chosen slots below `upTo`, which every learner has applied. Slots
 * in flight or still owed by recovery below it go too: they are chosen, and
 * the acceptors, having trimmed, will never vote for them, so waiting for
 * their votes held the window shut for good (the leader heartbeated and
 * proposed nothing). A client command in such a slot that was not the one
 * chosen there is re-sent by its client, as after any change of leader.
 */
function trimTo(s: MpProposerState, upTo: number, views: readonly View[] | null | undefined, fx: MpEffect[]): void {
  if (upTo <= s.trimmed) return;
  // Skipping slots it never learned, it cannot replay their reconfigurations: the views come with the trim point.
  if (upTo > s.commitIndex && views && (views[0] as View).from <= upTo && lastView(views).epoch >= lastView(s.views).epoch) s.views = views;
  // Walk whichever is shorter: a restarted proposer may learn of a trim point far past anything it holds.
  if (upTo - s.trimmed <= s.chosen.size) for (let slot = s.trimmed; slot < upTo; slot++) s.chosen.delete(slot);
  else for (const slot of s.chosen.keys()) if (slot < upTo) s.chosen.delete(slot);
  s.trimmed = upTo;
  if (!s.config.bugs.trimKeepsInflight) for (const slot of s.inflight.keys()) if (slot < upTo) s.inflight.delete(slot);
  for (const slot of s.reconfigSlots) if (slot < upTo) s.reconfigSlots.delete(slot);
  if (s.recoverNext < upTo) {
    for (const reports of s.promises.values()) for (const slot of reports.keys()) if (slot < upTo) reports.delete(slot);
    s.recoverNext = upTo;
  }
  if (s.commitIndex < upTo) s.commitIndex = upTo;
  advanceCommit(s, fx);
  if (s.nextSlot < s.commitIndex) s.nextSlot = s.commitIndex;
  if (s.views.length > 1) s.views = viewsFrom(s.views, s.trimmed);
  saveViews(s, fx);
}

function armElection(s: MpProposerState, fx: MpEffect[], random: number): void {
  const { electionMinMs: lo, electionMaxMs: hi } = s.config;
  fx.push({ type: 'setTimer', timer: 'election', delay: lo + Math.floor(random * (hi - lo)) });
}

function armRetry(s: MpProposerState, fx: MpEffect[]): void {
  if (s.retryArmed) return;
  s.retryArmed = true;
  fx.push({ type: 'setTimer', timer: 'retry', delay: s.config.retryMs });
}

/** The proposer's invariants; cheap enough to check after every step. */
export function mpProposerInvariants(s: MpProposerState): void {
  if (s.ballot) assert(s.ballot.proposer === s.id && s.ballot.round <= s.roundMax, () => `${s.id}: ballot ${describeBallot(s.ballot)} not its own or above roundMax ${s.roundMax}`);
  if (s.mode === 'candidate' || s.mode === 'leader') assert(s.ballot !== null, () => `${s.id}: ${s.mode} without a ballot`);
  assert(s.mode === 'leader' || !s.leaving, () => `${s.id}: leaving while ${s.mode}`);
  if (s.mode === 'precandidate') assert(s.preBallot !== null && s.preBallot.round > s.roundMax, () => `${s.id}: prevote ballot ${describeBallot(s.preBallot)} not above roundMax ${s.roundMax}`);
  assert(s.mode === 'leader' || (s.ackers.size === 0 && s.ackersLast.size === 0 && s.busy.size === 0), () => `${s.id}: counts acceptors answering while ${s.mode}`);
  assert(s.commitIndex <= s.nextSlot || s.mode !== 'leader', () => `${s.id}: commit index ${s.commitIndex} past next slot ${s.nextSlot}`);
  if (s.mode !== 'leader') assert(s.inflight.size === 0 && s.queue.length === 0 && s.reconfigQueue.length === 0 && s.reconfigSlots.size === 0, () => `${s.id}: slots in flight while ${s.mode}`);
  if (s.mode !== 'leader') assert(s.readsWaiting.length === 0 && s.readRounds.size === 0, () => `${s.id}: reads waiting while ${s.mode}`);
  assert(s.readRounds.size <= s.config.window, () => `${s.id}: ${s.readRounds.size} read rounds, window ${s.config.window}`);
  for (const r of s.readRounds.values()) assert(r.index <= readIndex(s), () => `${s.id}: a read round waits for ${r.index}, past the index ${readIndex(s)}`);
  assert(s.commitIndex >= s.trimmed, () => `${s.id}: commit index ${s.commitIndex} below the trim point ${s.trimmed}`);
  // `chosen` covers [trimmed, commitIndex) (plus any slots past a gap): checked by count, O(1), with the first and last slot.
  assert(s.chosen.size >= s.commitIndex - s.trimmed, () => `${s.id}: ${s.chosen.size} chosen slots cannot cover [${s.trimmed}, ${s.commitIndex})`);
  if (s.commitIndex > s.trimmed) assert(s.chosen.has(s.trimmed) && s.chosen.has(s.commitIndex - 1), () => `${s.id}: chosen does not cover [${s.trimmed}, ${s.commitIndex})`);
  // Recovery is windowed too: at most `window` slots in flight, whatever a new leader inherited.
  assert(s.inflight.size <= s.config.window, () => `${s.id}: ${s.inflight.size} slots in flight, window ${s.config.window}`);
  // A slot below the trim point can never be chosen again (acceptors refuse it), so one left in flight would hold the window forever.
  for (const slot of s.inflight.keys()) assert(slot >= s.trimmed && slot < s.nextSlot, () => `${s.id}: slot ${slot} in flight outside [trimmed ${s.trimmed}, next slot ${s.nextSlot})`);
  if (s.mode !== 'leader' && s.mode !== 'candidate') assert(s.promises.size === 0, () => `${s.id}: holds promises while ${s.mode}`);
  // The views: consecutive, one deciding the commit index, and (leading) every slot in flight at most α past it unless the control bug says otherwise.
  for (let i = 1; i < s.views.length; i++) assert((s.views[i] as View).epoch === (s.views[i - 1] as View).epoch + 1 && (s.views[i] as View).from > (s.views[i - 1] as View).from, () => `${s.id}: views out of order`);
  assert(s.views.length === 1 || (s.views[1] as View).from > s.trimmed, () => `${s.id}: a view that no longer decides anything is kept past the trim point ${s.trimmed}`);
  if (!s.config.bugs.viewBeforeChosen && !s.config.bugs.unwindowedRecovery) for (const slot of s.inflight.keys()) assert(slot < s.commitIndex + s.config.window, () => `${s.id}: slot ${slot} in flight, α = ${s.config.window} or more past the commit index ${s.commitIndex}`);
  for (const slot of s.reconfigSlots) assert(slot >= s.commitIndex && (s.inflight.has(slot) || s.chosen.has(slot)), () => `${s.id}: reconfiguration slot ${slot} neither in flight nor chosen past the commit index ${s.commitIndex}`);
}
