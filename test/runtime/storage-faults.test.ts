/**
 * The storage fault suite: what synod does when an actor's files are lost,
 * truncated, corrupt, on a full disk, or in a directory it cannot use.
 * Every fault must end in a typed error naming the file, with the process
 * alive and nothing acknowledged lost (docs/storage.md, "Storage faults").
 *
 * The cluster-level faults run in a child process
 * (fixtures/storage-fault-child.mjs, on the built dist/): a native crash
 * (SIGSEGV, SIGBUS, an abort) then ends the child, which fails the test,
 * instead of ending the test runner. The child decides "v1" on a
 * 1-proposer, 3-acceptor, 1-learner cluster, does the fault to a1's files,
 * starts the cluster again and proposes "v2": the answer must still be "v1".
 * The file checks and the free-space guard are also tested in process,
 * where they never let LMDB touch a bad file.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { DurableRecord } from '../../src/core/effects.js';
import type { MpRecord } from '../../src/core/multipaxos/types.js';
import { ensureDir } from '../../src/runtime/storage/files.js';
import { checkLmdbFile } from '../../src/runtime/storage/lmdb-check.js';
import { openLmdbStore } from '../../src/runtime/storage/lmdb.js';
import { openLmdbLog } from '../../src/runtime/storage/log.js';
import { kvMachine } from '../../src/machines/kv/index.js';
import { isRegistered, registryEntry } from '../../src/runtime/storage/registry.js';
import { StorageError } from '../../src/runtime/storage/types.js';

const child = fileURLToPath(new URL('./fixtures/storage-fault-child.mjs', import.meta.url));
const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-fault-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}
interface Actors {
  readonly [id: string]: { readonly status: string; readonly failure: ErrorData | null };
}
interface Outcome {
  readonly started: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly actors?: Actors;
  readonly actorsAfter?: Actors;
  readonly decided?: unknown;
  readonly error?: { readonly code: string | null; readonly message: string };
  readonly after?: Outcome;
}

/** Runs the child on `fault`; resolves with its one line once it exited by itself with status 0 (a signal or a throw fails the test). */
async function runFault(fault: string, dataDir?: string): Promise<Outcome> {
  const dir = dataDir ?? (await tempDir());
  const proc = spawn(process.execPath, [child, fault, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => proc.on('exit', (c, s) => resolve([c, s])));
  expect({ code, signal, stderr: err }).toEqual({ code: 0, signal: null, stderr: '' });
  return JSON.parse(out) as Outcome;
}

/** Asserts that a1 alone failed, with `code`, naming its file, and that the others carried on and kept "v1". */
function expectA1Failed(o: Outcome, code: string, what: RegExp): void {
  expect(o.started).toBe(true);
  const a1 = o.actors?.a1;
  expect(a1?.status).toBe('failed');
  expect(a1?.failure?.code).toBe(code);
  expect(a1?.failure?.message).toMatch(/\/a1\/data\.mdb/);
  expect(a1?.failure?.message).toMatch(what);
  for (const id of ['p1', 'a2', 'a3', 'l1']) expect(o.actors?.[id]?.status).toBe('running');
  // A proposal after the fault still returns the value decided before it.
  expect(o.decided).toBe('v1');
}

describe('storage faults on one acceptor of a running cluster (child process)', () => {
  it('data.mdb deleted: the acceptor refuses to start (SYNOD_STORE_LOST) and says how to replace it; the others decide', async () => {
    const o = await runFault('deleted');
    expectA1Failed(o, 'SYNOD_STORE_LOST', /is missing, but .*synod-registry\/a1\.json records that this actor has existed/);
    expect(o.actors?.a1?.failure?.message).toMatch(/Restore data\.mdb from a backup\. Deleting .*synod-registry\/a1\.json would start the actor empty/);
  });

  it("the acceptor's whole directory deleted: SYNOD_STORE_LOST", async () => {
    expectA1Failed(await runFault('deleted-dir'), 'SYNOD_STORE_LOST', /is missing/);
  });

  it('data.mdb truncated to 0 bytes: SYNOD_STORE_LOST, not an empty acceptor', async () => {
    expectA1Failed(await runFault('truncated-to-0'), 'SYNOD_STORE_LOST', /is empty \(0 bytes\)/);
  });

  it('two of three acceptors lost: the cluster does not start (SYNOD_START_FAILED naming both files), rather than change the decided value', async () => {
    const o = await runFault('two-deleted');
    expect(o.started).toBe(false);
    expect(o.code).toBe('SYNOD_START_FAILED');
    expect(o.message).toMatch(/a majority of the 3 acceptors \(1 started\)/);
    expect(o.message).toMatch(/\/a1\/data\.mdb .* is missing/);
    expect(o.message).toMatch(/\/a2\/data\.mdb .* is empty/);
  });

  it('data.mdb truncated partway (inside its first data page): SYNOD_STORE_CORRUPT, not SIGBUS', async () => {
    expectA1Failed(await runFault('truncated-partway'), 'SYNOD_STORE_CORRUPT', /past the end of the file/);
  });

  it('data.mdb truncated inside its meta page: SYNOD_STORE_CORRUPT', async () => {
    expectA1Failed(await runFault('truncated-short'), 'SYNOD_STORE_CORRUPT', /shorter than one meta page/);
  });

  it('a corrupt header (garbage over the meta page): SYNOD_STORE_CORRUPT, not SIGSEGV', async () => {
    expectA1Failed(await runFault('corrupt-header'), 'SYNOD_STORE_CORRUPT', /not a meta page|magic/);
  });

  it('meta records whose root points past the end of the file: SYNOD_STORE_CORRUPT', async () => {
    expectA1Failed(await runFault('corrupt-meta-root'), 'SYNOD_STORE_CORRUPT', /page 268435455 is referenced but lies past the end/);
  });

  it('a corrupt record stops that acceptor only (SYNOD_CORRUPT_RECORD); the cluster starts on the healthy majority', async () => {
    expectA1Failed(await runFault('corrupt-record'), 'SYNOD_CORRUPT_RECORD', /checksum mismatch/);
  });

  it('a corrupt record in one acceptor of the key-value store: that acceptor fails, the store starts and reads what was written', async () => {
    const o = await runFault('kv-corrupt-record');
    expect(o.started).toBe(true);
    expect(o.actors?.a1?.status).toBe('failed');
    expect(o.actors?.a1?.failure?.code).toBe('SYNOD_CORRUPT_RECORD');
    expect(o.actors?.a1?.failure?.message).toMatch(/\/a1\/data\.mdb/);
    expect(o.decided).toBe('v1');
  });

  it('a full disk: the write is refused before it is made (SYNOD_DISK_FULL naming the file), that actor stops, the process lives, and the decided value stands', async () => {
    const o = await runFault('disk-full');
    expect(o.started).toBe(true);
    expect(o.error?.code).toBe('SYNOD_ACTOR_FAILED');
    const p1 = o.actorsAfter?.p1;
    expect(p1?.status).toBe('failed');
    expect(p1?.failure?.code).toBe('SYNOD_DISK_FULL');
    expect(p1?.failure?.message).toMatch(/\/p1\/data\.mdb has \d+ bytes free, less than/);
    expect(o.after?.decided).toBe('v1');
  });

  it('a data directory under /proc: SYNOD_START_FAILED at once (it used to hang start-up)', async () => {
    const o = await runFault('proc-data-dir', `/proc/synod-fault-test-${process.pid}`);
    expect(o.started).toBe(false);
    expect(o.code).toBe('SYNOD_START_FAILED');
    expect(o.message).toMatch(/data directory \/proc\/synod-fault-test-\d+ cannot be used: cannot create/);
  });

  it('a data directory below a file: SYNOD_START_FAILED naming the file in the way', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, 'plain-file'), 'x');
    const o = await runFault('file-data-dir', join(dir, 'plain-file', 'data'));
    expect(o.started).toBe(false);
    expect(o.code).toBe('SYNOD_START_FAILED');
    expect(o.message).toMatch(/plain-file exists and is not a directory/);
  });

  it('synod run --data-dir under /proc prints one line and exits 2 (it used to hang)', async () => {
    const result = await promisify(execFile)(process.execPath, [cli, 'run', '--data-dir', `/proc/synod-fault-test-${process.pid}`]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    const lines = (result as { stderr: string }).stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^synod run: --data-dir \/proc\/synod-fault-test-\d+ cannot be used: ENOENT/);
  });

  it('synod run on a data directory with one lost store names it and exits 1, with no stack trace', async () => {
    const dir = await tempDir();
    const run = () => promisify(execFile)(process.execPath, [cli, 'run', '--data-dir', dir]).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
    expect(await run()).toMatchObject({ code: 0 });
    await rm(join(dir, 'a1', 'data.mdb'));
    const result = await run();
    expect(result).toMatchObject({ code: 1, stderr: '' });
    expect(result.stdout).toMatch(/a1 FAILED at start, not restarted: .*\/a1\/data\.mdb \(the store of actor a1\) is missing/);
    expect(result.stdout).toMatch(/not OK — a1 failed to start \(SYNOD_STORE_LOST\)/);
  });
});

