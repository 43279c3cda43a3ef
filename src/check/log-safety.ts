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
 *
 * Memory. A long-running cluster feeds it facts without end, so it forgets
 * what compaction made irrelevant: once an acceptor has made durable a trim
 * below slot T, every slot below both T and the next slot of every learner
 * that it knows chosen — so its choice, the learners' applies and the
 * pending apply-not-chosen checks are settled — is dropped, and only a count
 * remains. What it holds is then about the slots between the trim point and
 * the newest, not the whole history. The price is small and stated: a fact
 * arriving later about a forgotten slot (a re-proposal of the chosen batch
 * at a higher ballot, a re-apply after a learner installed an older
 * snapshot) is checked for what needs no memory of the slot (promises,
 * apply order) and counted in {@link LogSafetyChecker.retained}, not
 * compared with the forgotten choice — except at the {@link RECENT_FORGOTTEN}
 * most recently forgotten slots, which keep a 32-bit hash of their chosen
 * batch: a majority voting there again for a different batch (a new leader
 * that did not learn the trim point, say) is a `slot-conflict`, and a batch
 * a learner applies there is compared with that hash (a learner removed and
 * added back may apply such a slot after a straggler voted on it again).
 * Without compaction nothing is forgotten.
 *
 * Views. A log that reconfigures (option `alpha`) decides each slot with the
 * acceptors of its own view, which the checker works out as the log does:
 * from the reconfigurations in the slots the learners applied, in order (a
 * slot's view is known once every slot α or more below it is). Votes at a
 * slot whose view is not known yet are tallied and judged once it is.
 */
import { compareBallots, describeBallot, type Ballot } from '../core/ballot.js';
import type { ActorId, Membership } from '../core/ids.js';
import type { Batch, Command, MpRecord } from '../core/multipaxos/types.js';
import { afterBatch, initialViews, lastView, viewAt, type View } from '../core/multipaxos/views.js';
import { isQuorum, quorumSize } from '../core/quorum.js';
import type { Violation, ViolationKind } from './types.js';

interface SlotVotes {
  /** Per ballot: the batch accepted at it and who accepted it. */
  readonly byBallot: Map<string, { readonly value: string; readonly voters: Set<ActorId> }>;
  chosen: string | null;
  /** For a forgotten slot voted on again: the hash of the batch chosen there before it was forgotten. */
  readonly before?: number;
}

/** How many of the most recently forgotten slots keep a hash of their chosen batch (see the module comment). */
export const RECENT_FORGOTTEN = 65_536;

/** FNV-1a, 32 bits: a forgotten slot's chosen batch, in 4 bytes. Two batches with one hash hide a conflict; they never invent one. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
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

/**
 * All the checker needs of a batch: its identity (`key`, see batchKey) and
 * its reconfiguration commands, in order (`reconfigs`, absent when it has
 * none), from which it works out the views. A host whose facts cross a
 * thread sends this instead of the batch (see {@link digestBatch}): a key is
 * one string, which a thread copies as a memcpy, where a batch is two
 * objects per command to serialise and rebuild on the checker's side.
 */
export interface BatchDigest {
  readonly key: string;
  readonly reconfigs?: readonly Command[];
}

/** A batch as the checker takes it: the batch itself (a host in the checker's thread) or its digest. */
export type CheckedBatch = Batch | BatchDigest;

/** An acceptor's durable record as the checker takes it: an `accepted` record's value may be a digest. */
export type CheckedRecord = Exclude<MpRecord, { readonly kind: 'accepted' }> | { readonly kind: 'accepted'; readonly slot: number; readonly ballot: Ballot; readonly value: CheckedBatch };

/** The digest of `batch` (see {@link BatchDigest}). */
export function digestBatch(batch: Batch): BatchDigest {
  const key = batchKey(batch);
  let reconfigs: Command[] | undefined;
  for (const c of batch) if (c.reconfig !== undefined) (reconfigs ??= []).push(c);
  return reconfigs === undefined ? { key } : { key, reconfigs };
}

/** The identity of a batch or of its digest. */
function keyOf(b: CheckedBatch): string {
  return isBatch(b) ? batchKey(b) : b.key;
}

/** The commands of a batch or of its digest that can change the views (every other command leaves them as they are, see afterBatch). */
function viewCommands(b: CheckedBatch): Batch {
  return isBatch(b) ? b : (b.reconfigs ?? []);
}

function isBatch(b: CheckedBatch): b is Batch {
  return Array.isArray(b);
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
  private readonly learners: readonly ActorId[];
  /** The highest trim point an acceptor made durable. */
  private trimPoint = 0;
  /** Chosen slots below this are forgotten (see the module comment); it only rises. */
  private floor = 0;
  private forgottenChosen = 0;
  /** Hashes of the batches chosen at the most recently forgotten slots (at most {@link RECENT_FORGOTTEN}, oldest first). */
  private readonly recent = new Map<number, number>();
  /** The highest slot seen chosen (-1: none). */
  private highest = -1;
  private lateFacts = 0;
  /** A log that reconfigures: α, and the views worked out from the applied slots up to `viewCursor` (exclusive). */
  private readonly alpha: number | null;
  private views: readonly View[];
  private viewCursor = 0;
  /** Slots with votes whose view is not known yet. */
  private readonly undecided = new Set<number>();
  /** The commands that may change the views (see viewCommands) of the first batch applied at each slot not yet folded into the views (a reconfiguring log only). */
  private readonly appliedBatches = new Map<number, Batch>();

  /** `alpha`: the log may reconfigure, with this α (its window); without it the members never change. */
  constructor(members: Membership, options: { readonly alpha?: number } = {}) {
    this.quorum = quorumSize(members.acceptors.length);
    this.learners = members.learners;
    this.alpha = options.alpha ?? null;
    this.views = initialViews(members);
  }

  /** The views worked out so far (the newest last). */
  get knownViews(): readonly View[] {
    return this.views;
  }

  /** The view deciding `slot`, or null while it is not known yet. */
  private viewOf(slot: number): View | null {
    if (this.alpha === null) return this.views[0] as View;
    return slot < this.viewCursor + this.alpha ? viewAt(this.views, slot) : null;
  }

  /** Works the views out over the slots applied next in line, then judges the slots whose view that made known. */
  private advanceViews(step: number): void {
    if (this.alpha === null) return;
    const before = this.viewCursor;
    for (;;) {
      const applied = this.appliedBatches.get(this.viewCursor);
      if (applied === undefined) break;
      this.appliedBatches.delete(this.viewCursor);
      this.views = afterBatch(this.views, this.viewCursor, applied, this.alpha);
      this.viewCursor++;
    }
    if (this.viewCursor === before) return;
    for (const slot of this.undecided) {
      const view = this.viewOf(slot);
      if (view === null) continue;
      this.undecided.delete(slot);
      const votes = this.slots.get(slot);
      if (votes === undefined) continue;
      for (const [key, tally] of votes.byBallot) if (isQuorum(view.members.acceptors, tally.voters)) this.chose(slot, votes, key, key, tally.value, step);
    }
  }

  /** Every violation so far. */
  get violations(): readonly Violation[] {
    return this.found;
  }

  /** Number of slots known chosen (forgotten ones included). */
  get chosenSlots(): number {
    let n = this.forgottenChosen;
    for (const v of this.slots.values()) if (v.chosen !== null) n++;
    return n;
  }

  /** The highest slot known chosen (accepted by a majority at one ballot), or -1: every learner must reach past it to have caught up. */
  get highestChosen(): number {
    return this.highest;
  }

  /**
   * What the checker holds, in entries, and what it forgot: slots with votes,
   * slots with an applied batch, applies waiting for their slot to be
   * chosen; the floor below which chosen slots are forgotten; and facts
   * about forgotten slots, checked only in part. For watching memory in a
   * long run (and for tests): counts, not bytes.
   */
  get retained(): { readonly slots: number; readonly applied: number; readonly unchecked: number; readonly floor: number; readonly forgottenChosen: number; readonly lateFacts: number } {
    return { slots: this.slots.size, applied: this.applied.size, unchecked: this.unchecked.length, floor: this.floor, forgottenChosen: this.forgottenChosen, lateFacts: this.lateFacts };
  }

  /** Acceptor `id` made `records` durable. */
  acceptorDurable(id: ActorId, records: readonly CheckedRecord[], step: number): void {
    for (const r of records) {
      if (r.kind === 'promised') this.promise(id, r.ballot, step, 'write');
      if (r.kind === 'accepted') {
        if (compareBallots(r.ballot, this.promised.get(id) ?? null) > 0) {
          this.report('accepted-above-promised', step, `${id} accepted slot ${r.slot} at ${describeBallot(r.ballot)} above its promise ${describeBallot(this.promised.get(id) ?? null)}`, { acceptor: id, slot: r.slot });
        }
        this.vote(id, r.slot, r.ballot, keyOf(r.value), step);
      }
      if (r.kind === 'trim' && r.upTo > this.trimPoint) {
        this.trimPoint = r.upTo;
        this.forget();
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
  appliedSlot(learner: ActorId, slot: number, batch: CheckedBatch, step: number): void {
    const expected = this.nextApply.get(learner) ?? 0;
    if (slot !== expected) this.report('apply-order', step, `${learner} applied slot ${slot} when slot ${expected} was next`, { learner, slot, expected });
    this.nextApply.set(learner, slot + 1);
    if (slot < this.floor) {
      this.lateFacts++;
      // A forgotten slot: its order was checked above; unless it was voted on again since, there is nothing left to compare the batch with.
      if (!this.slots.has(slot) && !this.applied.has(slot)) return;
    }
    const value = keyOf(batch);
    const other = this.applied.get(slot);
    if (other && other.value !== value) {
      this.report('apply-divergence', step, `${learner} applied ${value} at slot ${slot} but ${other.learner} applied ${other.value}`, { slot, learner, otherLearner: other.learner });
    }
    if (!other) this.applied.set(slot, { learner, value });
    if (this.alpha !== null && slot >= this.viewCursor && !this.appliedBatches.has(slot)) {
      this.appliedBatches.set(slot, viewCommands(batch));
      this.advanceViews(step);
    }
    const votes = this.slots.get(slot);
    const chosen = votes?.chosen ?? null;
    // A forgotten slot voted on again by a straggler (a minority, so not chosen again): the batch chosen there before is known by its hash.
    if (chosen === null && votes?.before !== undefined) {
      if (votes.before !== hash(value)) this.report('apply-not-chosen', step, `${learner} applied ${value} at slot ${slot}, but another batch was chosen there (and forgotten with the trim)`, { learner, slot });
      return;
    }
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

  /**
   * A host saw the cluster make no progress for a bound of time with no
   * faults (the simulators' liveness phase): reported as a `liveness`
   * violation, with the host's sentence and facts.
   */
  livenessFailed(step: number, message: string, facts: Record<string, unknown>): void {
    this.report('liveness', step, message, facts);
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
    if (slot < this.floor) this.lateFacts++;
    if (!votes && slot < this.floor) {
      // A forgotten slot (a new leader re-proposing what was chosen there, say).
      const before = this.recent.get(slot);
      // Long forgotten: nothing left to count it with.
      if (before === undefined) return;
      // Recently forgotten: counted again, and a different batch chosen there is a conflict with the one forgotten.
      votes = { byBallot: new Map(), chosen: null, before };
      this.slots.set(slot, votes);
    }
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
    if (tally.voters.has(id)) return;
    tally.voters.add(id);
    if (this.alpha === null) {
      if (tally.voters.size !== this.quorum) return;
      this.chose(slot, votes, key, ballot, value, step);
      return;
    }
    const view = this.viewOf(slot);
    if (view === null) {
      this.undecided.add(slot);
      return;
    }
    // Chosen when this vote makes a majority of the slot's own view.
    const { acceptors } = view.members;
    if (!acceptors.includes(id)) return;
    let inView = 0;
    for (const v of tally.voters) if (acceptors.includes(v)) inView++;
    if (inView !== quorumSize(acceptors.length)) return;
    this.chose(slot, votes, key, ballot, value, step);
  }

  /** A majority of the slot's view accepted `value` at ballot `key`. */
  private chose(slot: number, votes: SlotVotes, key: string, ballot: Ballot | string, value: string, step: number): void {
    if (slot > this.highest) this.highest = slot;
    if (votes.chosen === null && votes.before !== undefined && votes.before !== hash(value)) this.report('slot-conflict', step, `slot ${slot}: ${value} chosen at ${key} after another batch was chosen there (and forgotten with the trim)`, { slot, ballot });
    if (votes.chosen === null) votes.chosen = value;
    else if (votes.chosen !== value) this.report('slot-conflict', step, `slot ${slot}: ${value} chosen at ${key} after ${votes.chosen} was chosen`, { slot, ballot });
  }

  /**
   * Drops the chosen slots below both the trim point and every learner's
   * next slot, after settling the applies at them that waited for their
   * choice. Slots never seen chosen stay: they still await facts, or the
   * end-of-run check.
   */
  private forget(): void {
    // A reconfiguring log forgets nothing past the views worked out, and waits only for the newest view's learners.
    let target = this.alpha === null ? this.trimPoint : Math.min(this.trimPoint, this.viewCursor);
    for (const l of this.alpha === null ? this.learners : lastView(this.views).members.learners) target = Math.min(target, this.nextApply.get(l) ?? 0);
    if (target <= this.floor) return;
    this.floor = target;
    /** The forgotten slots and what was chosen at each. */
    const forgotten = new Map<number, string>();
    for (const [slot, votes] of this.slots) {
      if (slot >= target || votes.chosen === null) continue;
      forgotten.set(slot, votes.chosen);
      this.slots.delete(slot);
      if (votes.before === undefined) this.forgottenChosen++;
      this.recent.delete(slot);
      this.recent.set(slot, votes.before ?? hash(votes.chosen));
    }
    for (const slot of this.recent.keys()) {
      if (this.recent.size <= RECENT_FORGOTTEN) break;
      this.recent.delete(slot);
    }
    if (forgotten.size === 0) return;
    const kept: typeof this.unchecked = [];
    for (const u of this.unchecked) {
      if (!forgotten.has(u.slot)) kept.push(u);
      else if (forgotten.get(u.slot) !== u.value) this.report('apply-not-chosen', u.step, `${u.learner} applied ${u.value} at slot ${u.slot}, but ${forgotten.get(u.slot)} was chosen there`, { learner: u.learner, slot: u.slot, appliedAtStep: u.step });
    }
    this.unchecked = kept;
    for (const slot of forgotten.keys()) this.applied.delete(slot);
  }

  private report(kind: ViolationKind, step: number, message: string, facts: Record<string, unknown>): void {
    this.found.push({ kind, step, message, facts });
  }
}
