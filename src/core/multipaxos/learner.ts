/**
 * The Multi-Paxos learner: a replica of the state machine the log carries
 * (any {@link StateMachine}; the key-value store is one). It applies chosen
 * slots strictly in log order and answers each client command it applies
 * (the host routes the first answer to the waiting client). Client sessions
 * are its business, not the machine's: a retried command, known by its
 * (clientId, seq), is answered from the session and never applied twice.
 * When it sees it is missing slots — a gap below a slot it received, or a
 * leader's commit index above what it applied — it asks the leader to catch
 * it up.
 */
import { assert } from '../assert.js';
import { ballotEq, ballotGt, describeBallot, type Ballot } from '../ballot.js';
import { isQuorum } from '../quorum.js';
import type { ActorId } from '../ids.js';
import { slotHorizon } from './acceptor.js';
import type { AnyStateMachine } from './machine.js';
import { afterCommand, anyViewHas, initialViews, lastView, mergeViews, trustedProposers, trustsProposer, viewAt, type View } from './views.js';
import { committedBatch, committedJson } from './wire.js';
import type { Batch, Command, MpCommit, MpConfig, MpEffect, MpHeartbeat, MpInput, MpRead, MpRecord, MpSnapshot, MpSnapshotRequest, MpStep, MpTrim, MpVote, Session } from './types.js';

/** A learner's state. */
export interface MpLearnerState {
  readonly role: 'learner';
  readonly id: ActorId;
  readonly config: MpConfig;
  /** The state machine replicated, and its state. */
  readonly machine: AnyStateMachine;
  machineState: unknown;
  /** Per client: the last sequence number applied and its result. */
  readonly sessions: Map<string, Session>;
  /** The next slot to apply; every slot below it is applied. */
  nextSlot: number;
  /** Chosen slots received ahead of a gap. */
  readonly pending: Map<number, Batch>;
  /**
   * `learn: 'votes'`: the acceptors' votes for slots not yet taken, within
   * α (`window`) of the next slot, where the views are known (see onVote).
   * Per slot only the highest ballot voted is kept. Not persisted.
   */
  readonly votes: Map<number, VoteTally>;
  /** Who leads, as the last heartbeat said. */
  leader: ActorId | null;
  /** The highest commit index heard of. */
  knownCommit: number;
  /** True while a catch-up request is outstanding. */
  catchupArmed: boolean;
  /** The slot up to which the last snapshot was taken. */
  snapshotAt: number;
  /** ReadIndex: reads the leader confirmed, held until every slot below their index is applied, by index. */
  readonly reads: Map<number, Command[]>;
  /** How many reads `reads` holds. */
  readsHeld: number;
  /** The log's views as of `nextSlot` (see `views.ts`): every reconfiguration applied so far. */
  views: readonly View[];
  /** Learners of the views a proposer told it of (with a trim point past it): it takes their snapshots, though it has not applied the reconfigurations that made them learners. */
  readonly vouched: Set<ActorId>;
  /**
   * Views a leader it trusts announced in heartbeats (the proposers changed,
   * see `views.ts`), kept apart from `views`, which only the log changes:
   * they only add to the proposers it trusts. Not persisted (a restarted
   * learner hears them again, or applies them).
   */
  announced: readonly View[] | undefined;
}

/** The votes for one slot at one ballot, all for the same text. */
export interface VoteTally {
  readonly ballot: Ballot;
  readonly text: string;
  readonly voters: ActorId[];
}

/** Whether the learner takes `id` as a proposer: configured, or of a view it applied or was told of (see `views.ts`). */
function trusts(s: MpLearnerState, id: ActorId): boolean {
  return trustsProposer(s.config.members.proposers, id, s.views, s.announced);
}

