/**
 * The shared-memory ring transport: one single-producer/single-consumer ring
 * buffer per direction in a SharedArrayBuffer, indices published with
 * `Atomics`, messages encoded with msgpackr.
 *
 * Layout of one ring (`rings[d]`, written by side d, read by side 1 - d):
 *
 *     Int32 0   head        bytes ever published by the producer (mod 2^32)
 *     Int32 1   wantSpace   free bytes a producer waits for (0: none); the
 *                           consumer clears it and rings the producer's doorbell
 *                           once that much is free
 *     Int32 16  tail        bytes ever consumed (its own 64-byte line, so the
 *                           two threads do not write the same cache line)
 *     byte 128  data        `capacityBytes` bytes, a power of two
 *
 * A record is a 4-byte length followed by the encoded message, padded to 4
 * bytes. A record that reaches the end of the data wraps around to its start
 * (the length word never straddles the end, since everything is 4-aligned).
 * A message whose record would take more than half the ring is cut into
 * fragments of at most half the ring each: every fragment but the last has
 * its length negated, and the consumer puts them back together before it
 * decodes. So a message of any size (up to 1 GiB encoded) gets through, in
 * order, while the consumer frees room behind it; a Multi-Paxos promise that
 * carries a whole window of accepted batches, say, never has to fit at once.
 * head and tail run freely as int32 and wrap at 2^32; `(head - tail) | 0`
 * is the number of bytes in use, and `position & (capacity - 1)` the offset.
 *
 * The control buffer holds the closed flag and, per side, a doorbell word
 * and a "sleeping" word. A side about to sleep reads its doorbell, sets
 * sleeping, checks once more for work, and only then waits on the doorbell
 * value it read. The other side publishes first and rings (increments and
 * notifies) only if it sees sleeping set. With sequentially consistent
 * Atomics one of the two always sees the other, so no wake-up is lost, and
 * a peer that is awake (or spinning) costs only one load per publish.
 *
 * An `adaptive` end is an `async` end that, when its ring runs empty, first
 * watches the ring's head (`Atomics.load`, no sleeping flag set, so the
 * producer rings no doorbell) for a while before it arms its waitAsync: one
 * spin per idle period, as long as `SpinPolicy` (spin.ts) allows, which
 * learns from how soon messages follow the ring going idle and caps both
 * the spin and the share of time spent spinning.
 *
 * A producer that finds the ring full asks for half the ring (or its record,
 * if bigger) before it is woken, not just for room for one record: otherwise
 * a fast producer and a slower consumer wake each other once per message.
 *
 * msgpackr runs without records (`useRecords: false`): every message decodes
 * on its own, so a refused or discarded message can never leave the decoder
 * out of step with the encoder. A record is copied out of shared memory into
 * a private buffer before it is decoded (msgpackr's native string decoder
 * throws "source must be an ArrayBuffer" on shared memory for longer
 * strings), and `copyBuffers` keeps decoded binary data from pointing into
 * that buffer, which the next record reuses.
 */
import { Packr, Unpackr } from 'msgpackr';
import { SpinPolicy, spinOptions, type SpinOptions } from './spin.js';
import { TransportError, type RingEnd, type Transport, type TransportEndpoint, type TransportPair, type WaitMode } from './types.js';

/** Options of the ring transport. */
export interface RingTransportOptions {
  /** Bytes of message data per direction; a power of two, at least 64. Default 64 KiB. */
  readonly capacityBytes?: number;
  /** How ends wait unless `openEndpoint` says otherwise. Default `async`. */
  readonly wait?: WaitMode;
  /** Bounds of the spin before sleeping, for `adaptive` ends. Defaults: {@link DEFAULT_SPIN}. */
  readonly spin?: SpinOptions;
  /**
   * Where head and tail start (int32). Only for tests: a value just below
   * 2^31 makes the counters overflow after a few messages.
   */
  readonly startPosition?: number;
}

/** The default bytes of message data per direction. */
export const DEFAULT_RING_CAPACITY_BYTES = 64 * 1024;

const RING_HEADER_BYTES = 128;
const HEAD = 0;
const WANT_SPACE = 1;
const TAIL = 16;

