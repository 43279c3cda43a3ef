/**
 * Stable one-line text for Multi-Paxos messages, effects, records and states
 * (transcript tests and traces compare it).
 */
import { describeBallot } from '../ballot.js';
import { canonicalJson } from '../value.js';
import type { MpActorState } from './actor.js';
import type { Batch, Command, KvResult, MpEffect, MpInput, MpMessage, MpRecord, SlotEntry } from './types.js';

/** A command as `clientId#seq op`. */
export function describeCommand(c: Command): string {
  const op = c.op;
  const body = op.f === 'read' ? `read ${op.key}` : op.f === 'write' ? `write ${op.key}=${canonicalJson(op.value)}` : `cas ${op.key} ${canonicalJson(op.from)}->${canonicalJson(op.to)}`;
  return `${c.clientId}#${c.seq} ${body}`;
}

/** A batch as `[cmd, cmd]`; the empty batch is `noop`. */
export function describeBatch(b: Batch): string {
  return b.length === 0 ? 'noop' : `[${b.map(describeCommand).join(', ')}]`;
}

function entries(es: readonly SlotEntry[]): string {
  return es.map((e) => `${e.slot}:${describeBatch(e.value)}`).join(' ');
}

/** A result as the client sees it. */
export function describeResult(r: KvResult): string {
  return r.f === 'read' ? `read=${canonicalJson(r.value)}` : r.f === 'write' ? 'ok' : r.ok ? 'swapped' : 'not swapped';
}

/** A message as `from->to type fields`. */
export function describeMpMessage(m: MpMessage, to?: string): string {
  const head = to === undefined ? `${m.from} ${m.type}` : `${m.from}->${to} ${m.type}`;
  switch (m.type) {
    case 'prevote':
    case 'prevote-ok':
      return `${head} ${describeBallot(m.ballot)}`;
    case 'prepare':
      return `${head} ${describeBallot(m.ballot)} from=${m.fromSlot}`;
    case 'promise':
      return `${head} ${describeBallot(m.ballot)} {${m.entries.map((e) => `${e.slot}@${describeBallot(e.ballot)}:${describeBatch(e.value)}`).join(' ')}}${m.trimmed > 0 ? ` trimmed=${m.trimmed}` : ''}`;
    case 'nack':
      return `${head} ${describeBallot(m.ballot)} promised=${describeBallot(m.promised)}`;
    case 'accept':
      return `${head} ${describeBallot(m.ballot)} {${entries(m.entries)}}`;
    case 'accepted':
      return `${head} ${describeBallot(m.ballot)} slots=[${m.slots.join(',')}]`;
    case 'commit':
      return `${head} {${entries(m.entries)}}`;
    case 'heartbeat':
      return `${head} ${describeBallot(m.ballot)} commit=${m.commitIndex}`;
    case 'catchup':
      return `${head} from=${m.fromSlot}`;
    case 'applied':
      return `${head} upTo=${m.upTo}`;
    case 'trim':
      return `${head} upTo=${m.upTo}`;
    case 'snapshot-request':
      return `${head} for=${m.learner}`;
    case 'snapshot':
      return `${head} upTo=${m.upTo} keys=${m.data.length} sessions=${m.sessions.length}`;
    case 'confirm':
    case 'confirmed':
      return `${head} ${describeBallot(m.ballot)} id=${m.id}`;
    case 'read':
      return `${head} index=${m.index} ${describeBatch(m.commands)}`;
  }
}

/** An input. */
export function describeMpInput(i: MpInput): string {
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
export function describeMpRecord(r: MpRecord): string {
  switch (r.kind) {
    case 'promised':
      return `promised=${describeBallot(r.ballot)}`;
    case 'accepted':
      return `slot ${r.slot}@${describeBallot(r.ballot)}=${describeBatch(r.value)}`;
    case 'round':
      return `roundMax=${r.roundMax}`;
    case 'trim':
      return `trim below ${r.upTo}`;
    case 'snapshot':
      return `snapshot up to ${r.upTo} (${r.data.length} keys, ${r.sessions.length} sessions)`;
  }
}

/** An effect. */
export function describeMpEffect(e: MpEffect): string {
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
      return `answer ${describeCommand(e.command)}: ${describeResult(e.result)}`;
    case 'reject':
      return `reject ${e.commands.map(describeCommand).join(', ')} (leader: ${e.leader ?? 'unknown'})`;
    case 'elected':
      return `elected at ${describeBallot(e.ballot)}`;
    case 'ignore':
      return `ignore: ${e.reason}`;
  }
}

/** A role's state on one line. */
export function describeMpState(s: MpActorState): string {
  switch (s.role) {
    case 'proposer':
      return `${s.id} proposer ${s.mode} ballot=${describeBallot(s.ballot)} roundMax=${s.roundMax} leader=${s.leader ?? 'none'} commit=${s.commitIndex} next=${s.nextSlot} inflight=[${[...s.inflight.keys()].sort((a, b) => a - b).join(',')}] queue=${s.queue.length}`;
    case 'acceptor': {
      const slots = [...s.log.values()].sort((a, b) => a.slot - b.slot).map((e) => `${e.slot}@${describeBallot(e.ballot)}:${describeBatch(e.value)}`);
      return `${s.id} acceptor promised=${describeBallot(s.promised)} log={${slots.join(' ')}}`;
    }
    case 'learner': {
      const data = [...s.kv.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${canonicalJson(v)}`);
      return `${s.id} learner applied=${s.nextSlot} pending=[${[...s.pending.keys()].sort((a, b) => a - b).join(',')}] kv={${data.join(' ')}}`;
    }
  }
}