/** A fresh learner, or one recovered from its latest snapshot (the rest comes from the log through catch-up). */
export function initMpLearner(id: ActorId, config: MpConfig, machine: AnyStateMachine, records: readonly MpRecord[] = []): MpLearnerState {
  const s: MpLearnerState = { role: 'learner', id, config, machine, machineState: machine.init(), sessions: new Map(), nextSlot: 0, pending: new Map(), votes: new Map(), leader: null, knownCommit: 0, catchupArmed: false, snapshotAt: 0, reads: new Map(), readsHeld: 0, views: initialViews(config.members), vouched: new Set(), announced: undefined };
  let latest: Extract<MpRecord, { kind: 'snapshot' }> | null = null;
  for (const r of records) if (r.kind === 'snapshot' && (latest === null || r.upTo > latest.upTo)) latest = r;
  if (latest) install(s, latest);
  return s;
}

/** Replaces the state machine with a snapshot's. */
function install(s: MpLearnerState, snap: { readonly upTo: number; readonly data: MpSnapshot['data']; readonly sessions: MpSnapshot['sessions']; readonly views?: readonly View[] | undefined }): void {
  s.views = snap.views ?? initialViews(s.config.members);
  s.machineState = s.machine.restore(snap.data);
  s.sessions.clear();
  for (const [c, session] of snap.sessions) s.sessions.set(c, session);
  s.nextSlot = snap.upTo;
  s.snapshotAt = snap.upTo;
  if (s.knownCommit < snap.upTo) s.knownCommit = snap.upTo;
  for (const slot of s.pending.keys()) if (slot < snap.upTo) s.pending.delete(slot);
  for (const slot of s.votes.keys()) if (slot < snap.upTo) s.votes.delete(slot);
}

/**
 * Every `compactEvery` slots, persist the state machine; only once it is
 * durable does the leader hear that the log below may be trimmed, so a
 * restarted learner always finds either the slots or a snapshot past them.
 */
function maybeSnapshot(s: MpLearnerState, fx: MpEffect[], force = false): void {
  const every = s.config.compactEvery;
  if (every === 0 || (!force && s.nextSlot - s.snapshotAt < every)) return;
  s.snapshotAt = s.nextSlot;
  const record: MpRecord = { kind: 'snapshot', upTo: s.nextSlot, data: s.machine.snapshot(s.machineState), sessions: [...s.sessions], ...viewsField(s) };
  const then: MpEffect[] = s.leader === null ? [] : [{ type: 'send', to: s.leader, msg: { type: 'applied', from: s.id, upTo: s.nextSlot } }];
  fx.push({ type: 'persist', records: [record], then });
}

/** One step of the learner. */
export function stepMpLearner(s: MpLearnerState, input: MpInput): MpStep<MpLearnerState> {
  const fx: MpEffect[] = [];
  switch (input.type) {
    case 'start':
      break;
    case 'request':
      onRequest(s, input.commands, fx);
      break;
    case 'timeout':
      if (input.timer === 'catchup') {
        s.catchupArmed = false;
        if (s.knownCommit > s.nextSlot || s.pending.size > 0) requestCatchup(s, fx);
      } else fx.push({ type: 'ignore', reason: `learner has no ${input.timer} timer` });
      break;
    case 'receive': {
      const m = input.msg;
      if (m.type === 'commit') onCommit(s, m, fx);
      else if (m.type === 'vote') onVote(s, m, fx);
      else if (m.type === 'heartbeat') onHeartbeat(s, m, fx);
      else if (m.type === 'snapshot-request') onSnapshotRequest(s, m, fx);
      else if (m.type === 'snapshot') onSnapshot(s, m, fx);
      else if (m.type === 'read') onRead(s, m, fx);
      else if (m.type === 'trim') onTrim(s, m, fx);
      else fx.push({ type: 'ignore', reason: `learner does not take ${m.type}` });
      break;
    }
  }
  return { state: s, effects: fx };
}