const CONTROL_INTS = 48;
const CLOSED = 0;
const BELL = [16, 32] as const;
const SLEEPING = [17, 33] as const;

/** Messages an `async` end delivers per event-loop turn before it yields. */
const ASYNC_BUDGET = 1024;

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// Atomics.waitAsync is in Node 20 but only in TypeScript's ES2024 lib.
const atomicsWaitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync.bind(Atomics);

/** The shared-memory ring transport. */
export function ringTransport(options: RingTransportOptions = {}): Transport {
  const capacityBytes = options.capacityBytes ?? DEFAULT_RING_CAPACITY_BYTES;
  const wait = options.wait ?? 'async';
  const start = options.startPosition ?? 0;
  let spin: Required<SpinOptions>;
  try {
    spin = spinOptions(options.spin);
  } catch (err) {
    throw new TransportError('SYNOD_TRANSPORT_UNSUPPORTED', (err as Error).message, { cause: err });
  }
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 64 || capacityBytes > 2 ** 30 || (capacityBytes & (capacityBytes - 1)) !== 0) {
    throw new TransportError('SYNOD_TRANSPORT_UNSUPPORTED', `ring capacityBytes must be a power of two from 64 to 2^30, got ${capacityBytes}`);
  }
  if (!Number.isSafeInteger(start) || start < -(2 ** 31) || start >= 2 ** 31 || start % 4 !== 0) {
    throw new TransportError('SYNOD_TRANSPORT_UNSUPPORTED', `ring startPosition must be a multiple of 4 in the int32 range, got ${start}`);
  }
  return {
    kind: 'ring',
    createPair(): TransportPair {
      const control = new SharedArrayBuffer(CONTROL_INTS * 4);
      const rings = [newRing(capacityBytes, start), newRing(capacityBytes, start)] as const;
      return {
        ends: [
          { kind: 'ring', side: 0, control, rings, capacityBytes, wait, spin },
          { kind: 'ring', side: 1, control, rings, capacityBytes, wait, spin },
        ],
        close: () => closeControl(new Int32Array(control)),
      };
    },
  };
}

function newRing(capacityBytes: number, start: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacityBytes);
  const header = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
  header[HEAD] = start;
  header[TAIL] = start;
  return sab;
}

function ring(control: Int32Array, side: 0 | 1): void {
  Atomics.add(control, BELL[side], 1);
  Atomics.notify(control, BELL[side]);
}

function closeControl(control: Int32Array): void {
  Atomics.store(control, CLOSED, 1);
  ring(control, 0);
  ring(control, 1);
}

/** Nothing read: distinct from every message. */
const NONE: unique symbol = Symbol('none');

/** One direction of the link as seen from one end. */
interface RingView {
  readonly header: Int32Array;
  readonly data: Uint8Array;
  readonly words: Int32Array;
}

function view(sab: SharedArrayBuffer, capacityBytes: number): RingView {
  return {
    header: new Int32Array(sab, 0, RING_HEADER_BYTES / 4),
    data: new Uint8Array(sab, RING_HEADER_BYTES, capacityBytes),
    words: new Int32Array(sab, RING_HEADER_BYTES, capacityBytes / 4),
  };
}

/** A live end of a ring link. Use `openEndpoint`. */
export class RingEndpoint<T> implements TransportEndpoint<T> {
  readonly kind = 'ring' as const;
  readonly wait: WaitMode;
  private readonly control: Int32Array;
  private readonly out: RingView;
  private readonly in: RingView;
  private readonly capacity: number;
  private readonly mask: number;
  private readonly me: 0 | 1;
  private readonly peer: 0 | 1;
  /** Producer position: written records, published or not. */
  private head: number;
  /** The head the consumer can see. */
  private publishedHead: number;
  /** Consumer position. */
  private tail: number;
  private readonly packr = new Packr({ useRecords: false });
  private readonly unpackr = new Unpackr({ useRecords: false, copyBuffers: true });
  /** Where each record is copied (and a wrapped one put back together) to be decoded. */
  private scratch = new Uint8Array(256);
  private handler: ((msg: T) => void) | null = null;
  /** Messages taken off the ring before they could be delivered (while a blocked send waited for room). */
  private inbox: T[] = [];
  private inboxAt = 0;
  /** Encoded records (whole messages or fragments) waiting for room (async ends). */
  private pending: Piece[] = [];
  private pendingAt = 0;
  /** The largest record written whole; bigger messages go as fragments. */
  private readonly maxRecord: number;
  /** Fragments of an incoming message received so far, put together here. */
  private partial: Uint8Array | null = null;
  private partialLength = 0;
  private closedHere = false;
  private undecodableCount = 0;
  private looping = false;
  private loopScheduled = false;
  private stepScheduled = false;
  private armed = false;
  private keepAlive: ReturnType<typeof setInterval> | null = null;
  /** `async` and `adaptive` ends deliver from the event loop. */
  private readonly evented: boolean;
  /** How long an `adaptive` end spins when its ring runs empty (null for other modes). */
  private readonly spinPolicy: SpinPolicy | null;
  /** When the current idle period began (microseconds, performance.now), or null while busy. */
  private idleSince: number | null = null;
  /** Microseconds spun in the current idle period, whether it has had its one spin, and whether that spin saw a message come. */
  private idleSpent = 0;
  private idleSpun = false;
  private idleCaught = false;

