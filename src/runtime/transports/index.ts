/**
 * Interchangeable message paths between threads, behind one interface
 * (see `types.ts`): `port` (direct MessagePort, the default), `hub` (through
 * the main thread) and `ring` (SharedArrayBuffer rings with Atomics; its
 * `adaptive` ends spin a bounded, adaptive while before sleeping: `spin.ts`).
 */
import { PortEndpoint, hubTransport, portTransport, type PortTransportOptions } from './port.js';
import { RingEndpoint, ringTransport, type RingTransportOptions } from './ring.js';
import type { Transport, TransportEnd, TransportEndpoint, TransportKind, WaitMode } from './types.js';

export * from './types.js';
export { DEFAULT_SPIN, SpinPolicy, spinOptions, type SpinOptions } from './spin.js';
export { DEFAULT_RING_CAPACITY_BYTES, RingEndpoint, ringTransport, type RingTransportOptions } from './ring.js';
export { PortEndpoint, hubTransport, portTransport, type PortTransportOptions } from './port.js';

/** Options of {@link openEndpoint}. */
export interface OpenOptions {
  /** Overrides the wait mode the transport put in the end. */
  readonly wait?: WaitMode;
}

/** Turns an end received from another thread (or kept from `createPair`) into a live endpoint. */
export function openEndpoint<T>(end: TransportEnd, options: OpenOptions = {}): TransportEndpoint<T> {
  const wait = options.wait ?? end.wait;
  return end.kind === 'ring' ? new RingEndpoint<T>(end, wait) : new PortEndpoint<T>(end, wait);
}

/** Options of {@link createTransport}, for whichever kind. */
export type TransportOptions = PortTransportOptions & RingTransportOptions;

/** A transport by name: what a `--transport` flag or `createCluster({ transport })` would use. */
export function createTransport(kind: TransportKind, options: TransportOptions = {}): Transport {
  switch (kind) {
    case 'port':
      return portTransport(options);
    case 'hub':
      return hubTransport(options);
    case 'ring':
      return ringTransport(options);
  }
}
