/**
 * The trace model shared by the simulator, the worker-thread runtime and the
 * viewers: every send, receive, drop, persist, crash and restart is one event
 * on one actor's lane, with the actor's describe() text.
 *
 * Producers emit {@link RawTraceEvent}s in the order they happened on each
 * lane (the simulator in one global order, the runtime as the main thread
 * receives them); a {@link TraceBuilder} (see `builder.ts`) numbers them and
 * gives each a vector clock: one tick per event on its own lane, and a
 * receive also merges the clock of the send it matches by `msg` id.
 */

/** What happened. */
export type TraceKind =
  | 'send'
  | 'receive'
  | 'drop'
  | 'persist'
  | 'durable'
  | 'crash'
  | 'restart'
  | 'decide'
  | 'propose'
  | 'timer'
  | 'fault'
  | 'note';

/** One event as a producer reports it, before it has a vector clock. */
export interface RawTraceEvent {
  /** The lane: an actor id (p1, a2, l1), or `env` for what the environment does (faults, partitions). */
  readonly actor: string;
  readonly kind: TraceKind;
  /** Human-readable text: the describe() of the message, record or state involved. */
  readonly text: string;
  /** Virtual ms (simulator) or ms since the run started (runtime). */
  readonly time: number;
  /** send / receive / drop: the message's id, unique per send of a copy within the trace; a receive names the id of the send it takes in. */
  readonly msg?: string;
  /** send / drop: the receiver. */
  readonly to?: string;
  /** receive: the sender. */
  readonly from?: string;
  /** decide: the decided value, described. */
  readonly value?: string;
}

/** A numbered event with its vector clock. */
export interface TraceEvent extends RawTraceEvent {
  /** Position in the trace, from 0. */
  readonly index: number;
  /** The vector clock: events seen per lane, this one included. Lanes with 0 are absent. */
  readonly vc: Readonly<Record<string, number>>;
}

/** A whole trace, as `--trace FILE` writes it (JSON) and the viewers read it. */
export interface Trace {
  readonly format: 'synod-trace';
  readonly version: 1;
  /** Where it came from: `sim` or `cluster`, and the options that reproduce it. */
  readonly source: { readonly kind: 'sim' | 'cluster'; readonly [k: string]: unknown };
  /** Lanes in display order. */
  readonly actors: readonly string[];
  readonly events: readonly TraceEvent[];
}
