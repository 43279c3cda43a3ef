/**
 * Tests of the actor stores (LMDB and in-memory) and of the record encoding.
 *
 * `lmdb` is wrapped (passing everything through) so one test can hold back
 * the "flushed" signal of puts and show that a durable persist waits for it.
 */
import { execFile } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { open } from 'lmdb';
import type { DurableRecord } from '../../src/core/effects.js';
import { openLmdbStore, RECORD_KEY } from '../../src/runtime/storage/lmdb.js';
import { openMemoryStore } from '../../src/runtime/storage/memory.js';
import { decodeRecord, encodeRecord, SCHEMA_VERSION } from '../../src/runtime/storage/record.js';
import { CorruptRecordError, type ActorStore } from '../../src/runtime/storage/types.js';

/** vi.waitFor waits for a write to land; on a busy machine that can take longer than its default second. */
const WAIT = { timeout: 60_000 };

/** While `held` is set, puts issued through lmdb report "flushed" only once `held` resolves too. */
const flushGate = vi.hoisted(() => ({ held: null as Promise<void> | null }));

vi.mock('lmdb', async (importOriginal) => (await import('./fixtures/flush-gate.js')).gatedLmdb(await importOriginal<typeof import('lmdb')>(), flushGate));

const acceptor: DurableRecord = {
  role: 'acceptor',
  promised: { round: 3, proposer: 'p1' },
  accepted: { ballot: { round: 2, proposer: 'p2' }, value: { op: 'set', args: [1, 'é', null, true], '10': 2, '9': 1 } },
};
const emptyAcceptor: DurableRecord = { role: 'acceptor', promised: null, accepted: null };
const proposer: DurableRecord = { role: 'proposer', roundMax: 7 };
const learner: DurableRecord = { role: 'learner', decided: { ballot: { round: 4, proposer: 'p1' }, value: 'x' } };
const emptyLearner: DurableRecord = { role: 'learner', decided: null };

const dirs: string[] = [];
const stores: ActorStore[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-storage-test-'));
  dirs.push(dir);
  return dir;
}

async function openStore(dir: string, opts?: Parameters<typeof openLmdbStore>[1]): Promise<ActorStore> {
  const store = await openLmdbStore(dir, opts);
  stores.push(store);
  return store;
}

