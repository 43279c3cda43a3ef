/**
 * The protocol seam: everything a host needs to know about one protocol,
 * described once, as data. The turn host (turn.ts), the worker entry
 * (workers/actor.ts) and the simulated world (src/sim/world.ts) are generic
 * over it; the
 * single-decree protocol (synod.ts) and the replicated log (multipaxos.ts)
 * are its two instances.
 *
 * A host never looks inside a protocol's effects beyond {@link Protocol.classify},
 * which sorts each into what every host does the same way (send, persist,
 * timers, ignore) and the protocol's own outputs (a decision, an answer to a
 * client, an election), which the host hands on untouched.
 */
import type { ActorId, Membership, Role } from '../core/ids.js';

/** The types of one protocol, bundled so that generic code names one parameter. */
export interface ProtocolTypes {
  /** The state of any role's core. */
  readonly state: { readonly role: Role; readonly id: ActorId };
  /** What a core is stepped with. */
  readonly input: unknown;
  /** What a core asks its host to do. */
  readonly effect: unknown;
  /** A peer message. */
  readonly message: { readonly type: string; readonly from: ActorId };
  /** A durable record. */
  readonly record: unknown;
  /** A client request as the host receives it (one value to propose, one command). */
  readonly request: unknown;
  /** The core's configuration. */
  readonly config: { readonly members: Membership };
  /** A timer name. */
  readonly timer: string;
}

/**
 * An effect sorted for the host: the kinds every host carries out alike, or
 * an output of the protocol's own. The shared kinds have the shapes of the
 * effects themselves ({@link CommonEffect}), so that sorting one allocates
 * nothing: the effect is its own sorted form.
 */
export type HostEffect<T extends ProtocolTypes> =
  | CommonEffect<T>
  | { readonly type: 'persist'; readonly records: readonly T['record'][]; readonly then: readonly T['effect'][] }
  | OutputEffect;

/** The sorted form of every output of a protocol's own (see {@link OUTPUT}). */
export interface OutputEffect {
  readonly type: 'output';
}

/** An output of the protocol's own, sorted: the host hands the effect itself on. One object for all. */
export const OUTPUT: OutputEffect = Object.freeze({ type: 'output' });

/** The effects every protocol shares, by shape: a send, a timer armed or disarmed, an input ignored. */
export type CommonEffect<T extends ProtocolTypes> =
  | { readonly type: 'send'; readonly to: ActorId; readonly msg: T['message'] }
  | { readonly type: 'setTimer'; readonly timer: T['timer']; readonly delay: number }
  | { readonly type: 'cancelTimer'; readonly timer: T['timer'] }
  | { readonly type: 'ignore'; readonly reason: string };

/** Sorts an effect of the shared shapes for the host (it is returned as it is), or returns null for a protocol to sort itself (a persist, an output). */
export function classifyCommon<T extends ProtocolTypes>(e: { readonly type: string }): HostEffect<T> | null {
  switch (e.type) {
    case 'send':
    case 'setTimer':
    case 'cancelTimer':
    case 'ignore':
      return e as CommonEffect<T>;
    default:
      return null;
  }
}

/** A peer message checked by {@link Protocol.validate}. */
export type Validated<M> = { readonly ok: true; readonly msg: M } | { readonly ok: false; readonly reason: string };

/** A trace line a protocol has to say about one of its outputs (a decision, say), or null. */
export interface OutputTrace {
  readonly kind: 'decide' | 'note';
  readonly text: string;
  readonly value?: string;
}

/** One protocol, as the hosts see it. */
export interface Protocol<T extends ProtocolTypes> {
  /** A short name, for errors and reports. */
  readonly name: string;
  /** Builds a role's core from the durable records it wrote, oldest first (none for a fresh actor). */
  init(role: Role, id: ActorId, config: T['config'], records: readonly T['record'][]): T['state'];
  /** One step; `random` is a draw in [0, 1). */
  step(state: T['state'], input: T['input'], random: number): { readonly state: T['state']; readonly effects: readonly T['effect'][] };
  /** Asserts the role's invariants (throws an AssertionError when one is broken). */
  invariants(state: T['state']): void;
  /** Checks a raw peer message; anything from a link is untrusted. */
  validate(raw: unknown): Validated<T['message']>;
  /** True when `msg` carries a value larger than `maxBytes` (always false for a protocol that bounds sizes elsewhere). */
  oversized(msg: T['message'], maxBytes: number): boolean;
  /** Sorts an effect for the host. */
  classify(e: T['effect']): HostEffect<T>;
  /** The input for a received message. */
  receive(msg: T['message']): T['input'];
  /** The input for a timer that fired. */
  timeout(timer: T['timer']): T['input'];
  /** The inputs for the client requests of one turn, in order: one per request, or all of them as one (a leader's batch). */
  requests(requests: readonly T['request'][]): T['input'][];
  /** The input a core takes once, when its host starts it (arms its timers), if the protocol has one. */
  readonly start: T['input'] | null;
  /**
   * True when a message to `to` may be held back for a short while and sent
   * with the next message to that peer (nobody waits for it; sent alone it
   * would wake a thread for nothing). Holding a message back is what any
   * network may do, so it is always safe.
   */
  lazy(from: T['state'], config: T['config'], to: ActorId, msg: T['message']): boolean;
  /** The longest a host holds lazy messages back under `config`, in ms (0 for a protocol that has none). */
  lazyMs(config: T['config']): number;
  /** What a message looks like on a link (plain data; structured-clone and msgpack safe). */
  toWire(msg: T['message']): unknown;
  /** Stable text printers, for transcripts, traces and `describe()`. */
  readonly describe: {
    state(s: T['state']): string;
    message(m: T['message'], to?: ActorId): string;
    record(r: T['record']): string;
    input(i: T['input']): string;
    effect(e: T['effect'], self: ActorId): string;
    /** The trace line for an output, or null when there is nothing to draw. */
    output(e: T['effect']): OutputTrace | null;
  };
}
