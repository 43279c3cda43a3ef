/**
 * The transport interface: how two actors on different threads exchange
 * messages, whatever carries them.
 *
 * A transport makes *pairs*. A pair is two ends of one bidirectional,
 * ordered, lossless link. The thread that creates a pair (usually the main
 * thread, which owns the workers) hands each end to the thread that will use
 * it, by `postMessage(end, transferListOf(end))`; that thread turns the end
 * into a live {@link TransportEndpoint} with `openEndpoint(end)`. An end can
 * also be opened in the thread that created the pair (main <-> worker links).
 *
 *     main:      const pair = ringTransport().createPair();
 *                workerA.postMessage({ end: pair.ends[0] }, transferListOf(pair.ends[0]));
 *                workerB.postMessage({ end: pair.ends[1] }, transferListOf(pair.ends[1]));
 *     worker A:  const ep = openEndpoint<Msg>(end);  ep.onMessage(onPeerMessage);  ep.send(msg);
 *
 * An end is plain data (MessagePorts and SharedArrayBuffers inside), so the
 * same cluster code can run on any transport: `createCluster({ transport })`
 * only has to call `transport.createPair()` per pair of actors and pass the
 * ends along; the workers call `openEndpoint` whatever the kind.
 *
 * What every transport guarantees, and what it asks of messages:
 * - messages arrive in the order they were sent, none lost or duplicated,
 *   while both ends are open; `send` never drops silently: a message that
 *   cannot be carried makes it throw a {@link TransportError};
 * - a message is plain data (what structured clone AND msgpack carry alike:
 *   objects, arrays inside them, strings, numbers, booleans, null) and is
 *   never itself an array: the MessagePort transports post a batch as one
 *   array (the convention the runtime's workers already use);
 * - closing either end closes the link for both.
 *
 * Request/response paths (comlink, piscina) do not fit this interface: they
 * answer calls rather than carry a stream of messages both ways. They are
 * measured side by side in `bench/paths.ts`, not offered here.
 */
import type { MessagePort } from 'node:worker_threads';
import { CodedError } from '../../errors.js';
import type { SpinOptions } from './spin.js';

/** The transports that carry actor-to-actor messages. */
export type TransportKind = 'port' | 'hub' | 'ring';

/**
 * How an end waits for messages.
 *
 * - `async`: messages are delivered from the event loop, between other
 *   events, and the thread stays responsive (MessagePort `message` events;
 *   for the ring, `Atomics.waitAsync`). The default, and what actors want.
 * - `block`: a dedicated loop sleeps in `Atomics.wait` and calls the handler
 *   synchronously. The thread's event loop does not run while a handler is
 *   attached: no timers, no other ports, until the handler detaches itself
 *   or the link closes. Ring only.
 * - `spin`: like `block`, but the loop busy-polls instead of sleeping
 *   (the ring's indices, or `receiveMessageOnPort`). No wake-up cost, one
 *   vCPU burnt per spinning end.
 * - `adaptive`: like `async` (the event loop runs), but an end whose ring
 *   runs empty first watches it for a while, and sleeps (`Atomics.waitAsync`)
 *   only if nothing came. How long adapts to the traffic (longer while
 *   messages follow soon after the ring goes idle, down to not at all when
 *   spins are wasted) and is bounded: at most `maxSpinUs` per idle period,
 *   at most `maxShare` of the time (see `SpinOptions`). Meanwhile the
 *   thread's event loop waits too, for at most `maxSpinUs`. Ring only.
 */
export type WaitMode = 'async' | 'block' | 'spin' | 'adaptive';

