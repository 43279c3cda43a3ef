/**
 * The storage interface the runtime's actors persist through. One store per
 * actor. The rule every implementation keeps: `persist` resolves only once
 * the record is durable, so an actor can release the replies that ride on it.
 */
import type { DurableRecord } from '../../core/effects.js';

/** Durable storage of one actor's record. */
export interface ActorStore {
  /** Where the data lives (a directory), for error messages and reports; `null` for in-memory stores. */
  readonly path: string | null;
  /**
   * The last durable record, or null when there is none. A record that fails
   * its checksum, has an unknown schema version, or is of another role throws
   * a {@link CorruptRecordError}; it is never silently reset.
   */
  load(): Promise<DurableRecord | null>;
  /**
   * Stores `record` (the actor's whole durable state; the latest write wins)
   * and resolves once it is durable on disk. Writes issued in the same event
   * turn share one transaction and one fsync.
   */
  persist(record: DurableRecord): Promise<void>;
  /** Closes the store; pending writes are completed first. */
  close(): Promise<void>;
}

/** A stored record that cannot be trusted: bad checksum, unknown schema version, or unreadable. */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
  readonly code = 'SYNOD_CORRUPT_RECORD';
  constructor(
    /** The file (LMDB environment path) holding the record. */
    readonly file: string,
    /** The key of the record. */
    readonly key: string,
    detail: string,
  ) {
    super(`corrupt record ${JSON.stringify(key)} in ${file}: ${detail}. synod will not reset this actor's state; restore the file or remove the data directory to start afresh`);
  }
}
