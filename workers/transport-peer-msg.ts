/**
 * What the transport tests and their peer worker (`transport-peer.ts`)
 * share: the task, the report, and the numbered test messages. Kept apart
 * from the worker so a test can import it without starting a worker.
 */
import type { TransportEnd, WaitMode } from '../src/runtime/transports/index.js';

/** A test message: its number and a payload whose content follows from the number. */
export interface PeerMsg {
  readonly seq: number;
  readonly pad: string;
  readonly nested: { readonly list: readonly number[]; readonly ok: boolean; readonly none: null; readonly ratio: number };
}

/** The one task a peer gets. */
export type PeerTask =
  | { readonly role: 'echo'; readonly end: TransportEnd; readonly wait: WaitMode }
  | {
      readonly role: 'source';
      readonly end: TransportEnd;
      readonly wait: WaitMode;
      readonly count: number;
      /** Payload lengths, used in turn. */
      readonly sizes: readonly number[];
      /** Every `batchEvery`-th group of messages goes as one sendBatch of `batchSize` (0: never). */
      readonly batchEvery: number;
      readonly batchSize: number;
    };

/** What a source reports. */
export interface SourceReport {
  readonly sent: number;
  readonly received: number;
  /** The first few messages that were not the expected next one. */
  readonly mismatches: readonly string[];
  /** Messages beyond `count` that came back before the end marker (should be none). */
  readonly extra: number;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789éß漢字-';

/** The message number `seq` of a run with these sizes. */
export function peerMsg(seq: number, sizes: readonly number[]): PeerMsg {
  const size = sizes[seq % sizes.length] as number;
  let pad = '';
  for (let i = 0; i < size; i++) pad += ALPHABET[(seq + i) % ALPHABET.length];
  return { seq, pad, nested: { list: [seq, seq * 2, -seq], ok: seq % 2 === 0, none: null, ratio: seq / 8 } };
}
