/**
 * Live I/O errors: a write that lmdb-js fails (an EIO from fdatasync, an
 * ENOSPC that got past the free-space guard) must reach the actor as a
 * StorageError naming the data file, so the supervisor stops the actor with
 * a message that says which file, and the replies riding on the write are
 * never sent. lmdb is wrapped (passing everything through) so that a test
 * can make the next puts fail as the disk would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DurableRecord } from '../../src/core/effects.js';
import { openLmdbStore } from '../../src/runtime/storage/lmdb.js';
import { openLmdbLog } from '../../src/runtime/storage/log.js';
import { kvMachine } from '../../src/machines/kv/index.js';
import { StorageError } from '../../src/runtime/storage/types.js';

/** While `error` is set, every put rejects with it instead of writing. */
const fault = vi.hoisted(() => ({ error: null as Error | null }));

vi.mock('lmdb', async (importOriginal) => {
  const real = await importOriginal<typeof import('lmdb')>();
  const open = (...args: unknown[]) => {
    const db = (real.open as (...a: unknown[]) => { put: (...p: unknown[]) => Promise<boolean> })(...args);
    const put = db.put.bind(db);
    db.put = (...putArgs: unknown[]) => (fault.error === null ? put(...putArgs) : Promise.reject(fault.error));
    return db;
  };
  return { ...real, open };
});

const dirs: string[] = [];
afterEach(async () => {
  fault.error = null;
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function actorDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-io-test-'));
  dirs.push(dir);
  return join(dir, 'a1');
}

const record: DurableRecord = { role: 'acceptor', promised: { round: 1, proposer: 'p1' }, accepted: null };
const eio = () => Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
const enospc = () => Object.assign(new Error('MDB_MAP_FULL: ENOSPC: no space left on device'), { code: 'ENOSPC' });

describe('live I/O errors name the file', () => {
  it('a failed persist is SYNOD_STORAGE_IO naming data.mdb, and the record written before stays', async () => {
    const dir = await actorDir();
    const store = await openLmdbStore(dir, { actorId: 'a1' });
    await store.persist(record);
    fault.error = eio();
    const err = await store.persist({ ...record, promised: { round: 2, proposer: 'p1' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'SYNOD_STORAGE_IO', file: join(dir, 'data.mdb') });
    expect((err as Error).message).toContain(`${join(dir, 'data.mdb')} failed: EIO: i/o error, fdatasync`);
    expect((err as Error).message).toContain('must not be sent');
    fault.error = null;
    expect(await store.load()).toEqual(record);
    await store.close();
  });

  it('a failed append is SYNOD_STORAGE_IO naming data.mdb; an out-of-space error is SYNOD_DISK_FULL', async () => {
    const dir = await actorDir();
    const log = await openLmdbLog(dir, { machine: kvMachine, actorId: 'a1' });
    fault.error = eio();
    const io = await log.append([{ kind: 'round', roundMax: 1 }]).catch((e: unknown) => e);
    expect(io).toMatchObject({ code: 'SYNOD_STORAGE_IO', file: join(dir, 'data.mdb') });
    fault.error = enospc();
    const full = await log.append([{ kind: 'round', roundMax: 2 }]).catch((e: unknown) => e);
    expect(full).toMatchObject({ code: 'SYNOD_DISK_FULL', file: join(dir, 'data.mdb') });
    await log.close();
  });
});
