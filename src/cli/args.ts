/**
 * Argument parsers for the CLI. Each throws a {@link UsageError} whose message
 * says what was wrong and what is allowed; the CLI turns it into exit code 2.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { existsSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { ensureDir } from '../runtime/storage/files.js';
import { StorageError } from '../runtime/storage/types.js';
import { dirname, join, resolve } from 'node:path';

/** A bad command line. */
export class UsageError extends InvalidArgumentError {}

/** An integer within [min, max]. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`expected an integer, got ${JSON.stringify(text)}`);
    if (n < min || n > max) throw new UsageError(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

/** A probability in [0, 1]. */
export function probabilityArg(text: string): number {
  const p = Number(text);
  if (text.trim() === '' || !Number.isFinite(p) || p < 0 || p > 1) throw new UsageError(`expected a probability from 0 to 1, got ${JSON.stringify(text)}`);
  return p;
}

/** A seed range `FIRST..LAST` (inclusive) or a single seed. */
export function seedRangeArg(text: string): { first: number; last: number } {
  const m = /^\s*(-?\d+)\s*(?:\.\.\s*(-?\d+)\s*)?$/.exec(text);
  if (!m) throw new UsageError(`expected FIRST..LAST, e.g. 1..1000, got ${JSON.stringify(text)}`);
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) throw new UsageError('seeds must be safe integers');
  if (last < first) throw new UsageError(`empty seed range ${first}..${last}: LAST must be >= FIRST`);
  return { first, last };
}

/** One of a fixed set of names. */
export function choiceArg<T extends string>(choices: readonly T[]) {
  return (text: string): T => {
    if (!(choices as readonly string[]).includes(text)) throw new UsageError(`expected one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
}

/** The fault flags shared by the simulator commands. */
export interface FaultFlags {
  drop: number;
  dup: number;
  delay: number;
  crash: number;
  partition: number;
}

/** Adds --drop, --dup, --delay, --crash and --partition to `cmd`, with the given defaults. */
export function addFaultOptions(cmd: Command, d: FaultFlags & { delayMin: number; delayMax: number; delayLongMax: number }): Command {
  return cmd
    .option('--drop <p>', 'probability that a message is lost', probabilityArg, d.drop)
    .option('--dup <p>', 'probability that a message is delivered twice', probabilityArg, d.dup)
    .option('--delay <p>', `probability that a message is held back for up to ${d.delayLongMax} ms (other messages take ${d.delayMin}-${d.delayMax} ms, so they reorder)`, probabilityArg, d.delay)
    .option('--crash <p>', 'probability, at each step, that a random live actor crashes (it restarts from its durable state after a while)', probabilityArg, d.crash)
    .option('--partition <p>', 'probability, at each step, that the actors split into two sides that cannot talk (healed after a while)', probabilityArg, d.partition);
}

/** The fault flags as simulator options. */
export function faultsOf(f: FaultFlags): FaultFlags {
  return { drop: f.drop, dup: f.dup, delay: f.delay, crash: f.crash, partition: f.partition };
}

/** `text` as one shell word (POSIX sh): unchanged when it is plainly safe, else single-quoted. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Why `dir` cannot hold a cluster's data, or null when it can. The directory
 * is created if missing (the cluster would create it anyway) and probed with
 * a scratch directory, because permission bits alone do not say whether a
 * write succeeds (root, read-only mounts, ACLs). Checking here, before any
 * worker starts, turns what would be a start-up failure of every actor into
 * one line about the flag.
 */
export function dataDirProblem(flag: string, dir: string): string | null {
  try {
    if (existsSync(dir) && !statSync(dir).isDirectory()) return `${flag} ${dir} is not a directory`;
    // Not mkdirSync({ recursive: true }), which never returns for a path under /proc.
    ensureDir(dir, flag);
    rmdirSync(mkdtempSync(join(dir, '.synod-probe-')));
    return null;
  } catch (err) {
    // ensureDir names the part of the path that is in the way (a file), with no errno to translate.
    if (err instanceof StorageError && err.cause === undefined) return `${flag} ${dir} cannot be used: ${err.file} is not a directory`;
    return `${flag} ${dir} cannot be used: ${fsReason((err as { cause?: unknown }).cause ?? err)}`;
  }
}

/**
 * A file to write: its directory must already exist and be a directory.
 * Every output flag (--history, --trace, --out, --json-out, ...) is checked
 * this way at parse time, so a typo fails at once instead of after a long
 * run, and no command creates directories behind the user's back.
 */
export function outputFileArg(text: string): string {
  if (text.trim() === '') throw new UsageError('expected a file name, got an empty string');
  const dir = dirname(resolve(text));
  if (!existsSync(dir)) throw new UsageError(`cannot write ${text}: the directory ${dir} does not exist; create it first`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`cannot write ${text}: ${dir} is not a directory`);
  if (existsSync(text) && statSync(text).isDirectory()) throw new UsageError(`cannot write ${text}: it is a directory, not a file`);
  return text;
}

/** A file-system error as a short phrase: "permission denied", "not a directory", or the error's own message. */
export function fsReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  const known: Record<string, string> = { EACCES: 'permission denied', EPERM: 'operation not permitted', ENOTDIR: 'a part of the path is not a directory', EROFS: 'read-only file system', ENOSPC: 'no space left on the device', EEXIST: 'a file is in the way' };
  return (code !== undefined ? known[code] : undefined) ?? (err as Error).message ?? String(err);
}
