/**
 * The storage interface the runtime's actors persist through. One store per
 * actor. The rule every implementation keeps: `persist` resolves only once
 * the record is durable, so an actor can release the replies that ride on it.
 */
import type { DurableRecord } from '../../core/effects.js';
import { SynodError } from '../../errors.js';

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

/** The codes of a {@link StorageError}: what went wrong with an actor's files. */
export type StorageErrorCode = 'SYNOD_STORE_LOST' | 'SYNOD_STORE_CORRUPT' | 'SYNOD_DISK_FULL' | 'SYNOD_STORAGE_IO';

/**
 * A fault of an actor's files: its store vanished although the actor has
 * existed, its LMDB file failed the checks made before mapping it, the disk
 * is full, or an I/O call failed. `file` names the file; the message says
 * what to do. The supervisor does not restart an actor that died of one
 * (restarting cannot mend a file); `cluster.restart(id)` tries again once
 * the file is mended.
 */
export class StorageError extends SynodError {
  constructor(
    code: StorageErrorCode,
    /** The file (or directory) at fault. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The storage error codes, for telling them apart from other errors' (they also cross threads as plain data). */
export const STORAGE_ERROR_CODES: readonly string[] = Object.freeze(['SYNOD_STORE_LOST', 'SYNOD_STORE_CORRUPT', 'SYNOD_DISK_FULL', 'SYNOD_STORAGE_IO'] satisfies StorageErrorCode[]);

/** How the free space of a file system is read (default: fs.statfsSync's free blocks times block size), in bytes. */
export type FreeBytes = (path: string) => number;

/** The free space synod keeps on a store's disk by default: 64 MiB. */
export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;

/** The file-safety options both LMDB stores take. */
export interface EnvironmentOptions {
  /** The actor the store belongs to; named in error messages and the registry entry's name. */
  readonly actorId?: string;
  /**
   * The directory of the data directory's registry of actors that have
   * existed (see ./registry.ts). Without it (or without `actorId`) a lost
   * store cannot be told from a new one.
   */
  readonly registryDir?: string;
  /**
   * Writes are refused (SYNOD_DISK_FULL) while the disk has less than this
   * many bytes free; default {@link DEFAULT_MIN_FREE_BYTES}.
   */
  readonly minFreeBytes?: number;
  /** How free space is measured; default statfs. For tests that simulate a full disk. */
  readonly freeBytes?: FreeBytes;
}

