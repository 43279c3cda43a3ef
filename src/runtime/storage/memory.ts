/**
 * An in-memory ActorStore: for tests, and for running without durability.
 * Nothing survives the process, so an actor using it may break its promises
 * after a restart; only use it where that is the point.
 */
import type { DurableRecord } from '../../core/effects.js';
import { decodeRecord, encodeRecord } from './record.js';
import type { ActorStore } from './types.js';

/** What error messages call the "file" of an in-memory store. */
const MEMORY_FILE = '(in-memory store)';
const KEY = 'state';

/**
 * Opens an empty in-memory store. `persist` resolves on a microtask, so a
 * caller still cannot observe a write as durable within the turn it was
 * issued in, as with a real store. Records are kept encoded, which validates
 * them on the way in and means a caller mutating an object after persisting
 * it cannot change what was "stored".
 */
export function openMemoryStore(): ActorStore {
  let stored: string | null = null;
  let closed = false;
  const closedError = () => new Error('this in-memory store is closed; open a new one with openMemoryStore()');
  return {
    path: null,
    async load(): Promise<DurableRecord | null> {
      if (closed) throw closedError();
      return stored === null ? null : decodeRecord(stored, MEMORY_FILE, KEY);
    },
    async persist(record: DurableRecord): Promise<void> {
      if (closed) throw closedError();
      stored = encodeRecord(record);
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}
