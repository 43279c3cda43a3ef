/**
 * Opening an actor's LMDB environment, shared by the single-decree store
 * (./lmdb.ts) and the record log (./log.ts), with the checks that keep a
 * damaged disk from taking the process down or silently resetting an actor:
 *
 *   1. the directory is created one component at a time (./files.ts);
 *   2. if the data directory's registry (./registry.ts) says the actor has
 *      existed, its data.mdb must exist and not be empty: otherwise the
 *      actor refuses to start (SYNOD_STORE_LOST) instead of coming back
 *      with no promises;
 *   3. data.mdb is checked before LMDB maps it (./lmdb-check.ts);
 *   4. a new store is created only with free space above the reserve;
 *   5. once LMDB has created the file, it and its directory are fsynced and
 *      the actor is registered, before it can acknowledge anything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Key, type RootDatabase } from 'lmdb';
import { ensureDir, fsReason, fsyncDir, fsyncFile, SpaceGuard, statfsFreeBytes } from './files.js';
import { checkLmdbFile } from './lmdb-check.js';
import { isRegistered, register, registryEntry } from './registry.js';
import { DEFAULT_MIN_FREE_BYTES, StorageError, type EnvironmentOptions } from './types.js';

export { DEFAULT_MIN_FREE_BYTES, type EnvironmentOptions } from './types.js';

/**
 * The options every synod LMDB environment is opened with. The sync options
 * are lmdb-js's defaults on purpose: `overlappingSync` (on, except on
 * Windows) with no `noSync`, `noMetaSync` or `useWritemap`, so a commit's
 * `flushed` promise resolves only after the data is fsynced and then the meta
 * page is written through LMDB's O_DSYNC descriptor, which is what makes a
 * resolved `flushed` survive a machine crash (docs/storage.md, "What one
 * durable commit costs", has the analysis and the measurements).
 */
export const LMDB_OPEN_OPTIONS = Object.freeze({
  // A directory name with a dot in it would otherwise be taken for a file name.
  noSubdir: false,
  // Records are already encoded; store their bytes as they are so that the checksum covers exactly what is on disk.
  encoding: 'binary',
  // Every put promise gets its own `flushed` promise, resolved once that transaction is synced.
  separateFlushed: true,
} as const);

/** An opened, checked environment. */
export interface CheckedEnvironment<K extends Key> {
  readonly db: RootDatabase<Buffer, K>;
  /** The environment's directory. */
  readonly path: string;
  /** Its data file, named in errors. */
  readonly file: string;
  /** Guards every write against a full disk. */
  readonly space: SpaceGuard;
}

/** Opens the LMDB environment in `dir` after the checks in the module comment; `who` names the owner in messages. */
export function openCheckedEnvironment<K extends Key>(dir: string, who: string, opts: EnvironmentOptions): CheckedEnvironment<K> {
  const path = ensureDir(dir, who);
  const file = join(path, 'data.mdb');
  const registered = opts.registryDir !== undefined && opts.actorId !== undefined && isRegistered(opts.registryDir, opts.actorId);
  const state = checkLmdbFile(file, who);
  if (registered && state !== 'ok') {
    const entry = registryEntry(opts.registryDir as string, opts.actorId as string);
    throw new StorageError(
      'SYNOD_STORE_LOST',
      file,
      `${file} (${who}) is ${state === 'missing' ? 'missing' : 'empty (0 bytes)'}, but ${entry} records that this actor has existed: its promises and accepted values are gone, and starting it empty could change a value already decided. Restore data.mdb from a backup. Deleting ${entry} would start the actor empty, which is safe only if a majority of the other acceptors holds everything it accepted (see "Storage faults" in docs/storage.md)`,
    );
  }
  const space = new SpaceGuard(path, file, opts.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES, opts.freeBytes ?? statfsFreeBytes);
  // Creating an environment writes its meta pages: not on a full disk.
  if (state !== 'ok') space.take(64 * 1024);
  let db: RootDatabase<Buffer, K>;
  try {
    db = open<Buffer, K>({ path, ...LMDB_OPEN_OPTIONS });
  } catch (err) {
    throw new StorageError('SYNOD_STORAGE_IO', file, `cannot open the LMDB environment ${file} (${who}): ${fsReason(err)}; check that the directory is writable and holds an LMDB environment or nothing`, { cause: err });
  }
  if (opts.registryDir !== undefined && opts.actorId !== undefined && !registered) {
    try {
      // The registry must never name an actor whose file a machine crash could still take back.
      fsyncFile(file);
      fsyncDir(path);
    } catch (err) {
      void db.close();
      throw new StorageError('SYNOD_STORAGE_IO', file, `cannot sync ${file} (${who}): ${fsReason(err)}`, { cause: err });
    }
    try {
      register(opts.registryDir, opts.actorId, path);
    } catch (err) {
      void db.close();
      throw err;
    }
  }
  return { db, path, file, space };
}

/**
 * Turns an error of a live read or write into a StorageError naming the
 * file (an lmdb-js error names none), keeping a StorageError as it is.
 */
export function liveStorageError(err: unknown, file: string, doing: string, consequence: string): StorageError {
  if (err instanceof StorageError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const full = /ENOSPC|MDB_MAP_FULL|No space left/i.test(reason);
  return new StorageError(full ? 'SYNOD_DISK_FULL' : 'SYNOD_STORAGE_IO', file, `${doing} ${file} failed: ${reason}; ${consequence}`, { cause: err });
}

/**
 * Opens, reads, writes and closes a throwaway LMDB environment the way an
 * actor's store is opened (the directory made, its file checked, the
 * registry asked, free space read), so that a freshly booted worker (a
 * supervisor's spare) has lmdb-js's per-thread setup done and the code of
 * an open, its checks included, compiled before it becomes an actor: a
 * restart then pays only for the work, not for compiling it (lmdb's
 * set-up took a restart's store open from ~2.1 ms to ~1.2 ms here, and the
 * checks before lmdb's open, run first in a restarted worker, ~1.0 ms of
 * which ~0.55 ms is left once mostly compiled). Best effort: any failure is ignored.
 *
 * Spares are often halted and terminated moments after they boot (a cluster
 * closing), which would leave the throwaway directory behind. So on Linux
 * the directory is created, opened, checked and removed in one
 * synchronous stretch (a halt can only land between callbacks), and the
 * environment is used unlinked, which Linux allows; elsewhere it is removed
 * after closing.
 */
export async function warmUpLmdb(): Promise<void> {
  const unlinkEarly = process.platform === 'linux';
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), 'synod-warm-'));
    // No registry and no actor: nothing is registered, and the registry is only asked below.
    const { db, file } = openCheckedEnvironment<string>(join(dir, 'store'), 'the lmdb warm-up', { minFreeBytes: 0 });
    isRegistered(dir, 'warm-up');
    db.getBinary('state');
    // Its meta pages only: a record would give it a leaf page to walk, but a synchronous write is what a worker must never do (see ./lmdb.ts), and a descriptor held across an await would leak from a spare terminated meanwhile.
    checkLmdbFile(file, 'the lmdb warm-up');
    if (unlinkEarly) {
      rmSync(dir, { recursive: true, force: true });
      dir = null;
    }
    await db.put('warm', Buffer.from('up'));
    await db.close();
  } catch {
    // Only a warm-up.
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}
