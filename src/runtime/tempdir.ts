/**
 * The temporary data directory a cluster makes when it is given no
 * `dataDir`: created under `tempDirParent` (default the OS's temporary
 * directory), removed by `close()`.
 *
 * A program that exits without closing its cluster (process.exit, an
 * uncaught exception) would leave the directory behind, one per run, with
 * every actor's LMDB files in it. So every directory still owned is also
 * removed, synchronously, when the process emits 'exit'. The workers may
 * still have the files open then; removing them is fine on POSIX systems,
 * and where it fails (Windows) the directory stays, as it did before.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SynodError } from './wire.js';

/** Directories made here and not yet removed. */
const owned = new Set<string>();
let hooked = false;

function removeLeftovers(): void {
  for (const dir of owned) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Exiting anyway: a directory that cannot go now is left, as without the hook.
    }
  }
  owned.clear();
}

/**
 * Makes a fresh `${prefix}XXXXXX` directory under `parent` (default
 * os.tmpdir()). A parent that is not an existing directory rejects the
 * options with SYNOD_INVALID_OPTIONS, naming `what` (the option's owner).
 */
export function makeTempDataDir(prefix: string, parent: string | undefined, what: string): string {
  const base = parent ?? tmpdir();
  if (parent !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(parent).isDirectory();
    } catch {
      // Reported below.
    }
    if (!isDir) throw new SynodError('SYNOD_INVALID_OPTIONS', `invalid ${what}: tempDirParent ${JSON.stringify(parent)} is not an existing directory; create it first`);
  }
  const dir = mkdtempSync(join(base, prefix));
  owned.add(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeLeftovers);
  }
  return dir;
}

/** Removes a directory made by {@link makeTempDataDir} (close() calls it). */
export async function removeTempDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  owned.delete(dir);
}

/**
 * Where a cluster keeps its actors' data, from its options: none in memory,
 * the `dataDir` given (kept after close), or a temporary one under
 * `tempDirParent` that the cluster owns and removes. `what` names the
 * options in errors.
 */
export function clusterDataDir(o: { readonly storage: 'lmdb' | 'memory'; readonly dataDir?: string | undefined; readonly tempDirParent?: string | undefined }, prefix: string, what: string): { readonly dataDir: string | null; readonly owned: boolean } {
  if (o.dataDir !== undefined && o.tempDirParent !== undefined) throw new SynodError('SYNOD_INVALID_OPTIONS', `invalid ${what}: tempDirParent places a temporary data directory, and dataDir names the one to use; give one of them`);
  if (o.storage === 'memory') return { dataDir: null, owned: false };
  if (o.dataDir !== undefined) return { dataDir: o.dataDir, owned: false };
  return { dataDir: makeTempDataDir(prefix, o.tempDirParent, what), owned: true };
}