  constructor(end: RingEnd, wait: WaitMode = end.wait) {
    if (wait !== 'async' && wait !== 'block' && wait !== 'spin' && wait !== 'adaptive') {
      throw new TransportError('SYNOD_TRANSPORT_UNSUPPORTED', `unknown wait mode '${String(wait)}': use 'async', 'adaptive', 'block' or 'spin'`);
    }
    this.wait = wait;
    this.evented = wait === 'async' || wait === 'adaptive';
    let policy: SpinPolicy | null = null;
    if (wait === 'adaptive') {
      try {
        policy = new SpinPolicy(end.spin);
      } catch (err) {
        throw new TransportError('SYNOD_TRANSPORT_UNSUPPORTED', (err as Error).message, { cause: err });
      }
    }
    this.spinPolicy = policy;
    this.me = end.side;
    this.peer = end.side === 0 ? 1 : 0;
    this.capacity = end.capacityBytes;
    this.mask = end.capacityBytes - 1;
    this.maxRecord = end.capacityBytes >>> 1;
    this.control = new Int32Array(end.control);
    this.out = view(end.rings[this.me], end.capacityBytes);
    this.in = view(end.rings[this.peer], end.capacityBytes);
    this.head = Atomics.load(this.out.header, HEAD);
    this.publishedHead = this.head;
    this.tail = Atomics.load(this.in.header, TAIL);
  }

  get closed(): boolean {
    return this.closedHere || Atomics.load(this.control, CLOSED) !== 0;
  }

  get queued(): number {
    return this.pending.length - this.pendingAt;
  }

  get undecodable(): number {
    return this.undecodableCount;
  }

  send(msg: T): void {
    this.checkOpen();
    const bytes = this.encode(msg);
    if (recordBytes(bytes.length) > this.maxRecord) this.writeFragments(bytes, true);
    else if (this.queued !== 0 || !this.tryWrite(bytes, false)) this.sendSlow(bytes, true, false);
    this.publish();
  }

  sendBatch(msgs: readonly T[]): void {
    this.checkOpen();
    // Encode everything first, so a refused message refuses the whole batch.
    // (msgpackr hands out each encoding in its own stretch of memory.)
    const encoded: Uint8Array[] = new Array(msgs.length);
    for (let i = 0; i < msgs.length; i++) encoded[i] = this.encode(msgs[i] as T);
    for (const bytes of encoded) {
      if (recordBytes(bytes.length) > this.maxRecord) this.writeFragments(bytes, false);
      else if (this.queued !== 0 || !this.tryWrite(bytes, false)) this.sendSlow(bytes, false, false);
    }
    this.publish();
  }

