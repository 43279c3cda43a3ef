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
import { existsSync } from 'node:fs';
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
