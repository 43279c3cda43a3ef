/**
 * The safety checker. It is fed facts as they happen — values proposed,
 * acceptor records made durable or recovered, learner decisions, broken
 * invariants — by any host (the simulator, or a live cluster's events) and
 * reports every violation of Paxos safety it can prove from them:
 *
 * - agreement: no two learners decide different values, and no two different
 *   values are ever chosen (accepted by a majority at one ballot);
 * - validity: only a proposed value is decided;
 * - integrity: a learner decides at most once;
 * - an acceptor's accepted ballot never exceeds its promised ballot, and
 *   neither its promise nor its accepted ballot ever decreases, across
 *   crashes too;
 * - every decided value was accepted by a majority of acceptors at one ballot.
 */
import { compareBallots, describeBallot, type Ballot } from '../core/ballot.js';
import { describeProposal, describeValue } from '../core/describe.js';
import type { AcceptorRecord } from '../core/effects.js';
import type { ActorId, Membership } from '../core/ids.js';
import type { AcceptedProposal } from '../core/messages.js';
import { quorumSize } from '../core/quorum.js';
import { canonicalJson, type Value } from '../core/value.js';
import type { Violation, ViolationKind } from './types.js';

// The package root has always exported the violation types with this
// checker; they are defined in types.ts, which every checker shares.
export type { Violation, ViolationKind } from './types.js';

interface Decision {
  readonly learner: ActorId;
  readonly proposal: AcceptedProposal;
  readonly step: number;
}

/** Checks Paxos safety from a stream of facts. */
export class SafetyChecker {
  private readonly quorum: number;
  private readonly proposedValues = new Set<string>();
  private readonly acceptors = new Map<ActorId, AcceptorRecord>();
  /** Every (ballot, value) ever durably accepted, with who accepted it. */
  private readonly votes = new Map<string, { proposal: AcceptedProposal; voters: Set<ActorId> }>();
  /** Values chosen so far, canonical JSON -> the first ballot it was chosen at. */
  private readonly chosen = new Map<string, Ballot>();
  private readonly decisions = new Map<ActorId, Decision>();
  /** Decisions not yet backed by a majority of durable accepts (facts can arrive out of order in a live cluster). */
  private unsupported: Decision[] = [];
  private readonly found: Violation[] = [];

  constructor(members: Membership) {
    this.quorum = quorumSize(members.acceptors.length);
  }

  /** Every violation reported so far, in the order found. */
  get violations(): readonly Violation[] {
    return this.found;
  }

  /** The values chosen so far (accepted by a majority at one ballot). */
  get chosenValues(): string[] {
    return [...this.chosen.keys()];
  }

  /** A client proposed `value`. */
  proposed(value: Value): void {
    this.proposedValues.add(canonicalJson(value));
  }

  /** Acceptor `id`'s record became durable. */
  acceptorDurable(id: ActorId, record: AcceptorRecord, step: number): void {
    this.checkAcceptor(id, record, step, 'write');
    if (record.accepted) this.vote(id, record.accepted, step);
  }

  /** Acceptor `id` restarted with `record` (null: nothing on disk). */
  acceptorRecovered(id: ActorId, record: AcceptorRecord | null, step: number): void {
    this.checkAcceptor(id, record ?? { role: 'acceptor', promised: null, accepted: null }, step, 'restart');
  }

  /** Learner `learner` decided `proposal`. */
  decided(learner: ActorId, proposal: AcceptedProposal, step: number): void {
    const value = describeValue(proposal.value);
    const prior = this.decisions.get(learner);
    if (prior) {
      this.report('integrity', step, `${learner} decided twice: ${describeProposal(prior.proposal)} at step ${prior.step}, then ${describeProposal(proposal)}`, {
        learner,
        first: prior.proposal,
        second: proposal,
      });
      return;
    }
    if (!this.proposedValues.has(canonicalJson(proposal.value))) {
      this.report('validity', step, `${learner} decided ${value}, which no client proposed`, { learner, value: proposal.value });
    }
    for (const other of this.decisions.values()) {
      if (canonicalJson(other.proposal.value) !== canonicalJson(proposal.value)) {
        this.report('agreement', step, `${learner} decided ${value} but ${other.learner} decided ${describeValue(other.proposal.value)}`, {
          learner,
          value: proposal.value,
          otherLearner: other.learner,
          otherValue: other.proposal.value,
        });
        break;
      }
    }
    const decision = { learner, proposal, step };
    this.decisions.set(learner, decision);
    if (!this.isChosenAt(proposal)) this.unsupported.push(decision);
  }

