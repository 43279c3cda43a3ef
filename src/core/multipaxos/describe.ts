/**
 * Stable one-line text for Multi-Paxos messages, effects, records and states
 * (transcript tests and traces compare it). What a command's operation and
 * result say is the state machine's to describe, so the printers are made
 * for one machine.
 */
import { describeBallot } from '../ballot.js';
import type { MpActorState } from './actor.js';
import type { AnyStateMachine } from './machine.js';
import type { Batch, Command, CommitEntry, MpEffect, MpInput, MpMessage, MpRecord } from './types.js';
import { committedBatch } from './wire.js';
import { lastView, type View } from './views.js';

/** A membership as `a1,a2,a3/l1,l2` (acceptors/learners), and `p1,p3|` before it when its proposers differ from `prior`'s. */
function describeMembers(m: View['members'], prior: View['members'] | undefined): string {
  const changed = prior !== undefined && (m.proposers.length !== prior.proposers.length || m.proposers.some((p, i) => p !== prior.proposers[i]));
  return `${changed ? `${m.proposers.join(',')}|` : ''}${m.acceptors.join(',')}/${m.learners.join(',')}`;
}

/**
 * Views as ` views=[v1@40:a1,a2/l1 ...]`, or nothing when there is none but
 * view 0 (so logs that never reconfigure read as before). A view's proposers
 * are shown where they differ from the view before it in the list (the first
 * view's never: logs whose proposers never change read as before).
 */
export function describeViews(views: readonly View[] | undefined): string {
  if (views === undefined || (views.length === 1 && lastView(views).epoch === 0)) return '';
  return ` views=[${views.map((v, i) => `v${v.epoch}@${v.from}:${describeMembers(v.members, views[i - 1]?.members)}`).join(' ')}]`;
}

/** The printers of the log's messages, inputs, records, effects and states, for one state machine. */
export interface MpDescriber {
  /** A command as `clientId#seq op`. */
  readonly command: (c: Command) => string;
  /** A batch as `[cmd, cmd]`; the empty batch is `noop`. */
  readonly batch: (b: Batch) => string;
  /** A message as `from->to type fields` (`from type fields` without `to`). */
  readonly message: (m: MpMessage, to?: string) => string;
  /** An input as `receive message`, `timeout timer`, `request cmd, cmd` or `start`. */
  readonly input: (i: MpInput) => string;
  /** A durable record. */
  readonly record: (r: MpRecord) => string;
  /** An effect. */
  readonly effect: (e: MpEffect) => string;
  /** A role's state on one line. */
  readonly state: (s: MpActorState) => string;
}