/** One end of a link, as a live object in the thread that opened it. */
export interface TransportEndpoint<T> {
  /** Which transport carries this link. */
  readonly kind: TransportKind;
  /** How this end waits for messages. */
  readonly wait: WaitMode;
  /** True once either end closed the link. */
  readonly closed: boolean;
  /**
   * Messages accepted by `send` but still waiting in this thread for room in
   * a full ring (async ring ends only; always 0 elsewhere). They leave in
   * order as the peer consumes; `close()` discards them.
   */
  readonly queued: number;
  /**
   * Messages that arrived but could not be decoded, dropped and counted here
   * rather than delivered or thrown: the peer is untrusted. The ring counts
   * records msgpack cannot decode (garbage bytes, a value nested deeper than
   * the decoder goes) and a corrupt ring, whose unread records it drops at
   * once; the port transports count messages the structured-clone
   * deserializer refused (`messageerror`).
   */
  readonly undecodable: number;
  /**
   * Sends one message. Throws a {@link TransportError} if the link is closed,
   * the message is an array, or it can never fit (ring). On a full ring an
   * `async` end queues the message; a `block` or `spin` end waits for room,
   * meanwhile taking in what the peer sends so two ends that both send
   * cannot deadlock.
   */
  send(msg: T): void;
  /**
   * Sends several messages as one post (one structured clone, or one ring
   * publish and at most one wake-up). All or nothing when refused: if any of
   * them is refused, none is sent.
   */
  sendBatch(msgs: readonly T[]): void;
  /**
   * Attaches the receive handler (replacing any earlier one), or detaches it
   * with `null`. Messages that arrive while none is attached wait, in order,
   * for the next one. For `block` and `spin` ends, attaching starts the
   * dedicated loop on the next macrotask; it runs until the handler detaches
   * (it may do so from inside itself) or the link closes.
   */
  onMessage(handler: ((msg: T) => void) | null): void;
  /** Closes the link (both ends). Idempotent. Releases everything that kept this thread alive. */
  close(): void;
}

/** An end of a link carried by a MessagePort (`port`: directly to the peer; `hub`: to the main thread, which relays). */
export interface PortEnd {
  readonly kind: 'port' | 'hub';
  readonly port: MessagePort;
  /** One Int32: set to 1 when the link closes, so spinning ends notice without their event loop. */
  readonly closedFlag: SharedArrayBuffer;
  readonly wait: WaitMode;
}

/** An end of a shared-memory ring link. See `ring.ts` for the layout. */
export interface RingEnd {
  readonly kind: 'ring';
  /** Which side this end is: it sends on ring `side` and receives on ring `1 - side`. */
  readonly side: 0 | 1;
  /** The closed flag and both ends' doorbells. */
  readonly control: SharedArrayBuffer;
  /** `rings[d]` carries messages from side `d` to side `1 - d`. */
  readonly rings: readonly [SharedArrayBuffer, SharedArrayBuffer];
  /** Bytes of message data each ring holds (a power of two). */
  readonly capacityBytes: number;
  readonly wait: WaitMode;
  /** Bounds of the spin before sleeping, for `adaptive` ends (defaults when absent). */
  readonly spin?: SpinOptions;
}

/** One end of a link, as plain data that can be posted to another thread. */
export type TransportEnd = PortEnd | RingEnd;

/** The two ends of a link, as created by {@link Transport.createPair}. */
export interface TransportPair {
  /** Give one end to each of the two threads (or open one here). */
  readonly ends: readonly [TransportEnd, TransportEnd];
  /**
   * Closes the link from the creating thread, e.g. when one of the two
   * workers died. Idempotent. What it reaches differs:
   * - `ring`: needed when a peer dies (its end cannot close itself); wakes
   *   and ends the other end, whatever its wait mode.
   * - `hub`: stops the relay; both ends' ports close.
   * - `port`: the ports live in the workers now, so this only marks the
   *   link closed (sends throw, spinning ends stop); an `async` end lets go
   *   of its thread when either end closes or a peer's thread exits, which
   *   closes its ports by itself.
   */
  close(): void;
}

/** A way to carry messages between threads: makes connected pairs of ends. */
export interface Transport {
  readonly kind: TransportKind;
  /** Creates a new link. Call it in the thread that will hand out the ends (the hub relays in this thread). */
  createPair(): TransportPair;
}

/** Codes of {@link TransportError}. */
export type TransportErrorCode =
  /** The link was closed, by this end, the peer or the pair's creator. */
  | 'SYNOD_TRANSPORT_CLOSED'
  /** The encoded message is larger than the ring can ever hold. */
  | 'SYNOD_TRANSPORT_TOO_BIG'
  /** The message is an array, or cannot be encoded. */
  | 'SYNOD_TRANSPORT_BAD_MESSAGE'
  /** The wait mode is not available on this transport, or an option is out of range. */
  | 'SYNOD_TRANSPORT_UNSUPPORTED';

/** An error of the transport layer; `code` says which, the message says what to do. */
export class TransportError extends CodedError<TransportErrorCode> {
  override readonly name = 'TransportError';
}

/**
 * The objects in `end` that must go in `postMessage`'s transfer list when it
 * is handed to another thread. Typed as MessagePort[] rather than as
 * worker_threads' transfer-list type, whose name changed between @types/node
 * releases (TransferListItem is gone from the newest): a MessagePort array is
 * a valid transfer list in all of them.
 */
export function transferListOf(end: TransportEnd): MessagePort[] {
  return end.kind === 'ring' ? [] : [end.port];
}
