/**
 * The safety checker for the replicated log (Multi-Paxos). Fed durable
 * acceptor records, acceptor restarts and what each learner applied, it
 * reports:
 *
 * - slot-conflict: two different batches chosen (accepted by a majority at
 *   one ballot) for the same slot;
 * - ballot-reuse: two different batches accepted for one slot at one ballot;
 * - apply-divergence: two learners applied different batches at one slot;
 * - apply-order: a learner applied slots out of order or skipped one;
 * - apply-not-chosen: a learner applied a batch no majority accepted for that
 *   slot (reported at the end, since facts may arrive out of order);
 * - promise-regressed / accepted-above-promised: an acceptor's promise went
 *   down (across a restart too) or it accepted above its promise.
 */
import { compareBallots, describeBallot, type Ballot } from '../core/ballot.js';
import type { ActorId, Membership } from '../core/ids.js';
import type { Batch, MpRecord } from '../core/multipaxos/types.js';
import { quorumSize } from '../core/quorum.js';
import type { Violation, ViolationKind } from './types.js';

interface SlotVotes {
  /** Per ballot: the batch accepted at it and who accepted it. */
  readonly byBallot: Map<string, { readonly value: string; readonly voters: Set<ActorId> }>;
  chosen: string | null;
}

/**
 * A batch's identity: its commands' (clientId, seq) pairs in order, or `noop`.
 * A command is named by (clientId, seq) — a client never sends two different
 * operations under one name — so this tells batches apart as well as their
 * full JSON would, at a fraction of the cost.
 */
function batchKey(b: Batch): string {
  return b.length === 0 ? 'noop' : b.map((c) => `${c.clientId}#${c.seq}`).join(',');
}

/** Checks the safety of a replicated log from a stream of facts. */
export class LogSafetyChecker {
  private readonly quorum: number;
  private readonly slots = new Map<number, SlotVotes>();
  private readonly promised = new Map<ActorId, Ballot | null>();
  private readonly applied = new Map<number, { readonly learner: ActorId; readonly value: string }>();
  private readonly nextApply = new Map<ActorId, number>();
  private unchecked: Array<{ learner: ActorId; slot: number; value: string; step: number }> = [];
  private readonly found: Violation[] = [];

  constructor(members: Membership) {
    this.quorum = quorumSize(members.acceptors.length);
  }

  /** Every violation so far. */
  get violations(): readonly Violation[] {
    return this.found;
  }

  /** Number of slots known chosen. */
  get chosenSlots(): number {
    let n = 0;
    for (const v of this.slots.values()) if (v.chosen !== null) n++;
    return n;
  }

  /** Acceptor `id` made `records` durable. */
  acceptorDurable(id: ActorId, records: readonly MpRecord[], step: number): void {
    for (const r of records) {
      if (r.kind === 'promised') this.promise(id, r.ballot, step, 'write');
      if (r.kind === 'accepted') {
        if (compareBallots(r.ballot, this.promised.get(id) ?? null) > 0) {
          this.report('accepted-above-promised', step, `${id} accepted slot ${r.slot} at ${describeBallot(r.ballot)} above its promise ${describeBallot(this.promised.get(id) ?? null)}`, { acceptor: id, slot: r.slot });
        }
        this.vote(id, r.slot, r.ballot, batchKey(r.value), step);
      }
    }
  }

  /** Acceptor `id` restarted and recovered promise `promised`. */
  acceptorRecovered(id: ActorId, promised: Ballot | null, step: number): void {
    const before = this.promised.get(id) ?? null;
    if (compareBallots(promised, before) < 0) {
      this.report('promise-regressed', step, `${id} promised ${describeBallot(before)}, then ${describeBallot(promised)} after a restart`, { acceptor: id, before, after: promised });
    }
    this.promised.set(id, promised);
  }

  /** Learner `learner` applied `batch` at `slot`. */
  appliedSlot(learner: ActorId, slot: number, batch: Batch, step: number): void {
    const expected = this.nextApply.get(learner) ?? 0;
    if (slot !== expected) this.report('apply-order', step, `${learner} applied slot ${slot} when slot ${expected} was next`, { learner, slot, expected });
    this.nextApply.set(learner, slot + 1);
    const value = batchKey(batch);
    const other = this.applied.get(slot);
    if (other && other.value !== value) {
      this.report('apply-divergence', step, `${learner} applied ${value} at slot ${slot} but ${other.learner} applied ${other.value}`, { slot, learner, otherLearner: other.learner });
    }
    if (!other) this.applied.set(slot, { learner, value });
    const chosen = this.slots.get(slot)?.chosen ?? null;
    if (chosen === null) this.unchecked.push({ learner, slot, value, step });
    else if (chosen !== value) this.report('apply-not-chosen', step, `${learner} applied ${value} at slot ${slot}, but ${chosen} was chosen there`, { learner, slot });
  }

  /** A learner (re)started from a snapshot, its own or a peer's: it next applies slot `upTo` (0 with none). */
  learnerSnapshot(learner: ActorId, upTo: number): void {
    this.nextApply.set(learner, upTo);
  }

  /** An actor's invariant check failed (the host crashed it). */
  invariantBroken(actor: ActorId, message: string, step: number): void {
    this.report('invariant', step, message.startsWith(`${actor}:`) ? message : `${actor}: ${message}`, { actor });
  }

  /** Ends the run: applied batches never backed by a majority are reported. */
  finish(step: number): readonly Violation[] {
    for (const u of this.unchecked) {
      const chosen = this.slots.get(u.slot)?.chosen ?? null;
      if (chosen !== u.value) this.report('apply-not-chosen', step, `${u.learner} applied ${u.value} at slot ${u.slot}, which no majority accepted there`, { learner: u.learner, slot: u.slot, appliedAtStep: u.step });
    }
    this.unchecked = [];
    return this.found;
  }

  private promise(id: ActorId, ballot: Ballot, step: number, when: string): void {
    const before = this.promised.get(id) ?? null;
    if (compareBallots(ballot, before) < 0) this.report('promise-regressed', step, `${id} promised ${describeBallot(before)}, then ${describeBallot(ballot)} after a ${when}`, { acceptor: id });
    else this.promised.set(id, ballot);
  }

  private vote(id: ActorId, slot: number, ballot: Ballot, value: string, step: number): void {
    let votes = this.slots.get(slot);
    if (!votes) {
      votes = { byBallot: new Map(), chosen: null };
      this.slots.set(slot, votes);
    }
    const key = describeBallot(ballot);
    let tally = votes.byBallot.get(key);
    if (!tally) {
      tally = { value, voters: new Set() };
      votes.byBallot.set(key, tally);
    } else if (tally.value !== value) {
      this.report('ballot-reuse', step, `slot ${slot} got two different batches at ballot ${key}`, { slot, ballot });
      return;
    }
    tally.voters.add(id);
    if (tally.voters.size !== this.quorum) return;
    if (votes.chosen === null) votes.chosen = value;
    else if (votes.chosen !== value) this.report('slot-conflict', step, `slot ${slot}: ${value} chosen at ${key} after ${votes.chosen} was chosen`, { slot, ballot });
  }

  private report(kind: ViolationKind, step: number, message: string, facts: Record<string, unknown>): void {
    this.found.push({ kind, step, message, facts });
  }
}