/** The printers for a log of `machine`'s commands. */
export function mpDescriber(machine: AnyStateMachine): MpDescriber {
  /** A command as `clientId#seq op`. */
  function describeCommand(c: Command): string {
    if (c.reconfig !== undefined) return `${c.clientId}#${c.seq} reconfig v${c.reconfig.epoch}->${describeMembers(c.reconfig.members, undefined)}`;
    return `${c.clientId}#${c.seq} ${machine.describeOp(c.op)}`;
  }

  /** A batch as `[cmd, cmd]`; the empty batch is `noop`. */
  function describeBatch(b: Batch): string {
    return b.length === 0 ? 'noop' : `[${b.map(describeCommand).join(', ')}]`;
  }

  /** A committed value as its batch; JSON text is parsed (and checked) to be shown, as what it says when it is not a batch. */
  function describeCommitted(v: Batch | string): string {
    const batch = committedBatch(v, machine);
    return typeof batch === 'string' ? `<${batch}>` : describeBatch(batch);
  }

  function entries(es: readonly CommitEntry[]): string {
    return es.map((e) => `${e.slot}:${describeCommitted(e.value)}`).join(' ');
  }

  /** A message as `from->to type fields`. */
  function describeMpMessage(m: MpMessage, to?: string): string {
    const head = to === undefined ? `${m.from} ${m.type}` : `${m.from}->${to} ${m.type}`;
    switch (m.type) {
      case 'prevote':
      case 'prevote-ok':
        return `${head} ${describeBallot(m.ballot)}`;
      case 'prepare':
        return `${head} ${describeBallot(m.ballot)} from=${m.fromSlot}`;
      case 'promise':
        return `${head} ${describeBallot(m.ballot)} {${m.entries.map((e) => `${e.slot}@${describeBallot(e.ballot)}:${describeBatch(e.value)}`).join(' ')}}${m.trimmed > 0 ? ` trimmed=${m.trimmed}` : ''}${describeViews(m.views)}`;
      case 'nack':
        return `${head} ${describeBallot(m.ballot)} promised=${describeBallot(m.promised)}`;
      case 'accept':
        return `${head} ${describeBallot(m.ballot)} {${entries(m.entries)}}`;
      case 'accepted':
        return `${head} ${describeBallot(m.ballot)} slots=[${m.slots.join(',')}]`;
      case 'vote':
        return `${head} ${describeBallot(m.ballot)} {${entries(m.entries)}}`;
      case 'commit':
        return `${head} {${entries(m.entries)}}`;
      case 'heartbeat':
        return `${head} ${describeBallot(m.ballot)} commit=${m.commitIndex}${describeViews(m.views)}`;
      case 'catchup':
        return `${head} from=${m.fromSlot}`;
      case 'applied':
        return `${head} upTo=${m.upTo}`;
      case 'trim':
        return `${head} upTo=${m.upTo}${describeViews(m.views)}`;
      case 'snapshot-request':
        return `${head} for=${m.learner}`;
      case 'snapshot':
        {
          const size = machine.snapshotSize(m.data);
          return `${head} upTo=${m.upTo} ${size.noun}=${size.count} sessions=${m.sessions.length}${describeViews(m.views)}`;
        }
      case 'confirm':
      case 'confirmed':
        return `${head} ${describeBallot(m.ballot)} id=${m.id}`;
      case 'read':
        return `${head} index=${m.index} ${describeBatch(m.commands)}`;
    }
  }

  /** An input. */
  function describeMpInput(i: MpInput): string {
    switch (i.type) {
      case 'start':
        return 'start';
      case 'receive':
        return `receive ${describeMpMessage(i.msg)}`;
      case 'timeout':
        return `timeout ${i.timer}`;
      case 'request':
        return `request ${i.commands.map(describeCommand).join(', ')}`;
    }
  }

  /** A durable record. */
  function describeMpRecord(r: MpRecord): string {
    switch (r.kind) {
      case 'promised':
        return `promised=${describeBallot(r.ballot)}`;
      case 'accepted':
        return `slot ${r.slot}@${describeBallot(r.ballot)}=${describeBatch(r.value)}`;
      case 'round':
        return `roundMax=${r.roundMax}`;
      case 'trim':
        return `trim below ${r.upTo}${describeViews(r.views)}`;
      case 'views':
        return `chosen below ${r.base}${describeViews(r.views) || ' views=[v0]'}`;
      case 'snapshot':
        {
          const size = machine.snapshotSize(r.data);
          return `snapshot up to ${r.upTo} (${size.count} ${size.noun}, ${r.sessions.length} sessions)${describeViews(r.views)}`;
        }
    }
  }

  /** An effect. */
  function describeMpEffect(e: MpEffect): string {
    switch (e.type) {
      case 'send':
        return `send ${describeMpMessage(e.msg, e.to)}`;
      case 'persist':
        return `persist {${e.records.map(describeMpRecord).join('; ')}} then [${e.then.map(describeMpEffect).join('; ')}]`;
      case 'setTimer':
        return `set-timer ${e.timer} +${e.delay}`;
      case 'cancelTimer':
        return `cancel-timer ${e.timer}`;
      case 'appliedSlot':
        return `apply slot ${e.slot} ${describeBatch(e.batch)}`;
      case 'installedSnapshot':
        return `install snapshot up to slot ${e.upTo}`;
      case 'applied':
        return `answer ${describeCommand(e.command)}: ${e.command.reconfig !== undefined ? JSON.stringify(e.result) : machine.describeResult(e.result)}`;
      case 'expired':
        return `expired ${describeCommand(e.command)}: no session (evicted)`;
      case 'reject':
        return `reject ${e.commands.map(describeCommand).join(', ')} (leader: ${e.leader ?? 'unknown'})`;
      case 'elected':
        return `elected at ${describeBallot(e.ballot)}`;
      case 'ignore':
        return `ignore: ${e.reason}`;
    }
  }

  /** A role's state on one line. */
  function describeMpState(s: MpActorState): string {
    switch (s.role) {
      case 'proposer':
        return `${s.id} proposer ${s.mode} ballot=${describeBallot(s.ballot)} roundMax=${s.roundMax} leader=${s.leader ?? 'none'} commit=${s.commitIndex} next=${s.nextSlot} inflight=[${[...s.inflight.keys()].sort((a, b) => a - b).join(',')}] queue=${s.queue.length}${describeViews(s.views)}`;
      case 'acceptor': {
        const slots = [...s.log.values()].sort((a, b) => a.slot - b.slot).map((e) => `${e.slot}@${describeBallot(e.ballot)}:${describeBatch(e.value)}`);
        return `${s.id} acceptor promised=${describeBallot(s.promised)} log={${slots.join(' ')}}`;
      }
      case 'learner': {
        return `${s.id} learner applied=${s.nextSlot} pending=[${[...s.pending.keys()].sort((a, b) => a - b).join(',')}] ${s.machine.describeState(s.machineState)}${describeViews(s.views)}`;
      }
    }
  }

  return { command: describeCommand, batch: describeBatch, message: describeMpMessage, input: describeMpInput, record: describeMpRecord, effect: describeMpEffect, state: describeMpState };
}
