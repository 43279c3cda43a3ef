/**
 * Inputs to and effects of a role core. A core never performs I/O: it
 * returns effects, and its host carries them out. Time and randomness come in
 * as inputs: a timer firing is an input, and every step receives one random
 * draw in [0, 1) from the host.
 */
import type { Ballot } from './ballot.js';
import type { ActorId } from './ids.js';
import type { AcceptedProposal, Message } from './messages.js';
import type { Value } from './value.js';

/** Names of the timers a core can ask for. */
export type TimerName = 'retry';

/** What a host feeds a core. */
export type Input =
  | { readonly type: 'receive'; readonly msg: Message }
  | { readonly type: 'timeout'; readonly timer: TimerName }
  | { readonly type: 'propose'; readonly value: Value };

/** An acceptor's durable state: what it promised and what it accepted. */
export interface AcceptorRecord {
  readonly role: 'acceptor';
  readonly promised: Ballot | null;
  readonly accepted: AcceptedProposal | null;
}

/** A proposer's durable state: the highest round it has used, so it never reuses a ballot. */
export interface ProposerRecord {
  readonly role: 'proposer';
  readonly roundMax: number;
}

/** A learner's durable state: what it decided, if anything. */
export interface LearnerRecord {
  readonly role: 'learner';
  readonly decided: AcceptedProposal | null;
}

/** Any role's durable record. Each record is the role's whole durable state, so the latest write wins. */
export type DurableRecord = AcceptorRecord | ProposerRecord | LearnerRecord;

/** What a core asks its host to do. */
export type Effect =
  /** Send `msg` to actor `to`. */
  | { readonly type: 'send'; readonly to: ActorId; readonly msg: Message }
  /**
   * Make `record` durable, and only then carry out `then`. A host must never
   * run `then` before the write is on disk; if the actor crashes first, `then`
   * is dropped with the write.
   */
  | { readonly type: 'persist'; readonly record: DurableRecord; readonly then: readonly Effect[] }
  /** (Re)arm timer `timer` to fire `delay` time units from now, replacing any pending one. */
  | { readonly type: 'setTimer'; readonly timer: TimerName; readonly delay: number }
  /** Disarm timer `timer` if it is pending. */
  | { readonly type: 'cancelTimer'; readonly timer: TimerName }
  /** A learner decided `value` (chosen at `ballot`). Happens at most once per learner. */
  | { readonly type: 'decide'; readonly ballot: Ballot; readonly value: Value }
  /** A proposer learned that `value` was chosen at `ballot` (its answer to the client). */
  | { readonly type: 'chosen'; readonly ballot: Ballot; readonly value: Value }
  /** The input was expected but irrelevant (stale, duplicate, foreign) and was dropped; `reason` says why. */
  | { readonly type: 'ignore'; readonly reason: string };

/** The result of one step of a core. */
export interface Step<S> {
  readonly state: S;
  readonly effects: readonly Effect[];
}