function onCommit(s: MpLearnerState, m: MpCommit, fx: MpEffect[]): void {
  if (!trusts(s, m.from)) {
    fx.push({ type: 'ignore', reason: `commit from non-proposer ${m.from}` });
    return;
  }
  // Slots far ahead are left for catch-up rather than held: a member could otherwise fill `pending` with slots no one will fill up to.
  const horizon = s.nextSlot + slotHorizon(s.config);
  let beyond = 0;
  for (const e of m.entries) {
    if (e.slot >= horizon) beyond++;
    else if (e.slot >= s.nextSlot && !s.pending.has(e.slot)) {
      // Text is parsed and checked here, and only for a slot this learner takes (see CommitEntry).
      const batch = committedBatch(e.value, s.machine);
      if (typeof batch === 'string') {
        fx.push({ type: 'ignore', reason: `commit from ${m.from}: slot ${e.slot}: ${batch}` });
        continue;
      }
      s.pending.set(e.slot, batch);
      s.votes.delete(e.slot);
    }
    if (e.slot + 1 > s.knownCommit) s.knownCommit = e.slot + 1;
  }
  if (beyond > 0) fx.push({ type: 'ignore', reason: `commit from ${m.from}: ${beyond} slot(s) at or past ${horizon} left for catch-up` });
  applyReady(s, fx);
  assert(!s.pending.has(s.nextSlot), () => `${s.id}: slot ${s.nextSlot} is pending but not applied`);
  assert(s.pending.size <= slotHorizon(s.config), () => `${s.id}: ${s.pending.size} slots pending, more than the horizon`);
  maybeSnapshot(s, fx);
  if (s.pending.size > 0 || beyond > 0) requestCatchup(s, fx);
}

/**
 * An acceptor's vote (`learn: 'votes'`, classic Paxos): a slot is chosen
 * once a majority of the acceptors of its view accepted one value at one
 * ballot ("Paxos Made Simple" §2.3), and a learner that counts the votes
 * itself knows it one hop before the leader could tell it. The values must be
 * the same text, compared as strings (an honest leader proposes one value per
 * slot and ballot, so honest acceptors' texts agree; a vote that disagrees is
 * not counted). Only slots within α of the next slot are counted: every
 * reconfiguration that can decide their view is applied already (see
 * `views.ts`), so their quorum is known. A vote for a slot further ahead is
 * left to the leader's commits, and so is a gap below a slot taken this way:
 * under load slots are often chosen out of order, and the leader's commits,
 * which follow on its heartbeats, fill it without a catch-up request.
 */
function onVote(s: MpLearnerState, m: MpVote, fx: MpEffect[]): void {
  if (s.config.learn !== 'votes') {
    fx.push({ type: 'ignore', reason: `vote from ${m.from}: this log's learners learn from commits` });
    return;
  }
  assert(!s.pending.has(s.nextSlot), () => `${s.id}: slot ${s.nextSlot} is pending but not applied`);
  const ahead = s.nextSlot + s.config.window;
  let skipped = 0;
  for (const e of m.entries) {
    if (e.slot < s.nextSlot || s.pending.has(e.slot)) continue;
    const acceptors = viewAt(s.views, e.slot).members.acceptors;
    if (e.slot >= ahead || !acceptors.includes(m.from)) {
      skipped++;
      continue;
    }
    const text = committedJson(e.value);
    let tally = s.votes.get(e.slot);
    if (tally === undefined || ballotGt(m.ballot, tally.ballot)) {
      tally = { ballot: m.ballot, text, voters: [] };
      s.votes.set(e.slot, tally);
    } else if (!ballotEq(m.ballot, tally.ballot) || tally.text !== text) {
      skipped++;
      continue;
    }
    if (!tally.voters.includes(m.from)) tally.voters.push(m.from);
    // Control bug `voteWithoutQuorum`: one vote is taken as the slot's choice.
    if (!isQuorum(acceptors, tally.voters) && !s.config.bugs.voteWithoutQuorum) continue;
    s.votes.delete(e.slot);
    const batch = committedBatch(tally.text, s.machine);
    if (typeof batch === 'string') {
      fx.push({ type: 'ignore', reason: `votes for slot ${e.slot}: ${batch}` });
      continue;
    }
    s.pending.set(e.slot, batch);
    if (e.slot + 1 > s.knownCommit) s.knownCommit = e.slot + 1;
  }
  if (skipped > 0) fx.push({ type: 'ignore', reason: `vote from ${m.from} at ${describeBallot(m.ballot)}: ${skipped} slot(s) not counted (at or past ${ahead}, not its view's acceptor, an older ballot, or another value)` });
  applyReady(s, fx);
  assert(!s.pending.has(s.nextSlot), () => `${s.id}: slot ${s.nextSlot} is pending but not applied`);
  assert(s.votes.size <= s.config.window, () => `${s.id}: votes held for ${s.votes.size} slots, more than α`);
  maybeSnapshot(s, fx);
}