  /** Writes a message too big for one record as fragments of at most half the ring, in order. */
  private writeFragments(bytes: Uint8Array, single: boolean): void {
    const chunk = this.maxRecord - 4;
    for (let at = 0; at < bytes.length; at += chunk) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + chunk));
      const more = at + chunk < bytes.length;
      if (this.queued !== 0 || !this.tryWrite(piece, more)) this.sendSlow(piece, single, more);
    }
  }

  onMessage(handler: ((msg: T) => void) | null): void {
    this.handler = handler;
    if (this.closedHere || !handler) return;
    if (this.evented) this.kick();
    else if (!this.looping && !this.loopScheduled) {
      this.loopScheduled = true;
      setImmediate(() => this.runLoop());
    }
  }

  close(): void {
    if (this.closedHere) return;
    // Rings both doorbells: wakes the peer, and this end's own pending waitAsync.
    closeControl(this.control);
    this.finishClose();
  }

  // ---- encoding and the ring itself ----

  private encode(msg: T): Uint8Array {
    if (Array.isArray(msg)) {
      throw new TransportError('SYNOD_TRANSPORT_BAD_MESSAGE', 'a message must not be an array (arrays carry batches on the port transports): wrap it in an object, or use sendBatch');
    }
    let bytes: Uint8Array;
    try {
      bytes = this.packr.pack(msg);
    } catch (err) {
      throw new TransportError('SYNOD_TRANSPORT_BAD_MESSAGE', `cannot encode the message with msgpack: ${(err as Error).message}`, { cause: err });
    }
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new TransportError('SYNOD_TRANSPORT_TOO_BIG', `message too big for the ring: ${bytes.length} bytes encoded, more than the ${MAX_MESSAGE_BYTES} bytes a ring carries in one message; send it in parts`);
    }
    return bytes;
  }

  /** Writes one record (a fragment with more to follow if `more`) if there is room; does not publish it. */
  private tryWrite(bytes: Uint8Array, more: boolean): boolean {
    const len = bytes.length;
    const need = recordBytes(len);
    const used = (this.head - Atomics.load(this.out.header, TAIL)) | 0;
    if (this.capacity - used < need) return false;
    const off = this.head & this.mask;
    this.out.words[off >>> 2] = more ? -len : len;
    const at = (off + 4) & this.mask;
    const first = Math.min(len, this.capacity - at);
    this.out.data.set(first === len ? bytes : bytes.subarray(0, first), at);
    if (first < len) this.out.data.set(bytes.subarray(first), 0);
    this.head = (this.head + need) | 0;
    return true;
  }

  /** Makes written records visible, and wakes the peer if it sleeps. */
  private publish(): void {
    if (this.head === this.publishedHead) return;
    this.publishedHead = this.head;
    Atomics.store(this.out.header, HEAD, this.head);
    if (Atomics.load(this.control, SLEEPING[this.peer]) !== 0) ring(this.control, this.peer);
  }

  /** Free bytes to wait for when `bytes` does not fit: half the ring, or the record if it is bigger. */
  private wantFor(bytes: Uint8Array): number {
    return Math.max(recordBytes(bytes.length), this.capacity >>> 1);
  }

  private hasIncoming(): boolean {
    return Atomics.load(this.in.header, HEAD) !== this.tail;
  }

  private roomFor(bytes: Uint8Array): boolean {
    return this.capacity - ((this.head - Atomics.load(this.out.header, TAIL)) | 0) >= recordBytes(bytes.length);
  }

  /**
   * Takes one message off the incoming ring, freeing its room at once; a
   * fragmented one is put together first (NONE while its last fragment has
   * not arrived: what came so far is kept). The peer is untrusted: a record
   * that does not decode (garbage bytes, a value nested too deep for the
   * decoder) is dropped and counted in `undecodable`; a length word that
   * cannot be right (longer than a record may be, or than what was
   * published) means the ring can no longer be read in step, so everything
   * published so far is dropped and counted once.
   */
  private readOne(): T | typeof NONE {
    for (;;) {
      const head = Atomics.load(this.in.header, HEAD);
      if (head === this.tail) return NONE;
      const off = this.tail & this.mask;
      const word = this.in.words[off >>> 2] as number;
      const len = word < 0 ? -word : word;
      if (len > this.maxRecord - 4 || recordBytes(len) > ((head - this.tail) | 0) || this.partialLength + len > MAX_MESSAGE_BYTES) {
        this.discardAll(head);
        return NONE;
      }
      const at = (off + 4) & this.mask;
      const first = Math.min(len, this.capacity - at);
      if (word >= 0 && this.partial === null) {
        // Always decoded from a private copy: msgpackr's native string decoder
        // refuses SharedArrayBuffer memory, and a record may wrap around the end.
        if (this.scratch.length < len) this.scratch = new Uint8Array(nextPow2(len));
        this.scratch.set(this.in.data.subarray(at, at + first), 0);
        if (first < len) this.scratch.set(this.in.data.subarray(0, len - first), first);
        const msg = this.decode(this.scratch.subarray(0, len));
        this.consumed(len);
        if (msg === NONE) continue;
        return msg;
      }
      // A fragment: append it to what came before.
      const need = this.partialLength + len;
      if (this.partial === null || this.partial.length < need) {
        const grown = new Uint8Array(nextPow2(Math.max(need, 2 * this.maxRecord)));
        if (this.partial !== null) grown.set(this.partial.subarray(0, this.partialLength));
        this.partial = grown;
      }
      this.partial.set(this.in.data.subarray(at, at + first), this.partialLength);
      if (first < len) this.partial.set(this.in.data.subarray(0, len - first), this.partialLength + first);
      this.partialLength = need;
      this.consumed(len);
      if (word < 0) continue;
      const whole = this.partial.subarray(0, this.partialLength);
      this.partial = null;
      this.partialLength = 0;
      const msg = this.decode(whole);
      if (msg === NONE) continue;
      return msg;
    }
  }

  /** Decodes one message, or counts it as undecodable and returns NONE (msgpackr throws on garbage, and a RangeError on deep nesting). */
  private decode(bytes: Uint8Array): T | typeof NONE {
    try {
      return this.unpackr.unpack(bytes) as T;
    } catch {
      this.undecodableCount++;
      return NONE;
    }
  }

  /** Drops everything published up to `head` (and any half-received message), counting it as one undecodable message. */
  private discardAll(head: number): void {
    this.undecodableCount++;
    this.partial = null;
    this.partialLength = 0;
    const len = (head - this.tail) | 0;
    this.tail = head;
    Atomics.store(this.in.header, TAIL, this.tail);
    if (len > 0 && Atomics.load(this.in.header, WANT_SPACE) !== 0) {
      Atomics.store(this.in.header, WANT_SPACE, 0);
      ring(this.control, this.peer);
    }
  }

  /** Frees the record of `len` bytes just read, and rings a producer waiting for that room. */
  private consumed(len: number): void {
    this.tail = (this.tail + recordBytes(len)) | 0;
    Atomics.store(this.in.header, TAIL, this.tail);
    const want = Atomics.load(this.in.header, WANT_SPACE);
    if (want !== 0 && this.capacity - ((Atomics.load(this.in.header, HEAD) - this.tail) | 0) >= want) {
      Atomics.store(this.in.header, WANT_SPACE, 0);
      ring(this.control, this.peer);
    }
  }

  /** Delivers up to `budget` messages (the inbox first, then the ring) while a handler is attached. */
  private deliver(budget: number): number {
    let n = 0;
    while (n < budget && this.handler && !this.closedHere) {
      let msg: T | typeof NONE;
      if (this.inboxAt < this.inbox.length) {
        msg = this.inbox[this.inboxAt++] as T;
        if (this.inboxAt === this.inbox.length) {
          this.inbox = [];
          this.inboxAt = 0;
        }
      } else {
        msg = this.readOne();
        if (msg === NONE) break;
      }
      n++;
      this.handler(msg);
    }
    return n;
  }

  /** Moves queued messages into the ring while they fit. */
  private flushPending(): void {
    let wrote = false;
    while (this.pendingAt < this.pending.length) {
      const piece = this.pending[this.pendingAt] as Piece;
      if (!this.tryWrite(piece.bytes, piece.more)) break;
      this.pendingAt++;
      wrote = true;
    }
    if (this.pendingAt === this.pending.length && this.pending.length > 0) {
      this.pending = [];
      this.pendingAt = 0;
      // No longer waiting for room: spare the consumer a pointless doorbell.
      Atomics.store(this.out.header, WANT_SPACE, 0);
    }
    if (wrote) this.publish();
  }

  /** The ring is full (or messages already wait): queue (async) or wait for room (block, spin). */
  private sendSlow(bytes: Uint8Array, single: boolean, more: boolean): void {
    if (this.evented) {
      // msgpackr's buffer is reused by later encodings: keep a copy.
      this.pending.push({ bytes: bytes.slice(), more });
      this.flushPending();
      if (this.queued > 0) {
        // Asked before looking again, so the consumer's reads ring us once there is room.
        Atomics.store(this.out.header, WANT_SPACE, this.wantFor((this.pending[this.pendingAt] as Piece).bytes));
        this.flushPending();
      }
      if (this.queued > 0) this.kick();
      return;
    }
    // What is written must be visible, or the peer can never make room.
    this.publish();
    for (;;) {
      if (this.tryWrite(bytes, more)) {
        Atomics.store(this.out.header, WANT_SPACE, 0);
        return;
      }
      // Take in what the peer sends meanwhile: it may itself be waiting for room.
      let msg: T | typeof NONE;
      while ((msg = this.readOne()) !== NONE) this.inbox.push(msg);
      if (this.closed) {
        throw new TransportError('SYNOD_TRANSPORT_CLOSED', `the ring link closed while a ${single ? 'message' : 'batch'} waited for room`);
      }
      if (this.wait === 'spin') continue;
      const seen = Atomics.load(this.control, BELL[this.me]);
      Atomics.store(this.control, SLEEPING[this.me], 1);
      Atomics.store(this.out.header, WANT_SPACE, this.wantFor(bytes));
      if (!this.roomFor(bytes) && !this.hasIncoming() && Atomics.load(this.control, CLOSED) === 0) {
        Atomics.wait(this.control, BELL[this.me], seen);
      }
      Atomics.store(this.control, SLEEPING[this.me], 0);
    }
  }

  // ---- waiting ----

  /**
   * The `block` and `spin` loop: delivers until the handler detaches or the
   * link closes. If the handler throws and something catches it, the loop
   * starts again next turn.
   */
  private runLoop(): void {
    this.loopScheduled = false;
    if (this.looping) return;
    this.looping = true;
    let ok = false;
    try {
      while (this.handler && !this.closedHere) {
        if (this.deliver(Number.MAX_SAFE_INTEGER) > 0) continue;
        if (Atomics.load(this.control, CLOSED) !== 0) {
          if (!this.hasIncoming()) this.finishClose();
          continue;
        }
        if (this.wait === 'spin') continue;
        const seen = Atomics.load(this.control, BELL[this.me]);
        Atomics.store(this.control, SLEEPING[this.me], 1);
        if (!this.hasIncoming() && Atomics.load(this.control, CLOSED) === 0) Atomics.wait(this.control, BELL[this.me], seen);
        Atomics.store(this.control, SLEEPING[this.me], 0);
      }
      ok = true;
    } finally {
      this.looping = false;
      if (!ok) this.onMessage(this.handler);
    }
  }

  /** An async end has something to do while a handler is attached or messages wait for room. */
  private active(): boolean {
    return !this.closedHere && (this.handler !== null || this.queued > 0);
  }

  /** Starts the async pump unless it already runs or waits. */
  private kick(): void {
    if (!this.active()) return;
    // A pending waitAsync does not keep the event loop alive: this timer does, while there is work.
    this.keepAlive ??= setInterval(noop, 2 ** 30);
    if (this.armed || this.stepScheduled) return;
    this.stepScheduled = true;
    queueMicrotask(this.step);
  }

  /**
   * One turn of the async pump: deliver, flush, then arm a waitAsync on the
   * doorbell. A handler that throws crashes the thread as a port listener
   * would; if something catches that, the pump carries on next turn.
   */
  private readonly step = (): void => {
    this.stepScheduled = false;
    try {
      this.pump();
    } catch (err) {
      if (this.active() && !this.armed && !this.stepScheduled) {
        this.stepScheduled = true;
        setImmediate(this.step);
      }
      throw err;
    }
  };

  private pump(): void {
    let delivered = 0;
    for (;;) {
      if (!this.active()) return this.idle();
      if (this.idleSince !== null && this.hasIncoming()) this.endIdle(performance.now() * 1000);
      delivered += this.deliver(ASYNC_BUDGET - delivered);
      this.flushPending();
      if (Atomics.load(this.control, CLOSED) !== 0 && (!this.handler || !this.hasIncoming()) && this.inboxAt === this.inbox.length) {
        this.finishClose();
        return;
      }
      if (!this.active()) return this.idle();
      if (delivered >= ASYNC_BUDGET) {
        // Let timers and other ports run before the next batch (an adaptive end that keeps catching messages too).
        this.stepScheduled = true;
        setImmediate(this.step);
        return;
      }
      if (this.spinPolicy !== null && this.handler !== null && this.queued === 0 && this.spinForIncoming(this.spinPolicy)) continue;
      const seen = Atomics.load(this.control, BELL[this.me]);
      Atomics.store(this.control, SLEEPING[this.me], 1);
      if (this.queued > 0) Atomics.store(this.out.header, WANT_SPACE, this.wantFor((this.pending[this.pendingAt] as Piece).bytes));
      const work =
        (this.handler !== null && (this.hasIncoming() || this.inboxAt < this.inbox.length)) ||
        (this.queued > 0 && this.roomFor((this.pending[this.pendingAt] as Piece).bytes)) ||
        Atomics.load(this.control, CLOSED) !== 0;
      if (work) {
        Atomics.store(this.control, SLEEPING[this.me], 0);
        continue;
      }
      const res = atomicsWaitAsync(this.control, BELL[this.me], seen);
      if (!res.async) {
        Atomics.store(this.control, SLEEPING[this.me], 0);
        continue;
      }
      this.armed = true;
      void res.value.then(this.woken);
      return;
    }
  }

  /**
   * An `adaptive` end found its ring empty: starts an idle period (if none
   * is under way) and, once per idle period, watches the ring for as long as
   * the policy allows. True if a message (or the close) came meanwhile.
   */
  private spinForIncoming(policy: SpinPolicy): boolean {
    const start = performance.now() * 1000;
    if (this.idleSince === null) {
      this.idleSince = start;
      this.idleSpent = 0;
      this.idleSpun = false;
      this.idleCaught = false;
    }
    if (this.idleSpun) return false;
    this.idleSpun = true;
    const until = start + policy.budget(start);
    if (until <= start) return false;
    const head = this.in.header;
    const tail = this.tail;
    let now = start;
    let found = false;
    while (!found) {
      // A clock read costs more than a load: look a few times per reading.
      for (let i = 0; i < 16; i++) {
        if (Atomics.load(head, HEAD) !== tail || Atomics.load(this.control, CLOSED) !== 0) {
          found = true;
          break;
        }
      }
      now = performance.now() * 1000;
      if (now >= until) break;
    }
    this.idleSpent = now - start;
    this.idleCaught = found;
    return found;
  }

  /** The idle period ends: a message is there at `nowUs`. Tells the policy how long it took and what the spin cost. */
  private endIdle(nowUs: number): void {
    const since = this.idleSince as number;
    this.idleSince = null;
    this.spinPolicy?.idleEnded(this.idleSpent, this.idleCaught, nowUs - since, nowUs);
  }

  private readonly woken = (): void => {
    this.armed = false;
    Atomics.store(this.control, SLEEPING[this.me], 0);
    this.step();
  };

  /**
   * Nothing to do: let the thread exit if nothing else holds it. A waitAsync
   * may still be pending; it resolves on the next doorbell and finds nothing
   * to do, or `kick` takes the timer again first.
   */
  private idle(): void {
    if (this.keepAlive !== null) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }

  private finishClose(): void {
    if (this.closedHere) return;
    this.closedHere = true;
    this.pending = [];
    this.pendingAt = 0;
    if (this.keepAlive !== null) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new TransportError('SYNOD_TRANSPORT_CLOSED', 'this ring link is closed: open a new pair to talk to the peer again');
  }
}

/** Bytes a message of `len` encoded bytes takes in the ring: length word plus payload padded to 4. */
/** One record waiting to be written: a whole message, or a fragment with `more` to follow. */
interface Piece {
  readonly bytes: Uint8Array;
  readonly more: boolean;
}

/** The largest message, encoded, that a ring carries (as fragments): lengths are int32 words. */
const MAX_MESSAGE_BYTES = 2 ** 30;

function recordBytes(len: number): number {
  return 4 + ((len + 3) & ~3);
}

function nextPow2(n: number): number {
  let p = 64;
  while (p < n) p *= 2;
  return p;
}

function noop(): void {}
