/**
 * The MessagePort transports.
 *
 * - `port`: a direct `MessageChannel` between the two actors; each message
 *   is structured-cloned once and never touches the main thread. synod's
 *   default data path (DESIGN §6).
 * - `hub`: each end talks to the main thread, which relays every message to
 *   the other end: two clones and a turn of the main thread's event loop per
 *   message, and every link in the cluster shares that one thread. This is
 *   what an actor design that routes everything through the parent does; it
 *   is here to be measured, not recommended.
 *
 * A batch travels as one array in one post, so a message must never itself
 * be an array. Every pair also shares a one-word closed flag, which `spin`
 * ends poll because their event loop (where a port's `close` event would
 * arrive) does not run while they spin.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { TransportError, type PortEnd, type Transport, type TransportEndpoint, type TransportPair, type WaitMode } from './types.js';

/** Options of the MessagePort transports. */
export interface PortTransportOptions {
  /** How ends wait unless `openEndpoint` says otherwise: `async` (default) or `spin`. */
  readonly wait?: WaitMode;
}

/** The direct-MessagePort transport (synod's default data path). */
export function portTransport(options: PortTransportOptions = {}): Transport {
  const wait = checkPortWait(options.wait ?? 'async');
  return {
    kind: 'port',
    createPair(): TransportPair {
      const { port1, port2 } = new MessageChannel();
      const closedFlag = new SharedArrayBuffer(4);
      return {
        ends: [
          { kind: 'port', port: port1, closedFlag, wait },
          { kind: 'port', port: port2, closedFlag, wait },
        ],
        close: () => setFlag(closedFlag),
      };
    },
  };
}

/**
 * The hub transport: every message goes end -> main thread -> other end.
 * `createPair` must run in the thread that relays (the main thread); the
 * relay keeps that thread alive until the link closes.
 */
export function hubTransport(options: PortTransportOptions = {}): Transport {
  const wait = checkPortWait(options.wait ?? 'async');
  return {
    kind: 'hub',
    createPair(): TransportPair {
      const toA = new MessageChannel();
      const toB = new MessageChannel();
      const closedFlag = new SharedArrayBuffer(4);
      const relayA = toA.port2;
      const relayB = toB.port2;
      // The relay forwards what it got, batches included, without looking inside.
      relayA.on('message', (data: unknown) => relayB.postMessage(data));
      relayB.on('message', (data: unknown) => relayA.postMessage(data));
      let open = true;
      const close = () => {
        if (!open) return;
        open = false;
        setFlag(closedFlag);
        relayA.close();
        relayB.close();
      };
      // Either end closing its port closes the relay, and so the other end's port.
      relayA.once('close', close);
      relayB.once('close', close);
      return {
        ends: [
          { kind: 'hub', port: toA.port1, closedFlag, wait },
          { kind: 'hub', port: toB.port1, closedFlag, wait },
        ],
        close,
      };
    },
  };
}

function checkPortWait(wait: WaitMode): WaitMode {
  if (wait !== 'async' && wait !== 'spin') {
    throw new TransportError('SYNOD_TRANSPORT_UNSUPPORTED', `a MessagePort end cannot wait in mode '${wait}': use 'async' or 'spin' ('${wait === 'adaptive' ? 'adaptive' : 'block'}' needs the shared-memory ring)`);
  }
  return wait;
}

function setFlag(flag: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(flag), 0, 1);
}

/** A live end of a `port` or `hub` link. Use `openEndpoint`. */
export class PortEndpoint<T> implements TransportEndpoint<T> {
  readonly kind: 'port' | 'hub';
  readonly wait: WaitMode;
  readonly queued = 0;
  private undecodableCount = 0;
  private readonly port: MessagePort;
  private readonly flag: Int32Array;
  private handler: ((msg: T) => void) | null = null;
  /** Messages received while no handler was attached (the rest of a batch cut short by a detach). */
  private inbox: T[] = [];
  private listening = false;
  private loopScheduled = false;
  private looping = false;
  private closedHere = false;

  constructor(end: PortEnd, wait: WaitMode = end.wait) {
    this.kind = end.kind;
    this.wait = checkPortWait(wait);
    this.port = end.port;
    this.flag = new Int32Array(end.closedFlag);
    // A 'close' listener does not keep the thread alive; 'message' listeners do.
    this.port.once('close', () => this.finishClose());
  }

