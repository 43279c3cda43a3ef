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
import { batchJson } from './wire.js';
import type { AcceptedEntry, Batch, MpAccept, MpConfig, MpEffect, MpInput, MpPrepare, MpRecord, MpStep, MpTrim } from './types.js';

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
}

/** A fresh acceptor, or one rebuilt from its durable records (in the order written). */
export function initMpAcceptor(id: ActorId, config: MpConfig, records: Iterable<MpRecord> = []): MpAcceptorState {
  const s: MpAcceptorState = { role: 'acceptor', id, config, promised: null, log: new Map(), maxAccepted: null, trimmed: 0 };
  for (const r of records) {
    if (r.kind === 'promised' && ballotGt(r.ballot, s.promised)) s.promised = r.ballot;
    if (r.kind === 'accepted') {
      const prior = s.log.get(r.slot);
      if (!prior || compareBallots(r.ballot, prior.ballot) >= 0) s.log.set(r.slot, { slot: r.slot, ballot: r.ballot, value: r.value });
      if (ballotGt(r.ballot, s.maxAccepted)) s.maxAccepted = r.ballot;
    }
    if (r.kind === 'trim' && r.upTo > s.trimmed) s.trimmed = r.upTo;
  }
  for (const slot of s.log.keys()) if (slot < s.trimmed) s.log.delete(slot);
  return s;
}

/** One step of the acceptor. */
export function stepMpAcceptor(s: MpAcceptorState, input: MpInput): MpStep<MpAcceptorState> {
  if (input.type === 'start') return { state: s, effects: [] };
  if (input.type !== 'receive') return ignore(s, `acceptor does not take ${input.type}`);
  const msg = input.msg;
  if (msg.type === 'prepare') return onPrepare(s, msg);
  if (msg.type === 'accept') return onAccept(s, msg);
  if (msg.type === 'trim') return onTrim(s, msg);
  return ignore(s, `acceptor does not take ${msg.type}`);
}

/** Phase 1b for every slot from `fromSlot` on: promise iff the ballot is above the promise. */
function onPrepare(s: MpAcceptorState, msg: MpPrepare): MpStep<MpAcceptorState> {
  const refused = ignoreBallot(s, msg.from, msg.ballot);
  if (refused) return ignore(s, `prepare ${describeBallot(msg.ballot)}: ${refused}`);
  if (!ballotGt(msg.ballot, s.promised)) return { state: s, effects: [nack(s, msg.from, msg.ballot)] };
  s.promised = msg.ballot;
  const entries: AcceptedEntry[] = [];
  for (const e of s.log.values()) if (e.slot >= msg.fromSlot) entries.push(e);
  entries.sort((a, b) => a.slot - b.slot);
  const reply: MpEffect = { type: 'send', to: msg.from, msg: { type: 'promise', from: s.id, ballot: msg.ballot, entries, trimmed: s.trimmed } };
  return { state: s, effects: [{ type: 'persist', records: [{ kind: 'promised', ballot: msg.ballot }], then: [reply] }] };
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
  const refused = ignoreBallot(s, msg.from, msg.ballot);
  if (refused) return ignore(s, `accept ${describeBallot(msg.ballot)}: ${refused}`);
  if (compareBallots(msg.ballot, s.promised) < 0) return { state: s, effects: [nack(s, msg.from, msg.ballot)] };
  assert(compareBallots(s.maxAccepted, s.promised) <= 0, `${s.id}: accepted above its promise before an accept`);
  const records: MpRecord[] = [];
  if (ballotGt(msg.ballot, s.promised)) {
    s.promised = msg.ballot;
    records.push({ kind: 'promised', ballot: msg.ballot });
  }
  const slots: number[] = [];
  let belowTrim = false;
  s.maxAccepted = msg.ballot;
  for (const e of msg.entries) {
    if (!Number.isSafeInteger(e.slot) || e.slot < 0) continue;
    // A trimmed slot is chosen and gone; accepting anything there again would be a second choice.
    if (e.slot < s.trimmed) {
      belowTrim = true;
      continue;
    }
    slots.push(e.slot);
    const held = s.log.get(e.slot);
    if (held && ballotEq(held.ballot, msg.ballot) && sameBatch(held.value, e.value)) continue;
    s.log.set(e.slot, { slot: e.slot, ballot: msg.ballot, value: e.value });
    records.push({ kind: 'accepted', slot: e.slot, ballot: msg.ballot, value: e.value });
  }
  assert(records.length <= slots.length + 1, `${s.id}: more records than accepted slots`);
  const then: MpEffect[] = [{ type: 'send', to: msg.from, msg: { type: 'accepted', from: s.id, ballot: msg.ballot, slots } }];
  if (belowTrim) then.push({ type: 'send', to: msg.from, msg: { type: 'trim', from: s.id, upTo: s.trimmed } });
  return { state: s, effects: [{ type: 'persist', records, then }] };
}

/** Same commands in the same order; one batch object is usually both (the simulator), else compare the JSON both arrived as (cached). */
function sameBatch(a: Batch, b: Batch): boolean {
  return a === b || (a.length === b.length && batchJson(a) === batchJson(b));
}

/**
 * Log compaction: the leader saw every learner apply the slots below `upTo`,
 * so they are never needed again. The trim is persisted so that a restart
 * does not bring them back.
 */
function onTrim(s: MpAcceptorState, msg: MpTrim): MpStep<MpAcceptorState> {
  if (!s.config.members.proposers.includes(msg.from)) return ignore(s, `trim from non-proposer ${msg.from}`);
  if (msg.upTo <= s.trimmed) return ignore(s, `trim to ${msg.upTo}: already trimmed to ${s.trimmed}`);
  s.trimmed = msg.upTo;
  for (const slot of s.log.keys()) if (slot < s.trimmed) s.log.delete(slot);
  return { state: s, effects: [{ type: 'persist', records: [{ kind: 'trim', upTo: msg.upTo }], then: [] }] };
}

/** The same guard as the single-decree acceptor: a member's ballot, from its owner, without a runaway round. */
function ignoreBallot(s: MpAcceptorState, from: ActorId, b: Ballot): string | null {
  if (!Number.isSafeInteger(b.round) || b.round < 1) return 'round is not a safe integer >= 1';
  if (!s.config.members.proposers.includes(b.proposer)) return `ballot owner ${b.proposer} is not a proposer`;
  if (from !== b.proposer) return `sender ${from} does not own the ballot`;
  if (b.round - (s.promised?.round ?? 0) > s.config.maxRoundJump) return `round jumps more than ${s.config.maxRoundJump} past promised ${describeBallot(s.promised)}`;
  return null;
}

function nack(s: MpAcceptorState, to: ActorId, ballot: Ballot): MpEffect {
  assert(s.promised !== null, 'nack needs a promise');
  return { type: 'send', to, msg: { type: 'nack', from: s.id, ballot, promised: s.promised } };
}

function ignore(s: MpAcceptorState, reason: string): MpStep<MpAcceptorState> {
  return { state: s, effects: [{ type: 'ignore', reason }] };
}

/** Every accepted ballot is at most the promise. */
export function mpAcceptorInvariants(s: MpAcceptorState): void {
  assert(compareBallots(s.maxAccepted, s.promised) <= 0, `${s.id}: accepted at ${describeBallot(s.maxAccepted)} above promised ${describeBallot(s.promised)}`);
}