const acceptor: DurableRecord = { role: 'acceptor', promised: { round: 3, proposer: 'p1' }, accepted: null };

/** An LMDB data file with one acceptor record in it, written and closed. */
async function storeFile(): Promise<string> {
  const dir = join(await tempDir(), 'a1');
  const store = await openLmdbStore(dir, { actorId: 'a1' });
  await store.persist(acceptor);
  await store.close();
  return join(dir, 'data.mdb');
}

describe('the checks made before LMDB maps a file (in process)', () => {
  it('passes a healthy file and reports a missing or empty one', async () => {
    const file = await storeFile();
    expect(checkLmdbFile(file, 'a1')).toBe('ok');
    expect(checkLmdbFile(join(file, '..', 'nothing.mdb'), 'a1')).toBe('missing');
    truncateSync(file, 0);
    expect(checkLmdbFile(file, 'a1')).toBe('empty');
  });

  it('passes a file of many pages, overflow pages and deletions', async () => {
    const dir = join(await tempDir(), 'p1');
    const log = await openLmdbLog(dir, { machine: kvMachine, actorId: 'p1' });
    for (let i = 1; i <= 40; i++) {
      await log.append([{ kind: 'round', roundMax: i }, { kind: 'accepted', slot: i, ballot: { round: i, proposer: 'p1' }, value: [{ clientId: 'c', seq: i, op: { f: 'write', key: 'k', value: 'x'.repeat(i * 400) } }] as never }]);
      if (i % 10 === 0) await log.append([{ kind: 'trim', upTo: i - 5 }]);
    }
    await log.close();
    expect(statSync(join(dir, 'data.mdb')).size).toBeGreaterThan(20 * 4096);
    expect(checkLmdbFile(join(dir, 'data.mdb'), 'p1')).toBe('ok');
  });

  it('refuses a file cut at every page boundary but the last with SYNOD_STORE_CORRUPT', async () => {
    const file = await storeFile();
    const pages = statSync(file).size / 4096;
    for (let keep = 0; keep < pages; keep++) {
      const copy = `${file}.cut${keep}`;
      copyFileSync(file, copy);
      truncateSync(copy, keep * 4096 + (keep === 0 ? 100 : 0));
      let thrown: unknown = null;
      try {
        checkLmdbFile(copy, 'a1');
      } catch (err) {
        thrown = err;
      }
      // Cutting only free pages off the end is harmless (LMDB never reads them); cutting a used one must be caught.
      if (thrown !== null) {
        expect(thrown).toBeInstanceOf(StorageError);
        expect((thrown as StorageError).code).toBe('SYNOD_STORE_CORRUPT');
        expect((thrown as StorageError).file).toBe(copy);
      } else {
        expect(keep).toBeGreaterThan(2);
      }
    }
  });

  it('refuses a bad magic number and a bad version', async () => {
    const file = await storeFile();
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(0x12345678, 24);
    writeFileSync(file, bytes);
    expect(() => checkLmdbFile(file, 'a1')).toThrow(/magic 0x12345678, not 0xbeefc0de/);
    bytes.writeUInt32LE(0xbeefc0de, 24);
    bytes.writeUInt32LE(7, 28);
    writeFileSync(file, bytes);
    expect(() => checkLmdbFile(file, 'a1')).toThrow(/data version 7/);
  });

  it('refuses to open a store the registry says existed but whose file is gone, and opens a new one (registering it)', async () => {
    const root = await tempDir();
    const registryDir = join(root, 'synod-registry');
    const store = await openLmdbStore(join(root, 'a1'), { actorId: 'a1', registryDir });
    expect(isRegistered(registryDir, 'a1')).toBe(true);
    expect(JSON.parse(readFileSync(registryEntry(registryDir, 'a1'), 'utf8'))).toMatchObject({ actor: 'a1', store: join(root, 'a1') });
    await store.persist(acceptor);
    await store.close();
    truncateSync(join(root, 'a1', 'data.mdb'), 0);
    const err = await openLmdbStore(join(root, 'a1'), { actorId: 'a1', registryDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'SYNOD_STORE_LOST', file: join(root, 'a1', 'data.mdb') });
  });
});

