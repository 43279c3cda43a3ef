/**
 * Tests of the Multi-Paxos record log (src/runtime/storage/log.ts): records
 * come back in write order, across a reopen; the appends of one event turn
 * share one LMDB transaction (group commit); a durable append waits for its
 * flush; a trim deletes what it makes obsolete; a bad record is refused on
 * the way in and reported, naming file and key, on the way out.
 *
 * `lmdb` is wrapped (passing everything through) so one test can hold back
 * the "flushed" signal of puts, as in storage.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { open } from 'lmdb';
import type { Batch, MpRecord } from '../../src/core/multipaxos/types.js';
import { kvMachine } from '../../src/machines/kv/index.js';
import { decodeLogRecord, encodeLogRecord, LOG_SCHEMA_VERSION, openLmdbLog, openMemoryLog, type RecordLog } from '../../src/runtime/storage/log.js';
import { CorruptRecordError } from '../../src/runtime/storage/types.js';

/** vi.waitFor waits for a write to land; on a busy machine that can take longer than its default second. */
const WAIT = { timeout: 60_000 };

/** While `held` is set, puts issued through lmdb report "flushed" only once `held` resolves too. */
const flushGate = vi.hoisted(() => ({ held: null as Promise<void> | null }));

vi.mock('lmdb', async (importOriginal) => (await import('./fixtures/flush-gate.js')).gatedLmdb(await importOriginal<typeof import('lmdb')>(), flushGate));

const ballot = (round: number, proposer = 'p1') => ({ round, proposer });
const batch = (n: number, tag = 'c'): Batch => Array.from({ length: n }, (_, i) => ({ clientId: `${tag}${i}`, seq: i + 1, op: { f: 'write', key: `k${i}`, value: { i, s: 'é' } } }));
const accepted = (slot: number, round = 1, value: Batch = batch(2)): MpRecord => ({ kind: 'accepted', slot, ballot: ballot(round), value });
const promised = (round: number): MpRecord => ({ kind: 'promised', ballot: ballot(round) });

const dirs: string[] = [];
const logs: RecordLog[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-log-test-'));
  dirs.push(dir);
  return dir;
}

async function openLog(dir: string, opts?: Omit<Parameters<typeof openLmdbLog>[1], 'machine'>): Promise<RecordLog> {
  const log = await openLmdbLog(dir, { ...opts, machine: kvMachine });
  logs.push(log);
  return log;
}

/** The keys stored and the id of the last transaction, through a raw lmdb handle (the log must be closed). */
async function readRaw(dir: string): Promise<{ keys: number[]; lastTxnId: number }> {
  const raw = open<Buffer, number>({ path: dir, noSubdir: false, encoding: 'binary' });
  const keys = [...raw.getKeys({})];
  const lastTxnId = (raw.getStats() as { lastTxnId: number }).lastTxnId;
  await raw.close();
  return { keys, lastTxnId };
}