/**
 * A leader's heartbeat: who leads (where catch-up requests go) and how far
 * the log is chosen. Only a proposer's heartbeat at its own ballot counts: a
 * learner once took any member's, so an acceptor's or a learner's could
 * point its catch-up requests at someone who never answers them. The views
 * a trusted leader's heartbeat carries add to the proposers this learner
 * trusts. A heartbeat from a proposer it does not know (one the views it has
 * not applied yet named, say), from none of its acceptors or learners, is
 * not taken either; but if it says the log is ahead, the learner asks the
 * proposers it trusts to catch it up, and the log they send names whom else
 * to trust (see `views.ts`).
 */
function onHeartbeat(s: MpLearnerState, m: MpHeartbeat, fx: MpEffect[]): void {
  if (m.ballot.proposer !== m.from || !trusts(s, m.from)) {
    fx.push({ type: 'ignore', reason: `heartbeat from ${m.from} at ${describeBallot(m.ballot)}: not a proposer's own ballot` });
    if (m.ballot.proposer === m.from && m.commitIndex > s.nextSlot && !anyViewHas(s.views, 'acceptors', m.from) && !anyViewHas(s.views, 'learners', m.from)) askToCatchUp(s, trustedProposers(s.config.members.proposers, s.views, s.announced), fx);
    return;
  }
  assert(!s.pending.has(s.nextSlot), () => `${s.id}: slot ${s.nextSlot} is pending but not applied`);
  if (m.views !== undefined) s.announced = mergeViews(s.announced, m.views) ?? s.announced;
  // A new leader hears how far this learner's durable snapshot goes (it would otherwise learn only at the next one): it
  // trims no further than every learner has one, and sends a learner behind its trim point to one that has.
  if (m.from !== s.leader && s.snapshotAt > 0) fx.push({ type: 'send', to: m.from, msg: { type: 'applied', from: s.id, upTo: s.snapshotAt } });
  s.leader = m.from;
  if (m.commitIndex > s.knownCommit) s.knownCommit = m.commitIndex;
  assert(s.knownCommit >= m.commitIndex && trusts(s, s.leader), () => `${s.id}: heartbeat left known commit ${s.knownCommit}, leader ${s.leader}`);
  if (s.knownCommit > s.nextSlot) requestCatchup(s, fx);
}

/** The leader asks this replica to send its state machine to a replica that is behind the trim point. */
function onSnapshotRequest(s: MpLearnerState, m: MpSnapshotRequest, fx: MpEffect[]): void {
  // Only a proposer asks (the leader, for a learner behind its trim point): a snapshot is the whole state
  // machine, so anyone else's request would make this learner send it on their say-so.
  if (!trusts(s, m.from)) {
    fx.push({ type: 'ignore', reason: `snapshot request from non-proposer ${m.from}` });
    return;
  }
  if (!anyViewHas(s.views, 'learners', m.learner) || m.learner === s.id) {
    fx.push({ type: 'ignore', reason: `snapshot for ${m.learner}: not another learner` });
    return;
  }
  assert(m.learner !== s.id && anyViewHas(s.views, 'learners', m.learner), () => `${s.id}: snapshot for ${m.learner}`);
  assert(!s.pending.has(s.nextSlot) && s.snapshotAt <= s.nextSlot, () => `${s.id}: snapshot at ${s.snapshotAt} past the next slot ${s.nextSlot}`);
  const msg: MpSnapshot = { type: 'snapshot', from: s.id, upTo: s.nextSlot, data: s.machine.snapshot(s.machineState), sessions: [...s.sessions], ...viewsField(s) };
  fx.push({ type: 'send', to: m.learner, msg });
}

/**
 * A proposer's trim point, sent to a learner behind it that will get a
 * snapshot instead: the views it carries name the learners of the log since,
 * which this learner may not know (it missed the reconfigurations that made
 * them learners), and whose snapshot it may then take. Only a proposer's
 * word counts (as for commits); the views themselves come with the snapshot.
 * They also name the proposers of the log since, whom it trusts from then on
 * (a proposer answers so a learner that asked for the views, see
 * `views.ts`).
 */
