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
import type { ActorId } from '../ids.js';
import { slotHorizon } from './acceptor.js';
import type { AnyStateMachine } from './machine.js';
import type { Batch, Command, MpCommit, MpConfig, MpEffect, MpHeartbeat, MpInput, MpRecord, MpSnapshot, MpSnapshotRequest, MpStep, Session } from './types.js';

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
  /** Who leads, as the last heartbeat said. */
  leader: ActorId | null;
  /** The highest commit index heard of. */
  knownCommit: number;
  /** True while a catch-up request is outstanding. */
  catchupArmed: boolean;
  /** The slot up to which the last snapshot was taken. */
  snapshotAt: number;
}

/** A fresh learner, or one recovered from its latest snapshot (the rest comes from the log through catch-up). */
export function initMpLearner(id: ActorId, config: MpConfig, machine: AnyStateMachine, records: readonly MpRecord[] = []): MpLearnerState {
  const s: MpLearnerState = { role: 'learner', id, config, machine, machineState: machine.init(), sessions: new Map(), nextSlot: 0, pending: new Map(), leader: null, knownCommit: 0, catchupArmed: false, snapshotAt: 0 };
  let latest: Extract<MpRecord, { kind: 'snapshot' }> | null = null;
  for (const r of records) if (r.kind === 'snapshot' && (latest === null || r.upTo > latest.upTo)) latest = r;
  if (latest) install(s, latest);
  return s;
}

/** Replaces the state machine with a snapshot's. */
function install(s: MpLearnerState, snap: { readonly upTo: number; readonly data: MpSnapshot['data']; readonly sessions: MpSnapshot['sessions'] }): void {
  s.machineState = s.machine.restore(snap.data);
  s.sessions.clear();
  for (const [c, session] of snap.sessions) s.sessions.set(c, session);
  s.nextSlot = snap.upTo;
  s.snapshotAt = snap.upTo;
  if (s.knownCommit < snap.upTo) s.knownCommit = snap.upTo;
  for (const slot of s.pending.keys()) if (slot < snap.upTo) s.pending.delete(slot);
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
  const record: MpRecord = { kind: 'snapshot', upTo: s.nextSlot, data: s.machine.snapshot(s.machineState), sessions: [...s.sessions] };
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
      else if (m.type === 'heartbeat') onHeartbeat(s, m, fx);
      else if (m.type === 'snapshot-request') onSnapshotRequest(s, m, fx);
      else if (m.type === 'snapshot') onSnapshot(s, m, fx);
      else fx.push({ type: 'ignore', reason: `learner does not take ${m.type}` });
      break;
    }
  }
  return { state: s, effects: fx };
}

function onCommit(s: MpLearnerState, m: MpCommit, fx: MpEffect[]): void {
  if (!s.config.members.proposers.includes(m.from)) {
    fx.push({ type: 'ignore', reason: `commit from non-proposer ${m.from}` });
    return;
  }
  // Slots far ahead are left for catch-up rather than held: a member could otherwise fill `pending` with slots no one will fill up to.
  const horizon = s.nextSlot + slotHorizon(s.config);
  let beyond = 0;
  for (const e of m.entries) {
    if (e.slot >= horizon) beyond++;
    else if (e.slot >= s.nextSlot && !s.pending.has(e.slot)) s.pending.set(e.slot, e.value);
    if (e.slot + 1 > s.knownCommit) s.knownCommit = e.slot + 1;
  }
  if (beyond > 0) fx.push({ type: 'ignore', reason: `commit from ${m.from}: ${beyond} slot(s) at or past ${horizon} left for catch-up` });
  applyReady(s, fx);
  assert(!s.pending.has(s.nextSlot), `${s.id}: slot ${s.nextSlot} is pending but not applied`);
  assert(s.pending.size <= slotHorizon(s.config), `${s.id}: ${s.pending.size} slots pending, more than the horizon`);
  maybeSnapshot(s, fx);
  if (s.pending.size > 0 || beyond > 0) requestCatchup(s, fx);
}

