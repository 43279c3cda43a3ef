/**
 * The LMDB ActorStore: one LMDB environment (a directory holding data.mdb
 * and lock.mdb) per actor, holding one key, "state", whose value is the
 * actor's whole durable record encoded by ./record.ts.
 *
 * Durability mechanism. lmdb-js commits asynchronous writes on its own write
 * thread. With `overlappingSync` (its default on Linux and macOS) a commit is
 * made visible first and fsynced afterwards, outside the writer lock, so a
 * resolved `put` promise means "committed and visible", NOT "on disk". We
 * keep that default and open with `separateFlushed`, which gives every put
 * promise a `flushed` promise that resolves once that very transaction is
 * synced; a durable `persist` awaits the commit (which is what rejects if the
 * write fails) and then its `flushed`. We prefer this to
 * `overlappingSync: false` (which syncs inside the commit, so the put promise
 * alone would do) because:
 *   - the non-durable mode needs exactly the "committed, not yet flushed"
 *     signal, and one set of environment flags then serves both modes: the
 *     modes differ only in what persist waits for, not in how data is written;
 *   - a per-write `flushed` is exact, whereas `db.flushed` follows whichever
 *     transaction is latest and so can over-wait under load;
 *   - measured on raw lmdb here (2 shared vCPUs, medians of 6 runs) the two
 *     cost about the same: ~380 us per lone durable write either way;
 *     206 k vs 233 k puts/s at 100 writes per turn and 790 k vs 844 k at 1000
 *     (this way vs overlappingSync: false), a gap smaller than the spread
 *     between runs.
 * The sync options themselves stay lmdb-js's defaults (LMDB_OPEN_OPTIONS in
 * ./environment.ts): a commit then flushes twice, the data and then the meta
 * page, and that is the least any option that keeps an acknowledged write
 * through a machine crash costs; `noMetaSync`, `useWritemap` and the others
 * are weighed, traced and measured in docs/storage.md ("What one durable
 * commit costs").
 * If overlappingSync is off anyway (Windows default), `flushed` is the commit
 * promise itself and the rule still holds. If the sync itself fails after the
 * commit, lmdb-js never resolves `flushed`: persist then stays pending, which
 * keeps the replies back (safe) but stalls the actor until it is restarted.
 *
 * Batching. lmdb-js's `eventTurnBatching` (on by default; we never turn it
 * off) puts every asynchronous write issued in one event turn into one
 * transaction, hence one fsync. persist calls `put` synchronously, before any
 * await, so it never pushes a write into a later turn.
 *
 * Only asynchronous writes are used: terminating a worker while it was inside
 * a synchronous lmdb write (putSync, transactionSync) hung terminate() or
 * aborted the process on this machine (DESIGN.md section 9). Reads are
 * synchronous, which is how lmdb-js is meant to be read and is safe.
 */
import { join } from 'node:path';
import { open } from 'lmdb';
import { LMDB_OPEN_OPTIONS, liveStorageError, openCheckedEnvironment } from './environment.js';
import type { EnvironmentOptions } from './types.js';
import type { DurableRecord } from '../../core/effects.js';
import type { Role } from '../../core/ids.js';
import { decodeRecord, encodeRecord } from './record.js';
import type { ActorStore } from './types.js';

/** The key under which an actor's record is stored. */
export const RECORD_KEY = 'state';

/** Options of {@link openLmdbStore}. */
export interface LmdbStoreOptions extends EnvironmentOptions {
  /**
   * The role of the actor. When given, `load` refuses a stored record of
   * another role (with a CorruptRecordError) and `persist` refuses to write
   * one, since either means the actor was pointed at another actor's data.
   */
  readonly role?: Role;
  /**
   * When true (the default) `persist` resolves only once the record is
   * synced to disk. When false it resolves as soon as the write is committed
   * and visible to readers; the sync still happens, but nobody waits for it,
   * so a machine crash can lose writes whose replies were already sent. Only
   * for experiments; it breaks Paxos's guarantees. It does not remove the cost
   * of fsync for an actor that waits for each write before the next: lmdb-js's
   * write thread finishes syncing one transaction before it commits the next,
   * so measured lone-write latency is the same (~430 us) in both modes. It
   * helps only when writes overlap.
   */
  readonly durable?: boolean;
}

/** A put promise as lmdb-js returns it with `separateFlushed` (the `flushed` field is not in its typings). */
type PutPromise = Promise<boolean> & { readonly flushed?: PromiseLike<unknown> };

/**
 * Opens (creating `dir` if missing) the LMDB store of one actor. The
 * returned store's `persist` resolves once the record is durable (see the
 * module comment for how), unless `opts.durable` is false.
 */
export async function openLmdbStore(dir: string, opts: LmdbStoreOptions = {}): Promise<ActorStore> {
  const durable = opts.durable ?? true;
  const who = opts.actorId === undefined ? 'the actor store' : `the store of actor ${opts.actorId}`;
  const { db, path, file, space } = openCheckedEnvironment<string>(dir, who, opts);

  let closing: Promise<void> | null = null;
  const closedError = (op: string) => new Error(`cannot ${op}: ${who} in ${path} is closed; open it again with openLmdbStore`);

  return {
    path,

    async load(): Promise<DurableRecord | null> {
      if (closing !== null) throw closedError('load');
      let raw: Buffer | undefined;
      try {
        raw = db.getBinary(RECORD_KEY);
      } catch (err) {
        throw liveStorageError(err, file, 'reading', 'the actor cannot recover its state');
      }
      return raw === undefined ? null : decodeRecord(raw, file, RECORD_KEY, opts.role);
    },

    // Not `async`: the put must be issued synchronously in the caller's
    // turn, and argument errors are still reported as rejections.
    persist(record: DurableRecord): Promise<void> {
      if (closing !== null) return Promise.reject(closedError('persist'));
      if (opts.role !== undefined && record.role !== opts.role) {
        return Promise.reject(new Error(`refusing to persist a ${record.role} record into ${who} in ${path}, which holds ${opts.role} state; this is a bug in the caller`));
      }
      let bytes: Buffer;
      try {
        bytes = Buffer.from(encodeRecord(record), 'utf8');
      } catch (err) {
        return Promise.reject(err as Error);
      }
      const failed = (err: unknown): never => {
        throw liveStorageError(err, file, `persisting (${who}) to`, 'the write is not durable, so the replies riding on it must not be sent');
      };
      let put: PutPromise;
      try {
        space.take(bytes.length);
        put = db.put(RECORD_KEY, bytes) as PutPromise;
      } catch (err) {
        return Promise.reject(err).catch(failed);
      }
      // The commit promise comes first because it is the one that rejects
      // when the transaction fails; `flushed` only ever resolves.
      const done = durable ? put.then(() => put.flushed ?? db.flushed) : put;
      return done.then(() => undefined, failed);
    },

    close(): Promise<void> {
      // lmdb-js's close waits for pending commits and their flushes first.
      closing ??= db.close();
      return closing;
    },
  };
}