/** Overwrites record `key` with `bytes` through a raw lmdb handle (the log must be closed). */
async function writeRaw(dir: string, key: number, bytes: string | Buffer): Promise<void> {
  const raw = open<Buffer, number>({ path: dir, noSubdir: false, encoding: 'binary' });
  await raw.put(key, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8'));
  await raw.close();
}

/** Whether `p` has settled by now, without waiting for it. */
function track(p: Promise<void>): { settled: boolean } {
  const state = { settled: false };
  p.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

afterEach(async () => {
  flushGate.held = null;
  for (const l of logs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('log record encoding', () => {
  it.each([
    promised(3),
    accepted(7),
    accepted(0, 2, []),
    { kind: 'round', roundMax: 4 } as MpRecord,
    { kind: 'trim', upTo: 1000 } as MpRecord,
    { kind: 'snapshot', upTo: 3, data: [['k', [1, 'é']]], sessions: [['c', { seq: 2, result: { f: 'read', value: null } }]] } as MpRecord,
  ])('round-trips a $kind record', (record) => {
    const bytes = encodeLogRecord(record, kvMachine);
    expect(bytes.toString('utf8').startsWith(`synod:${LOG_SCHEMA_VERSION}:`)).toBe(true);
    expect(decodeLogRecord(bytes, 'f', '0', kvMachine)).toEqual(record);
  });

  it('refuses to encode a record load would refuse', () => {
    expect(() => encodeLogRecord({ kind: 'round', roundMax: -1 }, kvMachine)).toThrow(TypeError);
    expect(() => encodeLogRecord({ kind: 'accepted', slot: 1.5, ballot: ballot(1), value: [] }, kvMachine)).toThrow(/slot/);
    expect(() => encodeLogRecord({ kind: 'promised', ballot: ballot(0) }, kvMachine)).toThrow(/ballot/);
    expect(() => encodeLogRecord({ kind: 'bogus' } as unknown as MpRecord, kvMachine)).toThrow(/unknown record kind/);
  });

  const body = (text: string) => `synod:${LOG_SCHEMA_VERSION}:${crc32(text).toString(16).padStart(8, '0')}:${text}`;

  it.each([
    ['no header', 'garbage', /header/],
    ['an unknown version', `synod:9:${crc32('{}').toString(16).padStart(8, '0')}:{}`, /unknown log schema version 9/],
    ['a checksum mismatch', encodeLogRecord(promised(3), kvMachine).toString('utf8').replace('"round":3', '"round":4'), /checksum mismatch/],
    ['a body that is not JSON', body('{"kind":'), /not JSON/],
    ['an unknown kind', body('{"kind":"king"}'), /unknown record kind/],
    ['an extra field', body('{"kind":"round","roundMax":1,"x":0}'), /unexpected field "x"/],
    ['a batch with a malformed command', body('{"kind":"accepted","slot":1,"ballot":{"round":1,"proposer":"p1"},"value":[{"clientId":"c","seq":1,"op":{"f":"write","key":"k"}}]}'), /slot 1: command c#1 has a malformed op/],
  ])('refuses a record with %s, naming file and key', (_name, raw, detail) => {
    let caught: unknown;
    try {
      decodeLogRecord(raw, '/data/a1/data.mdb', '17', kvMachine);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CorruptRecordError);
    expect((caught as CorruptRecordError).message).toContain('/data/a1/data.mdb');
    expect((caught as CorruptRecordError).message).toContain('"17"');
    expect((caught as CorruptRecordError).message).toMatch(detail);
  });
});

describe('LMDB record log', () => {
  it('loads records in write order, past ten keys and across a reopen', async () => {
    const dir = await tempDir();
    const first = await openLmdbLog(dir, { machine: kvMachine });
    const records: MpRecord[] = [promised(1), ...Array.from({ length: 11 }, (_, i) => accepted(i)), { kind: 'round', roundMax: 9 }];
    await first.append(records.slice(0, 5));
    await first.append(records.slice(5));
    expect(await first.load()).toEqual(records);
    await first.close();
    const second = await openLog(dir);
    expect(second.path).toBe(dir);
    expect(await second.load()).toEqual(records);
    await second.append([promised(2)]);
    // The later promise makes the earlier one obsolete (see the compaction test below).
    expect(await second.load()).toEqual([...records.slice(1), promised(2)]);
  });

  it('commits every append of one event turn in one transaction, and appends in later turns in their own', async () => {
    const dir = await tempDir();
    const log = await openLmdbLog(dir, { machine: kvMachine });
    const done = Array.from({ length: 100 }, (_, i) => log.append([accepted(i, 1, batch(3, `t${i}-`))]));
    await expect(Promise.all(done)).resolves.toHaveLength(100);
    // Control: appends awaited one by one take a transaction each, so the count below really counts commits.
    await log.append([promised(2)]);
    await log.append([promised(3)]);
    // promised(3) deleted promised(2) in its own transaction.
    expect(await log.load()).toHaveLength(101);
    await log.close();
    const { keys, lastTxnId } = await readRaw(dir);
    expect(keys).toEqual([...Array.from({ length: 100 }, (_, i) => i), 101]);
    expect(lastTxnId).toBe(3);
  });

  it('resolves a durable append only once it is flushed, and a non-durable one at commit', async () => {
    let release!: () => void;
    flushGate.held = new Promise<void>((resolve) => (release = resolve));
    const durableLog = await openLog(await tempDir());
    const fastLog = await openLog(await tempDir(), { durable: false });
    const durable = track(durableLog.append([promised(1)]));
    const fast = track(fastLog.append([promised(1)]));
    // Both are committed once the non-durable one resolved and the durable one's record reads back.
    await vi.waitFor(() => expect(fast.settled).toBe(true), WAIT);
    await vi.waitFor(async () => expect(await durableLog.load()).toEqual([promised(1)]), WAIT);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(durable.settled).toBe(false);
    release();
    await vi.waitFor(() => expect(durable.settled).toBe(true), WAIT);
  });

  it('deletes, in the trim\'s own transaction, the accepted records below it and earlier trims', async () => {
    const dir = await tempDir();
    const log = await openLmdbLog(dir, { machine: kvMachine });
    await log.append([promised(1), accepted(0), accepted(1), accepted(2)]);
    await log.append([accepted(1, 2), { kind: 'trim', upTo: 1 }]);
    await log.append([accepted(3), { kind: 'trim', upTo: 3 }]);
    const expected: MpRecord[] = [promised(1), accepted(3), { kind: 'trim', upTo: 3 }];
    expect(await log.load()).toEqual(expected);
    await log.close();
    const before = await readRaw(dir);
    expect(before.keys).toEqual([0, 6, 7]);
    expect(before.lastTxnId).toBe(3);
    // A reopened log rebuilds its index on load and goes on trimming.
    const again = await openLog(dir);
    expect(await again.load()).toEqual(expected);
    await again.append([accepted(4), { kind: 'trim', upTo: 5 }]);
    expect(await again.load()).toEqual([promised(1), { kind: 'trim', upTo: 5 }]);
  });

  it('keeps only the latest promise and the latest round, deleting the older in the same transaction', async () => {
    const dir = await tempDir();
    const log = await openLmdbLog(dir, { machine: kvMachine });
    await log.append([promised(1), accepted(0)]);
    await log.append([promised(2), accepted(1, 2)]);
    await log.append([promised(3)]);
    expect(await log.load()).toEqual([accepted(0), accepted(1, 2), promised(3)]);
    await log.close();
    const raw = await readRaw(dir);
    expect(raw.keys).toEqual([1, 3, 4]);
    expect(raw.lastTxnId).toBe(3);
    // A reopened log rebuilds its index on load and goes on compacting; rounds likewise.
    const again = await openLog(dir);
    await again.load();
    await again.append([promised(4), { kind: 'round', roundMax: 1 }]);
    await again.append([{ kind: 'round', roundMax: 2 }]);
    expect(await again.load()).toEqual([accepted(0), accepted(1, 2), promised(4), { kind: 'round', roundMax: 2 }]);
    await again.close();
    // Records an older build left uncompacted (two promises, two rounds) go with the next append after a load.
    await writeRaw(dir, 100, encodeLogRecord(promised(5), kvMachine));
    await writeRaw(dir, 101, encodeLogRecord(promised(6), kvMachine));
    const third = await openLog(dir);
    expect(await third.load()).toEqual([accepted(0), accepted(1, 2), promised(4), { kind: 'round', roundMax: 2 }, promised(5), promised(6)]);
    await third.append([accepted(2)]);
    expect(await third.load()).toEqual([accepted(0), accepted(1, 2), { kind: 'round', roundMax: 2 }, promised(6), accepted(2)]);
    const mem = openMemoryLog();
    await mem.append([{ kind: 'round', roundMax: 1 }, promised(1), { kind: 'round', roundMax: 2 }, promised(2)]);
    expect(await mem.load()).toEqual([{ kind: 'round', roundMax: 2 }, promised(2)]);
  });

  it('keeps only the latest learner snapshot', async () => {
    const dir = await tempDir();
    const log = await openLmdbLog(dir, { machine: kvMachine });
    const snap = (upTo: number): MpRecord => ({ kind: 'snapshot', upTo, data: [['k', { v: upTo }]], sessions: [['c1', { seq: upTo, result: { f: 'cas', ok: true } }]] });
    await log.append([snap(5)]);
    await log.append([snap(10), snap(15)]);
    expect(await log.load()).toEqual([snap(15)]);
    await log.close();
    expect((await readRaw(dir)).keys).toEqual([2]);
    expect(() => encodeLogRecord({ kind: 'snapshot', upTo: 1, data: [['k']], sessions: [] } as unknown as MpRecord, kvMachine)).toThrow(/data entry/);
  });

  it('refuses an invalid record and writes nothing of its append', async () => {
    const log = await openLog(await tempDir());
    await log.append([promised(1)]);
    await expect(log.append([promised(2), { kind: 'round', roundMax: 0.5 }])).rejects.toThrow(TypeError);
    expect(await log.load()).toEqual([promised(1)]);
  });

  it('throws CorruptRecordError naming the file and key of a corrupt record, and never resets it', async () => {
    const dir = await tempDir();
    const first = await openLmdbLog(dir, { machine: kvMachine });
    await first.append([promised(1), accepted(0), promised(2)]);
    await first.close();
    const bytes = encodeLogRecord(accepted(0), kvMachine);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x01;
    await writeRaw(dir, 1, bytes);
    const log = await openLog(dir);
    const err = await log.load().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptRecordError);
    expect((err as CorruptRecordError).message).toContain(join(dir, 'data.mdb'));
    expect((err as CorruptRecordError).message).toContain('"1"');
    expect((err as CorruptRecordError).message).toMatch(/checksum mismatch/);
    await expect(log.load()).rejects.toThrow(CorruptRecordError);
  });

  it('rejects use after close with an error that says so', async () => {
    const log = await openLmdbLog(await tempDir(), { machine: kvMachine });
    await log.close();
    await expect(log.append([promised(1)])).rejects.toThrow(/is closed; open it again/);
    await expect(log.load()).rejects.toThrow(/is closed/);
    await expect(log.close()).resolves.toBeUndefined();
  });
});

describe('in-memory record log', () => {
  it('keeps records in order, resolves appends on a microtask, and trims like the LMDB log', async () => {
    const log = openMemoryLog();
    expect(log.path).toBeNull();
    const first = track(log.append([promised(1), accepted(0), accepted(1)]));
    expect(first.settled).toBe(false);
    await log.append([{ kind: 'trim', upTo: 1 }, accepted(2)]);
    expect(first.settled).toBe(true);
    expect(await log.load()).toEqual([promised(1), accepted(1), { kind: 'trim', upTo: 1 }, accepted(2)]);
    await log.close();
    await expect(log.append([promised(2)])).rejects.toThrow(/closed/);
  });
});