/** Overwrites the stored record with `bytes` through a raw lmdb handle (the store must be closed). */
async function writeRaw(dir: string, bytes: string | Buffer): Promise<void> {
  const raw = open<Buffer, string>({ path: dir, noSubdir: false, encoding: 'binary' });
  await raw.put(RECORD_KEY, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8'));
  await raw.close();
}

/** Reads the stored bytes and the id of the last transaction through a raw lmdb handle (the store must be closed). */
async function readRaw(dir: string): Promise<{ bytes: string | undefined; lastTxnId: number }> {
  const raw = open<Buffer, string>({ path: dir, noSubdir: false, encoding: 'binary' });
  const bytes = raw.getBinary(RECORD_KEY)?.toString('utf8');
  const lastTxnId = (raw.getStats() as { lastTxnId: number }).lastTxnId;
  await raw.close();
  return { bytes, lastTxnId };
}

/** What `persist` has done by now: whether it settled, without waiting for it. */
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
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('record encoding', () => {
  it.each([acceptor, emptyAcceptor, proposer, learner, emptyLearner])('round-trips a $role record', (record) => {
    const text = encodeRecord(record);
    expect(text.startsWith(`synod:${SCHEMA_VERSION}:`)).toBe(true);
    expect(decodeRecord(text, 'f', 'k')).toEqual(record);
    expect(decodeRecord(Buffer.from(text, 'utf8'), 'f', 'k')).toEqual(record);
  });

  it('encodes equal records to equal bytes whatever their key order', () => {
    const reordered = { accepted: null, promised: null, role: 'acceptor' } as DurableRecord;
    expect(encodeRecord(reordered)).toBe(encodeRecord(emptyAcceptor));
  });

  const bodyOf = (record: DurableRecord) => encodeRecord(record).replace(/^synod:\d+:[0-9a-f]{8}:/, '');
  const withHeader = (version: number, body: string) => `synod:${version}:${crc32(body).toString(16).padStart(8, '0')}:${body}`;

  it.each([
    ['no header', 'garbage', /no "synod:<version>:<crc32>:" header/],
    ['empty', '', /header/],
    ['unknown version', withHeader(SCHEMA_VERSION + 1, bodyOf(proposer)), /unknown schema version 2/],
    ['checksum mismatch', encodeRecord(proposer).replace('"roundMax":7', '"roundMax":8'), /checksum mismatch/],
    ['unparsable body', withHeader(SCHEMA_VERSION, '{"role":'), /not JSON/],
    ['not an object', withHeader(SCHEMA_VERSION, '[1]'), /not an object/],
    ['unknown role', withHeader(SCHEMA_VERSION, '{"role":"king"}'), /unknown role "king"/],
    ['missing field', withHeader(SCHEMA_VERSION, '{"promised":null,"role":"acceptor"}'), /missing field "accepted"/],
    ['extra field', withHeader(SCHEMA_VERSION, '{"role":"proposer","roundMax":1,"x":0}'), /unexpected field "x"/],
    ['bad ballot', withHeader(SCHEMA_VERSION, '{"accepted":null,"promised":{"round":0,"proposer":"p1"},"role":"acceptor"}'), /"promised"/],
    ['bad proposal', withHeader(SCHEMA_VERSION, '{"accepted":{"ballot":{"round":1,"proposer":"p1"}},"promised":null,"role":"acceptor"}'), /"accepted": missing field "value"/],
    ['too deep a value', withHeader(SCHEMA_VERSION, `{"decided":{"ballot":{"round":1,"proposer":"p1"},"value":${'['.repeat(70)}${']'.repeat(70)}},"role":"learner"}`), /"decided"\.value is .*not a JSON value/],
    ['negative roundMax', withHeader(SCHEMA_VERSION, '{"role":"proposer","roundMax":-1}'), /roundMax/],
    ['fractional roundMax', withHeader(SCHEMA_VERSION, '{"role":"proposer","roundMax":1.5}'), /roundMax/],
    ['bad decided', withHeader(SCHEMA_VERSION, '{"decided":5,"role":"learner"}'), /decided/],
  ])('refuses a record with %s', (_name, raw, detail) => {
    let caught: unknown;
    try {
      decodeRecord(raw, '/data/a1/data.mdb', 'state');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CorruptRecordError);
    const err = caught as CorruptRecordError;
    expect(err.file).toBe('/data/a1/data.mdb');
    expect(err.key).toBe('state');
    expect(err.message).toContain('/data/a1/data.mdb');
    expect(err.message).toContain('"state"');
    expect(err.message).toMatch(detail);
  });

  it('refuses a record of another role when the expected role is given', () => {
    expect(() => decodeRecord(encodeRecord(proposer), 'f', 'k', 'acceptor')).toThrow(/holds a proposer record but this actor is a acceptor/);
    expect(decodeRecord(encodeRecord(proposer), 'f', 'k', 'proposer')).toEqual(proposer);
  });

  it('refuses to encode an invalid record', () => {
    expect(() => encodeRecord({ role: 'proposer', roundMax: -1 })).toThrow(TypeError);
    expect(() => encodeRecord({ role: 'proposer', roundMax: Number.NaN })).toThrow(/roundMax/);
    expect(() => encodeRecord({ role: 'learner', decided: { ballot: { round: 1, proposer: 'p1' }, value: undefined as never } })).toThrow(/value/);
  });
});

describe('LMDB store', () => {
  it.each([acceptor, emptyAcceptor, proposer, learner, emptyLearner])('round-trips a $role record', async (record) => {
    const store = await openStore(await tempDir());
    expect(await store.load()).toBeNull();
    await store.persist(record);
    expect(await store.load()).toEqual(record);
  });

  it('returns the last record after close and reopen', async () => {
    const dir = await tempDir();
    const first = await openLmdbStore(dir);
    await first.persist({ role: 'proposer', roundMax: 1 });
    await first.persist({ role: 'proposer', roundMax: 2 });
    await first.close();
    const second = await openStore(dir);
    expect(second.path).toBe(dir);
    expect(await second.load()).toEqual({ role: 'proposer', roundMax: 2 });
  });

  it('creates a missing directory, even one whose name has a dot', async () => {
    const dir = join(await tempDir(), 'nested', 'a1.data');
    const store = await openStore(dir);
    await store.persist(learner);
    await store.close();
    expect((await readRaw(dir)).bytes).toBe(encodeRecord(learner));
  });

  it('commits many persists of one turn in one transaction, resolves them all, and keeps the last', async () => {
    const dir = await tempDir();
    const store = await openLmdbStore(dir);
    const done = Array.from({ length: 100 }, (_, i) => store.persist({ role: 'proposer', roundMax: i }));
    await expect(Promise.all(done)).resolves.toHaveLength(100);
    expect(await store.load()).toEqual({ role: 'proposer', roundMax: 99 });
    // Control: persists in separate turns take one transaction each, so the
    // transaction count below really counts commits.
    await store.persist({ role: 'proposer', roundMax: 100 });
    await store.persist({ role: 'proposer', roundMax: 101 });
    await store.close();
    const { bytes, lastTxnId } = await readRaw(dir);
    expect(lastTxnId).toBe(3);
    expect(decodeRecord(bytes ?? '', 'f', 'k')).toEqual({ role: 'proposer', roundMax: 101 });
  });

  it('resolves a durable persist only after the write is visible to another process', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.persist(acceptor);
    // The store stays open: the reader is a separate process with its own view of the environment.
    const script = `import { open } from 'lmdb';
const db = open({ path: process.argv[1], encoding: 'binary', readOnly: true });
process.stdout.write(db.getBinary(${JSON.stringify(RECORD_KEY)})?.toString('utf8') ?? 'MISSING');
await db.close();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, dir], { cwd: process.cwd() });
    expect(decodeRecord(stdout, dir, RECORD_KEY)).toEqual(acceptor);
  });

  it('holds a durable persist back until the write is flushed, and a non-durable one not', async () => {
    let release!: () => void;
    flushGate.held = new Promise<void>((resolve) => (release = resolve));
    const durableStore = await openStore(await tempDir());
    const fastStore = await openStore(await tempDir(), { durable: false });
    const durable = track(durableStore.persist(proposer));
    const fast = track(fastStore.persist(proposer));
    // Wait until both writes are committed and visible: the non-durable one
    // has resolved, and the durable one's record can be read back.
    await vi.waitFor(() => expect(fast.settled).toBe(true), WAIT);
    await vi.waitFor(async () => expect(await durableStore.load()).toEqual(proposer), WAIT);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(durable.settled).toBe(false);
    release();
    await vi.waitFor(() => expect(durable.settled).toBe(true), WAIT);
  });

  it('completes pending writes on close', async () => {
    const dir = await tempDir();
    const store = await openLmdbStore(dir);
    const pending = track(store.persist(learner));
    await store.close();
    expect(pending.settled).toBe(true);
    const reopened = await openStore(dir);
    expect(await reopened.load()).toEqual(learner);
  });

  it('rejects use after close with an error that says so', async () => {
    const store = await openLmdbStore(await tempDir());
    await store.close();
    await expect(store.persist(proposer)).rejects.toThrow(/is closed; open it again/);
    await expect(store.load()).rejects.toThrow(/is closed/);
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('refuses to persist an invalid record and keeps the previous one', async () => {
    const store = await openStore(await tempDir());
    await store.persist(proposer);
    await expect(store.persist({ role: 'proposer', roundMax: -5 })).rejects.toThrow(TypeError);
    expect(await store.load()).toEqual(proposer);
  });

  it('refuses records of another role when the role is given', async () => {
    const dir = await tempDir();
    const asProposer = await openLmdbStore(dir, { actorId: 'p1', role: 'proposer' });
    await asProposer.persist(proposer);
    await expect(asProposer.persist(acceptor)).rejects.toThrow(/refusing to persist a acceptor record into the store of actor p1/);
    await asProposer.close();
    const asAcceptor = await openStore(dir, { actorId: 'a1', role: 'acceptor' });
    await expect(asAcceptor.load()).rejects.toThrow(CorruptRecordError);
  });

  const flipByte = (text: string, at: number) => {
    const bytes = Buffer.from(text, 'utf8');
    bytes[at] = (bytes[at] as number) ^ 0x01;
    return bytes;
  };
  const body = '{"role":"proposer","roundMax":3}';

  it.each([
    ['garbage', () => Buffer.from([0xde, 0xad, 0xbe, 0xef]), /header/],
    ['a byte flipped in the body', () => flipByte(encodeRecord(proposer), encodeRecord(proposer).length - 3), /checksum mismatch/],
    ['a byte flipped in the checksum', () => flipByte(encodeRecord(proposer), 'synod:1:'.length), /checksum mismatch|header/],
    ['an unknown schema version', () => `synod:99:${crc32(body).toString(16).padStart(8, '0')}:${body}`, /unknown schema version 99/],
    ['a body that is not a record', () => `synod:1:${crc32('{}').toString(16).padStart(8, '0')}:{}`, /unknown role/],
  ])('throws CorruptRecordError naming the file and key when the stored record is %s', async (_name, bytes, detail) => {
    const dir = await tempDir();
    const first = await openLmdbStore(dir);
    await first.persist(proposer);
    await first.close();
    await writeRaw(dir, bytes());
    const store = await openStore(dir);
    const err = await store.load().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptRecordError);
    expect((err as CorruptRecordError).message).toContain(join(dir, 'data.mdb'));
    expect((err as CorruptRecordError).message).toContain(`"${RECORD_KEY}"`);
    expect((err as CorruptRecordError).message).toMatch(detail);
    // Never silently reset: the bad record is still there, and still refused.
    await expect(store.load()).rejects.toThrow(CorruptRecordError);
  });
});

describe('in-memory store', () => {
  it.each([acceptor, proposer, learner, emptyLearner])('round-trips a $role record', async (record) => {
    const store = openMemoryStore();
    expect(store.path).toBeNull();
    expect(await store.load()).toBeNull();
    await store.persist(record);
    expect(await store.load()).toEqual(record);
  });

  it('keeps the last of many persists in one turn, and resolves them on a microtask', async () => {
    const store = openMemoryStore();
    const done = Array.from({ length: 10 }, (_, i) => store.persist({ role: 'proposer', roundMax: i }));
    const first = track(done[0] as Promise<void>);
    expect(first.settled).toBe(false);
    await Promise.all(done);
    expect(first.settled).toBe(true);
    expect(await store.load()).toEqual({ role: 'proposer', roundMax: 9 });
  });

  it('stores a copy, not the caller\'s object', async () => {
    const store = openMemoryStore();
    const record = { role: 'learner', decided: { ballot: { round: 1, proposer: 'p1' }, value: { n: 1 } } };
    await store.persist(record as DurableRecord);
    record.decided.value.n = 2;
    expect(await store.load()).toEqual({ role: 'learner', decided: { ballot: { round: 1, proposer: 'p1' }, value: { n: 1 } } });
  });

  it('refuses invalid records and use after close', async () => {
    const store = openMemoryStore();
    await expect(store.persist({ role: 'proposer', roundMax: 0.5 })).rejects.toThrow(TypeError);
    await store.close();
    await expect(store.persist(proposer)).rejects.toThrow(/closed/);
    await expect(store.load()).rejects.toThrow(/closed/);
  });
});
