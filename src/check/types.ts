/**
 * What every checker reports: a safety violation, with its kind, the step
 * it was seen at, a sentence and the facts that prove it. Shared by the
 * single-decree checker (safety.ts), the replicated-log checker
 * (log-safety.ts) and every host that collects their reports, so none of
 * them depends on another checker for its vocabulary.
 */

/** The kinds of violation the checkers report. */
export type ViolationKind =
  | 'agreement'
  | 'chosen-conflict'
  | 'validity'
  | 'integrity'
  | 'not-chosen'
  | 'accepted-above-promised'
  | 'promise-regressed'
  | 'accepted-regressed'
  | 'invariant'
  // Multi-Paxos (see log-safety.ts):
  | 'slot-conflict'
  | 'ballot-reuse'
  | 'apply-divergence'
  | 'apply-order'
  | 'apply-not-chosen'
  // Progress (the simulators' liveness phase, see docs/simulator.md):
  | 'liveness';

/** One violation (of safety, or of liveness in a simulator's liveness phase): its kind, when it was seen, a sentence, and the conflicting facts. */
export interface Violation {
  readonly kind: ViolationKind;
  readonly step: number;
  readonly message: string;
  readonly facts: Readonly<Record<string, unknown>>;
}