function onHeartbeat(s: MpLearnerState, m: MpHeartbeat, fx: MpEffect[]): void {
  s.leader = m.from;
  if (m.commitIndex > s.knownCommit) s.knownCommit = m.commitIndex;
  if (s.knownCommit > s.nextSlot) requestCatchup(s, fx);
}

/** The leader asks this replica to send its state machine to a replica that is behind the trim point. */
function onSnapshotRequest(s: MpLearnerState, m: MpSnapshotRequest, fx: MpEffect[]): void {
  if (!s.config.members.learners.includes(m.learner) || m.learner === s.id) {
    fx.push({ type: 'ignore', reason: `snapshot for ${m.learner}: not another learner` });
    return;
  }
  const msg: MpSnapshot = { type: 'snapshot', from: s.id, upTo: s.nextSlot, data: s.machine.snapshot(s.machineState), sessions: [...s.sessions] };
  fx.push({ type: 'send', to: m.learner, msg });
}

/** Replaces the state machine with a peer's, if it is ahead, and goes on from there. */
function onSnapshot(s: MpLearnerState, m: MpSnapshot, fx: MpEffect[]): void {
  if (!s.config.members.learners.includes(m.from)) {
    fx.push({ type: 'ignore', reason: `snapshot from non-learner ${m.from}` });
    return;
  }
  if (m.upTo <= s.nextSlot) {
    fx.push({ type: 'ignore', reason: `snapshot up to ${m.upTo}: already at ${s.nextSlot}` });
    return;
  }
  install(s, m);
  fx.push({ type: 'installedSnapshot', upTo: m.upTo });
  maybeSnapshot(s, fx, true);
  applyReady(s, fx);
  s.catchupArmed = false;
  if (s.knownCommit > s.nextSlot || s.pending.size > 0) requestCatchup(s, fx);
}

/** Applies every slot that is next in line. */
function applyReady(s: MpLearnerState, fx: MpEffect[]): void {
  for (;;) {
    const batch = s.pending.get(s.nextSlot);
    if (batch === undefined) return;
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
  assert(s.sessions.size <= s.config.maxSessions, `${s.id}: ${s.sessions.size} sessions, more than ${s.config.maxSessions}`);
  fx.push({ type: 'applied', slot: s.nextSlot, command: cmd, result });
}

function requestCatchup(s: MpLearnerState, fx: MpEffect[]): void {
  if (s.catchupArmed || s.leader === null) return;
  s.catchupArmed = true;
  fx.push({ type: 'send', to: s.leader, msg: { type: 'catchup', from: s.id, fromSlot: s.nextSlot } });
  fx.push({ type: 'setTimer', timer: 'catchup', delay: s.config.retryMs });
}

/**
 * Clients talk to proposers, not learners — except under the stale-read
 * control bug, where a learner answers reads from its own state at once,
 * however far behind the log it is.
 */
function onRequest(s: MpLearnerState, commands: readonly Command[], fx: MpEffect[]): void {
  if (!s.config.bugs.staleRead) {
    fx.push({ type: 'reject', commands, leader: s.leader });
    return;
  }
  const rest: Command[] = [];
  for (const command of commands) {
    // A read-only operation changes nothing, so applying it here, outside the log and without a session, only reads the lagging state.
    if (s.machine.readOnly(command.op)) fx.push({ type: 'applied', slot: -1, command, result: s.machine.apply(s.machineState, command.op) });
    else rest.push(command);
  }
  if (rest.length > 0) fx.push({ type: 'reject', commands: rest, leader: s.leader });
}

/** The learner's invariants: the next slot in line is never left waiting, and nothing already applied lingers as pending. */
export function mpLearnerInvariants(s: MpLearnerState): void {
  assert(!s.pending.has(s.nextSlot), `${s.id}: slot ${s.nextSlot} is ready but not applied`);
  // Pending holds only slots past a gap; one at or below the next slot would never be applied, nor freed.
  for (const slot of s.pending.keys()) assert(slot > s.nextSlot, `${s.id}: pending slot ${slot} not above the next slot ${s.nextSlot}`);
  assert(s.sessions.size <= s.config.maxSessions, `${s.id}: ${s.sessions.size} client sessions, more than maxSessions ${s.config.maxSessions}`);
}