function onTrim(s: MpLearnerState, m: MpTrim, fx: MpEffect[]): void {
  if (!trusts(s, m.from) || m.views === undefined) {
    fx.push({ type: 'ignore', reason: `trim from ${m.from}: not a proposer's, or names no views` });
    return;
  }
  // The views name whom else to trust: the answer of a proposer it trusts to a learner that heard from a leader it did not know.
  s.announced = mergeViews(s.announced, m.views) ?? s.announced;
  if (m.upTo <= s.nextSlot) {
    fx.push({ type: 'ignore', reason: `trim to ${m.upTo}: already at ${s.nextSlot}` });
    return;
  }
  assert(m.upTo > s.nextSlot && trusts(s, m.from), () => `${s.id}: vouching on a trim to ${m.upTo} from ${m.from}`);
  for (const v of m.views) for (const l of v.members.learners) if (l !== s.id) s.vouched.add(l);
  assert(m.views.every((v) => v.members.learners.every((l) => l === s.id || s.vouched.has(l))), () => `${s.id}: a learner of the trim's views is not vouched for`);
}

/** Replaces the state machine with a peer's, if it is ahead, and goes on from there. */
function onSnapshot(s: MpLearnerState, m: MpSnapshot, fx: MpEffect[]): void {
  if (!anyViewHas(s.views, 'learners', m.from) && !s.vouched.has(m.from)) {
    fx.push({ type: 'ignore', reason: `snapshot from non-learner ${m.from}` });
    return;
  }
  if (m.upTo <= s.nextSlot) {
    fx.push({ type: 'ignore', reason: `snapshot up to ${m.upTo}: already at ${s.nextSlot}` });
    return;
  }
  assert(m.upTo > s.nextSlot && s.snapshotAt <= s.nextSlot, () => `${s.id}: installing a snapshot up to ${m.upTo} at ${s.nextSlot}`);
  install(s, m);
  assert(s.nextSlot === m.upTo && s.knownCommit >= m.upTo, () => `${s.id}: installed up to ${m.upTo}, now at ${s.nextSlot}`);
  fx.push({ type: 'installedSnapshot', upTo: m.upTo });
  maybeSnapshot(s, fx, true);
  applyReady(s, fx);
  s.catchupArmed = false;
  if (s.knownCommit > s.nextSlot || s.pending.size > 0) requestCatchup(s, fx);
}

/**
 * ReadIndex: read-only commands a proposer confirmed as leader, to answer
 * from this replica's state once it has applied every slot below `index`.
 * They touch no session (a read-only command changes nothing, so answering
 * it twice is harmless). Held reads are bounded (as many as a full window of
 * batches, and no further ahead than `pending` may reach); a read past that
 * is dropped, and its client asks again. Held reads are not durable: after a
 * crash the clients ask again.
 */
function onRead(s: MpLearnerState, m: MpRead, fx: MpEffect[]): void {
  if (!trusts(s, m.from)) {
    fx.push({ type: 'ignore', reason: `read from non-proposer ${m.from}` });
    return;
  }
  if (m.commands.some((c) => !s.machine.readOnly(c.op))) {
    fx.push({ type: 'ignore', reason: `read from ${m.from} carries a command that is not read-only` });
    return;
  }
  assert(s.readsHeld >= 0 && s.readsHeld <= s.config.window * s.config.batchMax, () => `${s.id}: ${s.readsHeld} reads held`);
  assert(!s.pending.has(s.nextSlot), () => `${s.id}: slot ${s.nextSlot} is pending but not applied`);
  if (m.index <= s.nextSlot) {
    for (const c of m.commands) answerRead(s, c, fx);
    return;
  }
  if (m.index >= s.nextSlot + slotHorizon(s.config) || s.readsHeld + m.commands.length > s.config.window * s.config.batchMax) {
    fx.push({ type: 'ignore', reason: `read at ${m.index} from ${m.from}: too far ahead of slot ${s.nextSlot}, or too many reads held (${s.readsHeld})` });
    return;
  }
  const held = s.reads.get(m.index);
  if (held) held.push(...m.commands);
  else s.reads.set(m.index, [...m.commands]);
  s.readsHeld += m.commands.length;
  if (s.leader === null) s.leader = m.from;
  // With votes the index may be past what is chosen yet (see the proposer's readIndex): the votes will come, and heartbeats say what is chosen.
  if (s.config.learn === 'votes') return;
  // The leader has chosen that far: catch up rather than wait for the next commit or heartbeat.
  if (m.index > s.knownCommit) s.knownCommit = m.index;
  requestCatchup(s, fx);
}

