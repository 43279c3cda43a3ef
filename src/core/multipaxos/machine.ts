/**
 * The seam between the replicated log and what its commands mean. The log
 * (election, replication, catch-up, compaction, client sessions) carries a
 * command's operation and its result as opaque JSON values; a
 * {@link StateMachine} gives them meaning. The key-value store is one
 * implementation (src/machines/kv), a counter another (src/machines/counter).
 *
 * A machine is pure like the core: no I/O, no clock, no randomness, and the
 * same operations in the same order give the same results on every replica.
 * `apply` may update the state in place (the log is long and the state big;
 * copying it per command would cost more than the protocol), and is the only
 * function that changes it.
 */
import type { Value } from '../value.js';

/** How big a snapshot is, for one-line descriptions: `count` things called `noun` (say, 3 keys). */
export interface SnapshotSize {
  readonly count: number;
  readonly noun: string;
}

/**
 * A deterministic state machine replicated by the log.
 *
 * `S` is the state, `Op` an operation and `R` its result. The log never looks
 * inside an operation or a result: it stores, sends and answers them as they
 * are, and leaves their validation and their description to the machine.
 * Methods are declared as methods, so a machine of any types is a
 * {@link AnyStateMachine}.
 */
export interface StateMachine<S, Op extends Value, R extends Value> {
  /** A short name, for errors and descriptions. */
  readonly name: string;
  /** The state before any command. */
  init(): S;
  /** Applies `op` to `state` (in place) and returns its result. Called once per command, in log order, on every replica. */
  apply(state: S, op: Op): R;
  /**
   * True when `op` never changes the state. ReadIndex serves such operations
   * without the log (the leader confirms it still leads; a replica answers
   * once it has applied up to the leader's commit index, by applying the
   * operation to its state, which it leaves unchanged). The stale-read
   * control bug uses it too: a replica under that bug answers them from its
   * own, possibly lagging, state at once.
   */
  readOnly(op: Op): boolean;
  /** The whole state as a JSON value, for a durable snapshot or for a replica behind the trim point. */
  snapshot(state: S): Value;
  /** The state a snapshot holds (one that `snapshotProblem` accepted). */
  restore(snapshot: Value): S;
  /**
   * Why `x` (a JSON object) is not an operation of this machine, or null
   * when it is one; the reason completes "the command has ..." (say, "a
   * malformed op"). Operations come from untrusted peers and are stored as
   * the JSON text they arrived in, so an operation must have exactly its
   * fields, no others.
   */
  opProblem(x: unknown): string | null;
  /** Why `x` is not a result of this machine, or null when it is one (results travel in snapshots, with the sessions). */
  resultProblem(x: unknown): string | null;
  /** Why `x` is not a snapshot of this machine, or null when it is one. */
  snapshotProblem(x: unknown): string | null;
  /** An operation on one line, stable (transcripts compare it). */
  describeOp(op: Op): string;
  /** A result on one line, as the client sees it. */
  describeResult(result: R): string;
  /** The state on one line, as `name={...}`. */
  describeState(state: S): string;
  /** How big a snapshot is. */
  snapshotSize(snapshot: Value): SnapshotSize;
}

/**
 * A state machine of any types, as the log holds it. The log hands a machine
 * only what that machine made or validated (its state, operations that passed
 * `opProblem`), so nothing is lost by forgetting the types.
 */
export type AnyStateMachine = StateMachine<unknown, Value, Value>;