describe('a full disk (in process, free space reported by a stub)', () => {
  it('a store refuses the write before making it, names the file, and keeps what was acknowledged', async () => {
    const dir = join(await tempDir(), 'a1');
    let free = 1024 ** 3;
    const store = await openLmdbStore(dir, { actorId: 'a1', minFreeBytes: 1024 ** 2, freeBytes: () => free });
    await store.persist(acceptor);
    free = 1024;
    // The guard reads statfs again once the margin it last saw may be used up: write until it does.
    let acknowledged = acceptor;
    let err: unknown = null;
    for (let i = 0; i < 200 && err === null; i++) {
      const record: DurableRecord = { role: 'acceptor', promised: { round: 4 + i, proposer: 'p1' }, accepted: null };
      err = await store.persist(record).then(() => ((acknowledged = record), null), (e: unknown) => e);
    }
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'SYNOD_DISK_FULL', file: join(dir, 'data.mdb') });
    await store.close();
    const reopened = await openLmdbStore(dir, { actorId: 'a1' });
    expect(acknowledged).not.toBe(acceptor);
    expect(await reopened.load()).toEqual(acknowledged);
    await reopened.close();
  });

  it('a record log refuses the append before making it and keeps every acknowledged record', async () => {
    const dir = join(await tempDir(), 'a1');
    let free = 1024 ** 3;
    const log = await openLmdbLog(dir, { machine: kvMachine, actorId: 'a1', minFreeBytes: 1024 ** 2, freeBytes: () => free });
    const acknowledged: MpRecord[] = [{ kind: 'promised', ballot: { round: 1, proposer: 'p1' } }];
    await log.append(acknowledged);
    free = 1024;
    let err: unknown = null;
    for (let i = 0; i < 200 && err === null; i++) {
      const record: MpRecord = { kind: 'round', roundMax: i };
      err = await log.append([record]).then(() => (acknowledged.push(record), null), (e: unknown) => e);
    }
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'SYNOD_DISK_FULL', file: join(dir, 'data.mdb') });
    await log.close();
    const reopened = await openLmdbLog(dir, { machine: kvMachine, actorId: 'a1' });
    // A round record deletes the rounds before it: what is left is the promise and the last round acknowledged.
    expect(acknowledged.length).toBeGreaterThan(1);
    expect(await reopened.load()).toEqual([acknowledged[0], acknowledged.at(-1)]);
    await reopened.close();
  });

  it('a new store is not created on a full disk', async () => {
    const dir = join(await tempDir(), 'a1');
    const err = await openLmdbStore(dir, { actorId: 'a1', minFreeBytes: 10, freeBytes: () => 5 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SYNOD_DISK_FULL' });
    expect(existsSync(join(dir, 'data.mdb'))).toBe(false);
  });
});

describe('creating directories', () => {
  it('fails at once, naming the path, under /proc (mkdir -p never returns there)', () => {
    expect(() => ensureDir(`/proc/synod-fault-test-${process.pid}/x`, 'a test')).toThrow(/cannot create \/proc\/synod-fault-test-\d+ for a test: ENOENT/);
  });

  it('creates missing parents and accepts existing ones', async () => {
    const root = await tempDir();
    const deep = join(root, 'a', 'b', 'c');
    expect(ensureDir(deep, 'a test')).toBe(deep);
    expect(ensureDir(deep, 'a test')).toBe(deep);
    mkdirSync(join(root, 'd'));
    expect(statSync(ensureDir(join(root, 'd'), 'a test')).isDirectory()).toBe(true);
  });
});