  /** An actor's invariant check failed (the host crashed it). */
  invariantBroken(actor: ActorId, message: string, step: number): void {
    this.report('invariant', step, message.startsWith(`${actor}:`) ? message : `${actor}: ${message}`, { actor });
  }

  /**
   * Ends the run: any decision still not backed by a majority of durable
   * accepts at its ballot is reported. Returns every violation.
   */
  finish(step: number): readonly Violation[] {
    for (const d of this.unsupported) {
      this.report('not-chosen', step, `${d.learner} decided ${describeProposal(d.proposal)}, but no majority accepted it at that ballot`, {
        learner: d.learner,
        decided: d.proposal,
        decidedAtStep: d.step,
      });
    }
    this.unsupported = [];
    return this.found;
  }

  private checkAcceptor(id: ActorId, rec: AcceptorRecord, step: number, when: 'write' | 'restart'): void {
    if (rec.accepted && compareBallots(rec.accepted.ballot, rec.promised) > 0) {
      this.report('accepted-above-promised', step, `${id} accepted ${describeBallot(rec.accepted.ballot)} above its promise ${describeBallot(rec.promised)}`, {
        acceptor: id,
        promised: rec.promised,
        accepted: rec.accepted,
      });
    }
    const prev = this.acceptors.get(id);
    if (prev) {
      if (compareBallots(rec.promised, prev.promised) < 0) {
        this.report('promise-regressed', step, `${id} promised ${describeBallot(prev.promised)}, then ${describeBallot(rec.promised)} after a ${when}`, {
          acceptor: id,
          before: prev.promised,
          after: rec.promised,
          when,
        });
      }
      if (compareBallots(rec.accepted?.ballot ?? null, prev.accepted?.ballot ?? null) < 0) {
        this.report('accepted-regressed', step, `${id} accepted ${describeProposal(prev.accepted)}, then ${describeProposal(rec.accepted)} after a ${when}`, {
          acceptor: id,
          before: prev.accepted,
          after: rec.accepted,
          when,
        });
      }
    }
    this.acceptors.set(id, rec);
  }

  private vote(id: ActorId, proposal: AcceptedProposal, step: number): void {
    const key = `${describeBallot(proposal.ballot)} ${canonicalJson(proposal.value)}`;
    let tally = this.votes.get(key);
    if (!tally) {
      tally = { proposal, voters: new Set() };
      this.votes.set(key, tally);
    }
    if (tally.voters.has(id)) return;
    tally.voters.add(id);
    if (tally.voters.size !== this.quorum) return;
    const value = canonicalJson(proposal.value);
    for (const [other, ballot] of this.chosen) {
      if (other !== value) {
        this.report('chosen-conflict', step, `${value} was chosen at ${describeBallot(proposal.ballot)} after ${other} was chosen at ${describeBallot(ballot)}`, {
          value: proposal.value,
          ballot: proposal.ballot,
          otherValue: JSON.parse(other) as Value,
          otherBallot: ballot,
        });
        break;
      }
    }
    if (!this.chosen.has(value)) this.chosen.set(value, proposal.ballot);
    if (this.unsupported.length > 0) this.unsupported = this.unsupported.filter((d) => !this.isChosenAt(d.proposal));
  }

  private isChosenAt(p: AcceptedProposal): boolean {
    const tally = this.votes.get(`${describeBallot(p.ballot)} ${canonicalJson(p.value)}`);
    return tally !== undefined && tally.voters.size >= this.quorum;
  }

  private report(kind: ViolationKind, step: number, message: string, facts: Record<string, unknown>): void {
    this.found.push({ kind, step, message, facts });
  }
}
