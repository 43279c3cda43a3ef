/**
 * The registry of actors that have existed: one small file per actor,
 * `<data directory>/synod-registry/<actor id>.json`, written (durably)
 * the first time the actor's store is created and never removed by synod.
 *
 * Why: an LMDB file that was deleted or truncated to 0 bytes looks to LMDB
 * like no file at all, and it creates a fresh, empty one. An acceptor that
 * comes back empty has forgotten its promises and accepted values; two of
 * three doing so changed a value that had been decided. The registry lives
 * beside the actors' directories, not in them, so losing an actor's files
 * does not lose the record that it existed, and the actor refuses to start
 * (see ./environment.ts) until someone restores the file or deliberately
 * replaces the actor by deleting its entry.
 *
 * One file per actor (rather than one file for all) because the actors
 * start in parallel worker threads: each writes only its own entry, so no
 * two writers ever race on a file. Each entry is written as a temporary
 * file, fsynced, renamed into place, and the directory fsynced.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureDir, fsReason, fsyncDir, writeFileDurably } from './files.js';
import { StorageError } from './types.js';

/** The registry's directory name inside a cluster's data directory. */
export const REGISTRY_DIR = 'synod-registry';

/** The registry entry of actor `actorId` in `registryDir`. */
export function registryEntry(registryDir: string, actorId: string): string {
  return join(registryDir, `${actorId}.json`);
}

/** True when `registryDir` records that actor `actorId` has existed. */
export function isRegistered(registryDir: string, actorId: string): boolean {
  return existsSync(registryEntry(registryDir, actorId));
}

/**
 * Records, durably, that actor `actorId` exists and keeps its store in
 * `storeDir`. Throws a StorageError (SYNOD_STORAGE_IO) naming the file if it
 * cannot be written.
 */
export function register(registryDir: string, actorId: string, storeDir: string): void {
  ensureDir(registryDir, 'the registry of actors');
  // The registry's own entry in the data directory must be as durable as the entries in it.
  try {
    fsyncDir(dirname(registryDir));
  } catch (err) {
    throw new StorageError('SYNOD_STORAGE_IO', registryDir, `cannot sync ${dirname(registryDir)}: ${fsReason(err)}`, { cause: err });
  }
  const entry = { actor: actorId, store: storeDir, registered: new Date().toISOString(), note: 'synod refuses to start this actor while its store is missing or empty; delete this file only to replace the actor on purpose' };
  writeFileDurably(registryEntry(registryDir, actorId), `${JSON.stringify(entry, null, 2)}\n`);
}

/**
 * Retires actor `actorId`, whose store is `storeDir` in the data directory
 * `dataDir`, after a reconfiguration removed it: its store is renamed to
 * `<storeDir>.retired-<epoch>` and its registry entry to
 * `<actorId>.retired-<epoch>.json`, both kept (never deleted), and the
 * renames are made durable. Its id may then come back as a new, empty
 * actor. A store that was never made (an actor that never started) has
 * nothing to rename. Returns where the store went, or null. Throws a
 * StorageError (SYNOD_STORAGE_IO) naming the file when a rename fails.
 */
export function retireActor(dataDir: string, actorId: string, storeDir: string, epoch: number): string | null {
  const registryDir = join(dataDir, REGISTRY_DIR);
  const moves: Array<[string, string]> = [];
  const retired = `${storeDir}.retired-${epoch}`;
  if (existsSync(storeDir)) moves.push([storeDir, retired]);
  const entry = registryEntry(registryDir, actorId);
  if (existsSync(entry)) moves.push([entry, registryEntry(registryDir, `${actorId}.retired-${epoch}`)]);
  for (const [from, to] of moves) {
    if (existsSync(to)) throw new StorageError('SYNOD_STORAGE_IO', from, `cannot retire ${from}: ${to} exists already`);
    try {
      renameSync(from, to);
      fsyncDir(dirname(to));
    } catch (err) {
      throw new StorageError('SYNOD_STORAGE_IO', from, `cannot rename ${from} to ${to}: ${fsReason(err)}`, { cause: err });
    }
  }
  return existsSync(retired) ? retired : null;
}

/** The file, in a cluster's data directory, that counts the key-value clients that have used it. */
export const CLIENTS_FILE = 'synod-clients.json';

/**
 * The number of the next key-value client of the data directory `dataDir`
 * (0 for the first), counted durably: the count is written (temporary file,
 * fsync, rename, directory fsync) before it is returned, so no later client
 * of the directory gets it again, whatever crashes. Client ids start with
 * it, so a client's sessions cannot be mistaken for an earlier client's,
 * which the learners may still remember (see docs/kv-store.md). One client
 * at a time per data directory, as for the actors. Throws a StorageError
 * (SYNOD_STORAGE_IO) naming the file if it cannot be read or written.
 */
export function nextClientNumber(dataDir: string): number {
  ensureDir(dataDir, 'the data directory');
  const file = join(dataDir, CLIENTS_FILE);
  let next = 0;
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new StorageError('SYNOD_STORAGE_IO', file, `cannot read ${file}: ${fsReason(err)}`, { cause: err });
    }
    const n = typeof parsed === 'object' && parsed !== null ? (parsed as { next?: unknown }).next : undefined;
    if (!Number.isSafeInteger(n) || (n as number) < 0) throw new StorageError('SYNOD_STORAGE_IO', file, `${file} does not hold a client count ({"next": n}); restore it, or delete it to count afresh (client ids then rely on their random part)`);
    next = n as number;
  }
  writeFileDurably(file, `${JSON.stringify({ next: next + 1, note: 'how many key-value clients have used this data directory; their client ids start with their number' }, null, 2)}\n`);
  return next;
}