  get undecodable(): number {
    return this.undecodableCount;
  }

  get closed(): boolean {
    return this.closedHere || Atomics.load(this.flag, 0) !== 0;
  }

  send(msg: T): void {
    this.checkOpen();
    if (Array.isArray(msg)) throw arrayError();
    this.port.postMessage(msg);
  }

  sendBatch(msgs: readonly T[]): void {
    this.checkOpen();
    for (const m of msgs) if (Array.isArray(m)) throw arrayError();
    if (msgs.length === 0) return;
    this.port.postMessage(msgs.length === 1 ? msgs[0] : msgs);
  }

  onMessage(handler: ((msg: T) => void) | null): void {
    this.handler = handler;
    if (this.closedHere) return;
    if (this.wait === 'spin') {
      if (handler && !this.looping && !this.loopScheduled) {
        this.loopScheduled = true;
        setImmediate(() => this.spinLoop());
      }
      return;
    }
    if (handler && !this.listening) {
      this.listening = true;
      this.port.on('message', this.onData);
      // A message the structured-clone deserializer refused: dropped and counted, never thrown.
      this.port.on('messageerror', this.onUndecodable);
      if (this.inbox.length > 0) queueMicrotask(() => this.deliverInbox());
    } else if (!handler && this.listening) {
      // Messages that arrive meanwhile stay queued in the port.
      this.listening = false;
      this.port.off('message', this.onData);
      this.port.off('messageerror', this.onUndecodable);
    }
  }

  close(): void {
    if (this.closedHere) return;
    setFlag(this.flag.buffer as SharedArrayBuffer);
    this.port.close();
    this.finishClose();
  }

  private readonly onUndecodable = (): void => {
    this.undecodableCount++;
  };

  private readonly onData = (data: unknown): void => {
    if (this.inbox.length > 0) this.deliverInbox();
    this.deliver(data);
  };

  private deliver(data: unknown): void {
    if (!Array.isArray(data)) {
      if (this.handler) this.handler(data as T);
      else this.inbox.push(data as T);
      return;
    }
    const batch = data as T[];
    for (let i = 0; i < batch.length; i++) {
      if (!this.handler) {
        for (let j = i; j < batch.length; j++) this.inbox.push(batch[j] as T);
        return;
      }
      try {
        this.handler(batch[i] as T);
      } catch (err) {
        // The rest of the batch is not lost with it: it is delivered next turn.
        for (let j = i + 1; j < batch.length; j++) this.inbox.push(batch[j] as T);
        if (this.inbox.length > 0) setImmediate(() => this.deliverInbox());
        throw err;
      }
    }
  }

  private deliverInbox(): void {
    while (this.inbox.length > 0 && this.handler) {
      const pending = this.inbox;
      this.inbox = [];
      this.deliver(pending);
    }
  }

  /** The `spin` loop: polls the port until the handler detaches or the link closes (or, if something catches a throw from the handler, starts again next turn). */
  private spinLoop(): void {
    this.loopScheduled = false;
    if (this.looping) return;
    this.looping = true;
    let ok = false;
    try {
      this.deliverInbox();
      while (this.handler && !this.closedHere) {
        const got = receiveMessageOnPort(this.port);
        if (got) this.deliver(got.message);
        else if (Atomics.load(this.flag, 0) !== 0) {
          // Deliver what is still queued, then stop.
          for (let rest = receiveMessageOnPort(this.port); rest; rest = this.handler === null ? undefined : receiveMessageOnPort(this.port)) {
            this.deliver(rest.message);
          }
          this.port.close();
          this.finishClose();
        }
      }
      ok = true;
    } finally {
      this.looping = false;
      if (!ok) this.onMessage(this.handler);
    }
  }

  private finishClose(): void {
    if (this.closedHere) return;
    this.closedHere = true;
    setFlag(this.flag.buffer as SharedArrayBuffer);
    if (this.listening) {
      this.listening = false;
      this.port.off('message', this.onData);
      this.port.off('messageerror', this.onUndecodable);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new TransportError('SYNOD_TRANSPORT_CLOSED', `this ${this.kind} link is closed: open a new pair to talk to the peer again`);
  }
}

function arrayError(): TransportError {
  return new TransportError('SYNOD_TRANSPORT_BAD_MESSAGE', 'a message must not be an array (arrays carry batches): wrap it in an object, or use sendBatch');
}
