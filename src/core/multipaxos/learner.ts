/**
 * The Multi-Paxos learner: a replica of the key-value state machine. It
 * applies chosen slots strictly in log order and answers each client command
 * it applies (the host routes the first answer to the waiting client). When
 * it sees it is missing slots — a gap below a slot it received, or a leader's
 * commit index above what it applied — it asks the leader to catch it up.
 */
import { assert } from '../assert.js';
import type { ActorId } from '../ids.js';
import { applyCommand, emptyKv, readLocal, type KvState } from './kv.js';
import type { Batch, Command, MpCommit, MpConfig, MpEffect, MpHeartbeat, MpInput, MpStep } from './types.js';

/** A learner's state. */
export interface MpLearnerState {
  readonly role: 'learner';
  readonly id: ActorId;
  readonly config: MpConfig;
  readonly kv: KvState;
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
}

/** A fresh learner. (Its state is rebuilt from the log through catch-up.) */
export function initMpLearner(id: ActorId, config: MpConfig): MpLearnerState {
  return { role: 'learner', id, config, kv: emptyKv(), nextSlot: 0, pending: new Map(), leader: null, knownCommit: 0, catchupArmed: false };
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
  for (const e of m.entries) {
    if (e.slot >= s.nextSlot && !s.pending.has(e.slot)) s.pending.set(e.slot, e.value);
    if (e.slot + 1 > s.knownCommit) s.knownCommit = e.slot + 1;
  }
  applyReady(s, fx);
  if (s.pending.size > 0) requestCatchup(s, fx);
}

function onHeartbeat(s: MpLearnerState, m: MpHeartbeat, fx: MpEffect[]): void {
  s.leader = m.from;
  if (m.commitIndex > s.knownCommit) s.knownCommit = m.commitIndex;
  if (s.knownCommit > s.nextSlot) requestCatchup(s, fx);
}

/** Applies every slot that is next in line. */
function applyReady(s: MpLearnerState, fx: MpEffect[]): void {
  for (;;) {
    const batch = s.pending.get(s.nextSlot);
    if (batch === undefined) return;
    s.pending.delete(s.nextSlot);
    fx.push({ type: 'appliedSlot', slot: s.nextSlot, batch });
    for (const command of batch) {
      const result = applyCommand(s.kv, command);
      if (result) fx.push({ type: 'applied', slot: s.nextSlot, command, result });
    }
    s.nextSlot++;
  }
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
    if (command.op.f === 'read') fx.push({ type: 'applied', slot: -1, command, result: { f: 'read', value: readLocal(s.kv, command.op.key) } });
    else rest.push(command);
  }
  if (rest.length > 0) fx.push({ type: 'reject', commands: rest, leader: s.leader });
}

/** The learner's invariants: the next slot in line is never left waiting. */
export function mpLearnerInvariants(s: MpLearnerState): void {
  assert(!s.pending.has(s.nextSlot), `${s.id}: slot ${s.nextSlot} is ready but not applied`);
}