/** Answers a read-only command from the state as it is (applying it changes nothing), as of `slot`. */
function answerRead(s: MpLearnerState, c: Command, fx: MpEffect[], slot = s.nextSlot - 1): void {
  assert(s.machine.readOnly(c.op), () => `${s.id}: answering a command that is not read-only as a read`);
  fx.push({ type: 'applied', slot, command: c, result: s.machine.apply(s.machineState, c.op) });
}

/** Answers the held reads whose index the state machine has reached. */
function answerHeldReads(s: MpLearnerState, fx: MpEffect[]): void {
  if (s.readsHeld === 0) return;
  for (const [index, commands] of s.reads) {
    if (index > s.nextSlot) continue;
    s.reads.delete(index);
    s.readsHeld -= commands.length;
    for (const c of commands) answerRead(s, c, fx);
  }
}

/** Applies every slot that is next in line, then answers the reads that waited for it. */
function applyReady(s: MpLearnerState, fx: MpEffect[]): void {
  for (;;) {
    const batch = s.pending.get(s.nextSlot);
    if (batch === undefined) return answerHeldReads(s, fx);
    s.pending.delete(s.nextSlot);
    fx.push({ type: 'appliedSlot', slot: s.nextSlot, batch });
    for (const command of batch) applyCommand(s, command, fx);
    s.nextSlot++;
  }
}

/**
 * Applies `cmd` through its client's session and pushes the answer, if any.
 *
 * A session is made by a client's first command (seq 1), and remembers the
 * last command applied and its result: a retry of it gets that result again,
 * an older duplicate nothing (nobody waits for it). A later command of a
 * client with no session had one, evicted since (every client starts at
 * seq 1, and sends seq n + 1 only after seq n): it may have been applied
 * already, so it is answered `expired`, never applied. At most
 * `maxSessions` are kept; a new one evicts the least recently applied (the
 * map is kept in that order, snapshots included, so every learner evicts
 * the same client).
 */
function applyCommand(s: MpLearnerState, cmd: Command, fx: MpEffect[]): void {
  if (cmd.reconfig !== undefined) return applyReconfig(s, cmd, fx);
  const session = s.sessions.get(cmd.clientId);
  if (session && cmd.seq <= session.seq) {
    if (cmd.seq === session.seq) fx.push({ type: 'applied', slot: s.nextSlot, command: cmd, result: session.result });
    return;
  }
  if (!session && cmd.seq !== 1 && !s.config.bugs.reapplyEvicted) {
    fx.push({ type: 'expired', slot: s.nextSlot, command: cmd });
    return;
  }
  const result = s.machine.apply(s.machineState, cmd.op);
  s.sessions.delete(cmd.clientId);
  s.sessions.set(cmd.clientId, { seq: cmd.seq, result });
  if (s.sessions.size > s.config.maxSessions) s.sessions.delete(s.sessions.keys().next().value as string);
  assert(s.sessions.size <= s.config.maxSessions, () => `${s.id}: ${s.sessions.size} sessions, more than ${s.config.maxSessions}`);
  fx.push({ type: 'applied', slot: s.nextSlot, command: cmd, result });
}

/**
 * A reconfiguration is the log's own command: it changes the views (when it
 * is valid, see `views.ts`), touches no session and no state machine, and is
 * answered with the newest view and whether this command made it, so a
 * client retrying one it already made sees it done.
 */
