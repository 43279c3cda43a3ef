/**
 * Stable one-line text for ballots, values, messages, inputs, effects and
 * states. Transcript tests compare this text, and traces print it, so a change
 * here is a change to every golden file: keep it deliberate.
 */
import { describeBallot } from './ballot.js';
import type { ActorState } from './actor.js';
import type { DurableRecord, Effect, Input } from './effects.js';
import type { AcceptedProposal, Message } from './messages.js';
import { canonicalJson, type Value } from './value.js';

export { describeBallot };

/** A value as canonical JSON. */
export function describeValue(v: Value): string {
  return canonicalJson(v);
}

/** A proposal as `ballot=value`, or `none`. */
export function describeProposal(p: AcceptedProposal | null): string {
  return p === null ? 'none' : `${describeBallot(p.ballot)}=${describeValue(p.value)}`;
}

/** A message as `from->to type fields`; `to` may be omitted. */
export function describeMessage(m: Message, to?: string): string {
  const head = to === undefined ? `${m.from} ${m.type}` : `${m.from}->${to} ${m.type}`;
  switch (m.type) {
    case 'prepare':
      return `${head} ${describeBallot(m.ballot)}`;
    case 'promise':
      return `${head} ${describeBallot(m.ballot)} accepted=${describeProposal(m.accepted)}`;
    case 'nack':
      return `${head} ${describeBallot(m.ballot)} promised=${describeBallot(m.promised)}`;
    case 'accept':
    case 'accepted':
    case 'decide':
      return `${head} ${describeBallot(m.ballot)} value=${describeValue(m.value)}`;
  }
}

/** An input to a core. */
export function describeInput(i: Input): string {
  switch (i.type) {
    case 'receive':
      return `receive ${describeMessage(i.msg)}`;
    case 'timeout':
      return `timeout ${i.timer}`;
    case 'propose':
      return `propose ${describeValue(i.value)}`;
  }
}

/** A durable record. */
export function describeRecord(r: DurableRecord): string {
  switch (r.role) {
    case 'acceptor':
      return `promised=${describeBallot(r.promised)} accepted=${describeProposal(r.accepted)}`;
    case 'proposer':
      return `roundMax=${r.roundMax}`;
    case 'learner':
      return `decided=${describeProposal(r.decided)}`;
  }
}

/** An effect, with the sender's id for messages. */
export function describeEffect(e: Effect, self: string): string {
  switch (e.type) {
    case 'send':
      return `send ${describeMessage(e.msg, e.to)}`;
    case 'persist':
      return `persist {${describeRecord(e.record)}} then [${e.then.map((t) => describeEffect(t, self)).join('; ')}]`;
    case 'setTimer':
      return `set-timer ${e.timer} +${e.delay}`;
    case 'cancelTimer':
      return `cancel-timer ${e.timer}`;
    case 'decide':
      return `decide ${describeValue(e.value)} at ${describeBallot(e.ballot)}`;
    case 'chosen':
      return `chosen ${describeValue(e.value)} at ${describeBallot(e.ballot)}`;
    case 'ignore':
      return `ignore: ${e.reason}`;
  }
}

/** A role's state on one line. */
export function describeState(s: ActorState): string {
  switch (s.role) {
    case 'acceptor':
      return `${s.id} acceptor promised=${describeBallot(s.promised)} accepted=${describeProposal(s.accepted)}`;
    case 'proposer': {
      const promises = Object.keys(s.promises).sort().join(',');
      const wanted = s.wanted ? describeValue(s.wanted.value) : 'none';
      return `${s.id} proposer phase=${s.phase} ballot=${describeBallot(s.ballot)} roundMax=${s.roundMax} wanted=${wanted} promises=[${promises}] accepts=[${[...s.accepts].sort().join(',')}] chosen=${describeProposal(s.chosen)}`;
    }
    case 'learner':
      return `${s.id} learner decided=${describeProposal(s.decided)}`;
  }
}
