/**
 * File-system helpers the stores share: creating a directory without
 * Node's `mkdir({ recursive: true })`, writing a small file durably, and
 * checking free space before a write.
 *
 * Why not `mkdir -p`: on Linux, Node's recursive mkdir of a path under
 * /proc (mkdir there fails with ENOENT although the parent exists) retries
 * forever, so a data directory such as /proc/x hung start-up with no error.
 * {@link ensureDir} creates one component at a time and reports the first
 * failure.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join, parse, resolve, sep } from 'node:path';
import { StorageError } from './types.js';
import type { FreeBytes } from './types.js';

/** The message part of a file-system error: its code and text, without Node's stack. */
export function fsReason(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Creates directory `dir` and any missing parents, one at a time, and
 * returns its absolute path. Throws a {@link StorageError}
 * (SYNOD_STORAGE_IO) naming the directory that could not be made, or a path
 * component that exists but is not a directory. `who` names the owner in
 * the message.
 */
export function ensureDir(dir: string, who: string): string {
  const path = resolve(dir);
  // The common case, a store reopened: one stat, since every component of a directory's path is a directory.
  try {
    if (statSync(path).isDirectory()) return path;
  } catch {
    // Missing (or unreadable): made, or reported, one component at a time below.
  }
  const root = parse(path).root;
  const parts = path.slice(root.length).split(sep).filter((p) => p !== '');
  let at = root;
  for (const part of parts) {
    at = join(at, part);
    let isDir: boolean | null = null;
    try {
      isDir = statSync(at).isDirectory();
    } catch {
      // Missing (or unreadable): try to make it below, which reports why not.
    }
    if (isDir === true) continue;
    if (isDir === false) throw new StorageError('SYNOD_STORAGE_IO', at, `cannot use ${path} for ${who}: ${at} exists and is not a directory; pick another data directory`);
    try {
      mkdirSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(at).isDirectory()) continue;
      throw new StorageError('SYNOD_STORAGE_IO', at, `cannot create ${at} for ${who}: ${fsReason(err)}; pick a data directory this process can write to`, { cause: err });
    }
  }
  return path;
}

/** fsyncs a directory, so that the entries created or renamed in it survive a machine crash. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a file that exists. */
export function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `text` to `file` so that after a crash the file holds either its
 * old content or all of `text`: write a temporary file beside it, fsync it,
 * rename it over `file`, fsync the directory. Throws a StorageError
 * (SYNOD_STORAGE_IO) naming the file when any step fails.
 */
export function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    fsyncDir(dirname(file));
  } catch (err) {
    throw new StorageError('SYNOD_STORAGE_IO', file, `cannot write ${file} durably: ${fsReason(err)}`, { cause: err });
  }
}

/** The free space, for this process's user, of the file system holding `path`. */
export const statfsFreeBytes: FreeBytes = (path) => {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
};

/**
 * Refuses writes, before they are made, while the disk under a store has
 * less than `reserve` bytes free: lmdb-js does not survive running out of
 * space (ENOSPC during a commit crashed or hung the process in tests on
 * Linux), so synod never lets it get there. Free space is read with statfs
 * when the store opens and again once the writes since the last reading may
 * have used up the margin above the reserve (or 1 MiB of it, whichever is
 * less), so a busy store pays for one statfs per MiB written.
 */
export class SpaceGuard {
  /** Bytes that may still be written before statfs is read again. */
  private budget = 0;

  constructor(
    /** The store's directory (whose file system is measured). */
    private readonly dir: string,
    /** The file named in the error. */
    private readonly file: string,
    /** Bytes to keep free. */
    private readonly reserve: number,
    private readonly freeBytes: FreeBytes = statfsFreeBytes,
  ) {}

  /**
   * Accounts for a write of about `bytes` bytes; throws a StorageError
   * (SYNOD_DISK_FULL) when the disk has less than the reserve left after it,
   * or SYNOD_STORAGE_IO when statfs itself fails.
   */
  take(bytes: number): void {
    // LMDB copies the pages it changes: count a few pages beyond the bytes themselves.
    const cost = bytes + 16 * 1024;
    if (cost <= this.budget) {
      this.budget -= cost;
      return;
    }
    let free: number;
    try {
      free = this.freeBytes(this.dir);
    } catch (err) {
      throw new StorageError('SYNOD_STORAGE_IO', this.file, `cannot read the free space of the disk holding ${this.file}: ${fsReason(err)}`, { cause: err });
    }
    const margin = free - this.reserve - cost;
    if (margin < 0) {
      throw new StorageError(
        'SYNOD_DISK_FULL',
        this.file,
        `the disk holding ${this.file} has ${free} bytes free, less than the ${this.reserve} bytes synod keeps in reserve (minFreeBytes) plus this write; the write was refused before it was made, so nothing acknowledged is lost. Free some space, then restart the actor`,
      );
    }
    this.budget = Math.min(margin, 1024 * 1024);
  }
}