function applyReconfig(s: MpLearnerState, cmd: Command, fx: MpEffect[]): void {
  assert(cmd.reconfig !== undefined, () => `${s.id}: not a reconfiguration`);
  const next = afterCommand(s.views, s.nextSlot, cmd, s.config.window);
  if (next !== null) s.views = next;
  const v = lastView(s.views);
  assert(next === null || v.epoch === cmd.reconfig.epoch + 1, `${s.id}: reconfiguration of view ${cmd.reconfig.epoch} made view ${v.epoch}`);
  fx.push({ type: 'applied', slot: s.nextSlot, command: cmd, result: { done: next !== null, epoch: v.epoch, from: v.from, proposers: [...v.members.proposers], acceptors: [...v.members.acceptors], learners: [...v.members.learners] } });
}

/** The views as a snapshot carries them: absent while there is none but view 0 (as before views existed). */
function viewsField(s: MpLearnerState): { views?: readonly View[] } {
  return s.views.length === 1 && lastView(s.views).epoch === 0 ? {} : { views: s.views };
}

function requestCatchup(s: MpLearnerState, fx: MpEffect[]): void {
  if (s.leader !== null) askToCatchUp(s, [s.leader], fx);
}

/** Asks `to` for the chosen slots from the next one on (one request per retry period). */
function askToCatchUp(s: MpLearnerState, to: readonly ActorId[], fx: MpEffect[]): void {
  if (s.catchupArmed) return;
  s.catchupArmed = true;
  for (const p of to) fx.push({ type: 'send', to: p, msg: { type: 'catchup', from: s.id, fromSlot: s.nextSlot } });
  fx.push({ type: 'setTimer', timer: 'catchup', delay: s.config.retryMs });
}

/**
 * Clients talk to proposers, not learners — except under the stale-read
 * control bug, where a learner answers reads from its own state at once,
 * however far behind the log it is.
 */
function onRequest(s: MpLearnerState, commands: readonly Command[], fx: MpEffect[]): void {
  assert(s.leader === null || trusts(s, s.leader), () => `${s.id}: believes ${s.leader} leads, not a proposer`);
  assert(!s.pending.has(s.nextSlot), () => `${s.id}: slot ${s.nextSlot} is pending but not applied`);
  if (!s.config.bugs.staleRead) {
    fx.push({ type: 'reject', commands, leader: s.leader });
    return;
  }
  const rest: Command[] = [];
  for (const command of commands) {
    // A read-only operation changes nothing, so applying it here, outside the log and without a session, only reads the lagging state.
    if (s.machine.readOnly(command.op)) answerRead(s, command, fx, -1);
    else rest.push(command);
  }
  if (rest.length > 0) fx.push({ type: 'reject', commands: rest, leader: s.leader });
}

/** The learner's invariants: the next slot in line is never left waiting, and nothing already applied lingers as pending. */
export function mpLearnerInvariants(s: MpLearnerState): void {
  assert(!s.pending.has(s.nextSlot), () => `${s.id}: slot ${s.nextSlot} is ready but not applied`);
  // Pending holds only slots past a gap; one at or below the next slot would never be applied, nor freed.
  for (const slot of s.pending.keys()) assert(slot > s.nextSlot, () => `${s.id}: pending slot ${slot} not above the next slot ${s.nextSlot}`);
  assert(s.sessions.size <= s.config.maxSessions, () => `${s.id}: ${s.sessions.size} client sessions, more than maxSessions ${s.config.maxSessions}`);
  // Votes are counted only within α of the next slot, and for no slot taken already.
  for (const slot of s.votes.keys()) assert(slot >= s.nextSlot && slot < s.nextSlot + s.config.window && !s.pending.has(slot), () => `${s.id}: votes held for slot ${slot}, next slot ${s.nextSlot}`);
  // A held read whose index is reached would wait for good: they are answered in the step that reaches it.
  let held = 0;
  for (const [index, commands] of s.reads) {
    assert(index > s.nextSlot, () => `${s.id}: a read held for ${index}, which slot ${s.nextSlot} has reached`);
    held += commands.length;
  }
  assert(held === s.readsHeld && held <= s.config.window * s.config.batchMax, () => `${s.id}: ${held} reads held, counted ${s.readsHeld}`);
}
