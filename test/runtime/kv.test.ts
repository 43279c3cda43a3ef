/**
 * The replicated key-value store on real worker threads and real LMDB:
 * get/put/cas, option and argument validation, concurrent clients whose
 * history must be linearizable, the leader's worker killed under load (the
 * log goes on under a new leader and no acknowledged write is lost), acceptors
 * recovering their logs from LMDB (one at a time, and a whole cluster
 * restarted on its data directory), crash points, hostile peer input and
 * timeouts. The log safety checker watches every cluster.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { open } from 'lmdb';
import { checkLinearizable } from '../../src/check/linearizability.js';
import type { Value } from '../../src/core/value.js';
import { createKvCluster, type KvCluster, type KvClusterOptions } from '../../src/runtime/kv-cluster.js';
import { SynodError } from '../../src/errors.js';
import { expectSafeEnd, next, runClients, until, untilAnswered, withKv } from './fixtures/kv.js';

const cluster3 = { proposers: 3, acceptors: 3, learners: 2 } as const;

describe('the key-value store on worker threads', () => {
  it('puts, gets and compare-and-sets, each actor on its own thread', async () => {
    await withKv({ ...cluster3, maxValueBytes: 1024 }, async (kv) => {
      expect(kv.leader()).toMatch(/^p[123]$/);
      await kv.put('x', 1);
      expect(await kv.get('x')).toBe(1);
      expect(await kv.cas('x', 1, { n: [2, 'é'] })).toBe(true);
      expect(await kv.cas('x', 1, 3)).toBe(false);
      expect(await kv.get('x')).toEqual({ n: [2, 'é'] });
      expect(await kv.get('never-written')).toBeNull();
      expect(await kv.cas('fresh', null, 'v')).toBe(true);

      const ids = ['p1', 'p2', 'p3', 'a1', 'a2', 'a3', 'l1', 'l2'];
      const reports = await Promise.all(ids.map((id) => kv.state(id)));
      const threads = reports.map((r) => r.threadId);
      expect(new Set(threads).size).toBe(ids.length);
      expect(threads).not.toContain(threadId);
      expect(reports.map((r) => r.role)).toEqual(['proposer', 'proposer', 'proposer', 'acceptor', 'acceptor', 'acceptor', 'learner', 'learner']);
      // Every command reached a proposer at least once (the one leading then; under load the lead may have moved since).
      expect(reports.slice(0, 3).reduce((n, r) => n + r.counters.commands, 0)).toBeGreaterThanOrEqual(7);
      await expect.poll(async () => (await Promise.all(['p1', 'p2', 'p3'].map((id) => kv.state(id)))).some((r) => r.describe.includes('leader'))).toBe(true);
      // Acceptors reply only once their records are durable, so a majority has appended.
      expect(reports.slice(3, 6).filter((r) => r.counters.persisted > 0).length).toBeGreaterThanOrEqual(2);
      await expect.poll(async () => (await kv.state('l2')).describe).toContain('fresh="v"');
      expect(kv.stats().completed).toBe(7);

      const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: SynodError) => e.code);
      expect(await code(kv.get(5 as unknown as string))).toBe('SYNOD_INVALID_ARGUMENT');
      expect(await code(kv.put('k', Number.NaN))).toBe('SYNOD_INVALID_ARGUMENT');
      expect(await code(kv.put('k', 'x'.repeat(2000)))).toBe('SYNOD_INVALID_ARGUMENT');
      expect(await code(kv.cas('k', null, { d: new Date(0) } as unknown as Value))).toBe('SYNOD_INVALID_ARGUMENT');
      expect(await code(kv.state('nobody'))).toBe('SYNOD_INVALID_ARGUMENT');
      expect(() => kv.history()).toThrow(/history: true/);
    });
  });

  it('rejects invalid options with one readable message before any worker starts', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'synod-kv-options-test-'));
    const dataDir = join(parent, 'never-created');
    try {
      const bad = { proposers: 0, acceptors: 'three', learners: 0, dataDir, batchMax: 0, concurrency: -1, storage: 'disk', supervisor: { policy: 'rest_for_one' }, colour: 'red' };
      const err = await createKvCluster(bad as unknown as KvClusterOptions).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SynodError);
      expect((err as SynodError).code).toBe('SYNOD_INVALID_OPTIONS');
      for (const path of ['proposers', 'acceptors', 'learners', 'batchMax', 'concurrency', 'storage', 'supervisor.policy', 'colour']) expect((err as Error).message).toContain(path);
      const timing = await createKvCluster({ ...cluster3, dataDir, core: { electionMinMs: 300, electionMaxMs: 200, heartbeatMs: 400 } }).catch((e: unknown) => e);
      expect((timing as SynodError).code).toBe('SYNOD_INVALID_OPTIONS');
      expect((timing as Error).message).toMatch(/core\.electionMaxMs: must be above electionMinMs/);
      expect((timing as Error).message).toMatch(/core\.heartbeatMs: must be below electionMinMs/);
      // Nothing was started: not even the data directory exists.
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('puts 300 concurrent callers in flight at once by default (no hidden cap), and a smaller concurrency queues the rest', async () => {
    for (const [concurrency, inFlight] of [[undefined, 300], [64, 64]] as const) {
      await withKv({ ...cluster3, history: true, ...(concurrency ? { concurrency } : {}) }, async (kv) => {
        const ops = Array.from({ length: 300 }, (_, i) => kv.put(`k${i % 7}`, i));
        // An operation is invoked (recorded) when it gets a session; nothing has been answered yet in this turn.
        expect(kv.history().filter((e) => e.type === 'invoke')).toHaveLength(inFlight);
        await Promise.all(ops);
        const stats = kv.stats();
        expect(stats.completed).toBe(300);
        // Both learners answer every operation and the first answer wins; the old name counts the same.
        expect(stats.lateAnswers).toBe(stats.extraAnswers);
      });
    }
  });

  it('serves 10 concurrent clients with a linearizable history and a safe log', async () => {
    await withKv({ ...cluster3, history: true, concurrency: 16 }, async (kv) => {
      const clients = runClients(kv, 10, 300);
      await clients.finished;
      expect(clients.errors).toEqual([]);
      const history = kv.history();
      expect(history.filter((e) => e.type === 'invoke')).toHaveLength(3000);
      expect(history.filter((e) => e.type === 'info')).toHaveLength(0);
      const verdict = checkLinearizable(history, { timeoutMs: 30_000 });
      expect(verdict.status === 'linearizable' ? 'linearizable' : JSON.stringify(verdict).slice(0, 2000)).toBe('linearizable');
      expect(kv.checker.chosenSlots).toBeGreaterThan(0);
      expect(kv.checker.violations).toEqual([]);
    });
  });

  it('with learners that learn from the acceptors\' votes: a linearizable history and a safe log, also across a crash of the leader', async () => {
    await withKv({ ...cluster3, learn: 'votes', history: true, concurrency: 16, supervisor: { maxRestarts: 10 } }, async (kv) => {
      const clients = runClients(kv, 10, Number.MAX_SAFE_INTEGER);
      await until(() => clients.done >= 300);
      const old = kv.leader();
      expect(old).not.toBeNull();
      const before = clients.done;
      await kv.crash(old as string, 'terminate');
      await until(() => clients.done >= before + 300);
      await expectSafeEnd(kv, clients);
      expect(kv.checker.chosenSlots).toBeGreaterThan(0);
      expect(kv.checker.violations).toEqual([]);
    });
  });

  it('goes on under a new leader when the leader\'s worker is terminated, then crashes, under load, losing no acknowledged write', async () => {
    await withKv({ ...cluster3, history: true, concurrency: 16, supervisor: { maxRestarts: 100 } }, async (kv) => {
      const crashes: string[] = [];
      kv.on('crash', (e) => crashes.push(`${e.id}:${e.how}`));
      const clients = runClients(kv, 10, Number.MAX_SAFE_INTEGER);
      for (const how of ['terminate', 'exception'] as const) {
        await until(() => clients.done >= 300);
        const old = kv.leader();
        expect(old).not.toBeNull();
        const oldBallot = (await kv.state(old as string)).describe.match(/ballot=(\S+)/)?.[1];
        const elected = next(kv, 'elected', (e) => `${e.ballot.round}.${e.ballot.proposer}` !== oldBallot);
        const before = clients.done;
        await kv.crash(old as string, how);
        await elected;
        // The log goes on: clients get answers again after the new election.
        await until(() => clients.done >= before + 300);
        expect(crashes).toContain(`${old}:${how}`);
      }
      await expectSafeEnd(kv, clients);
      // Operations in flight at the crashed leader went elsewhere: re-sent, or (had it stepped down first, which a busy
      // machine can cause) rejected and redirected.
      expect(kv.stats().resends + kv.stats().rejected).toBeGreaterThan(0);
    });
  });

  it('recovers an acceptor\'s log from LMDB after a crash, and a whole cluster from its data directory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'synod-kv-recover-test-'));
    try {
      await withKv({ ...cluster3, dataDir }, async (kv) => {
        for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 8 }, (_, k) => kv.put(`r${k}`, round * 8 + k)));
        // The proposers are paused while the acceptors restart, so nothing but the replay can change an acceptor's
        // state between the two reports (a leader change on a busy machine would change its promise).
        for (const p of kv.members.proposers) await kv.pause(p);
        for (const [id, how] of [['a1', 'exit'], ['a2', 'terminate']] as const) {
          const before = await kv.state(id);
          expect(before.describe).toContain('r7=');
          const back = next(kv, 'restart', (e) => e.id === id);
          await kv.crash(id, how);
          await back;
          const after = await kv.state(id);
          expect(after.threadId).not.toBe(before.threadId);
          expect(after.incarnation).toBe(before.incarnation + 1);
          // The same promise and every accepted slot, replayed from its log.
          expect(after.describe).toBe(before.describe);
        }
        for (const p of kv.members.proposers) await kv.resume(p);
        // Crash points: after a write is durable (before its reply leaves), and after a message arrives (before it is stepped).
        for (const [id, how] of [['a3', 'after-persist'], ['a1', 'after-receive']] as const) {
          const crashed = next(kv, 'crash', (e) => e.id === id);
          await kv.crash(id, how);
          await kv.put('point', how);
          expect((await crashed).how).toBe(how);
        }
        expect(await kv.get('point')).toBe('after-receive');
      });
      expect(existsSync(join(dataDir, 'a1', 'data.mdb'))).toBe(true);
      // Every actor starts afresh on the same directory: the acceptors' logs hold the whole history.
      await withKv({ ...cluster3, dataDir }, async (kv) => {
        for (let k = 0; k < 8; k++) expect(await kv.get(`r${k}`)).toBe(32 + k);
        expect(await kv.get('point')).toBe('after-receive');
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('compacts the log: acceptors trim it on disk, learners recover from their snapshots, and so does a restarted cluster', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'synod-kv-compact-test-'));
    const options = { ...cluster3, dataDir, core: { compactEvery: 5 } };
    /** Entries in an acceptor's log, from its state text. */
    const logSize = async (kv: KvCluster, id: string) => ((await kv.state(id)).describe.match(/@/g) ?? []).length;
    try {
      await withKv(options, async (kv) => {
        // One slot per put: each waits for the one before.
        for (let i = 0; i < 120; i++) await kv.put(`c${i % 6}`, i);
        await expect.poll(() => logSize(kv, 'a1')).toBeLessThan(40);
        // The main-thread checker forgets the trimmed slots too, so a long-running cluster does not grow it without bound.
        await expect.poll(() => kv.checker.retained.floor, { timeout: 30_000 }).toBeGreaterThan(0);
        expect(kv.checker.retained.slots).toBeLessThan(kv.checker.chosenSlots);
        const before = await kv.state('l1');
        const back = next(kv, 'restart', (e) => e.id === 'l1');
        await kv.crash('l1', 'terminate');
        await back;
        // It restarts from its latest snapshot, then catches up on the slots after it.
        await expect.poll(async () => (await kv.state('l1')).describe).toBe(before.describe);
        await kv.put('c0', 'last');
        expect(await kv.get('c0')).toBe('last');
      });
      const raw = open<Buffer, number>({ path: join(dataDir, 'a1'), noSubdir: false, encoding: 'binary', readOnly: true });
      const keys = [...raw.getKeys({})];
      await raw.close();
      expect(keys.length).toBeLessThan(60);
      expect(keys[keys.length - 1]).toBeGreaterThan(120);
      await withKv(options, async (kv) => {
        expect(await kv.get('c0')).toBe('last');
        for (let k = 1; k < 6; k++) expect(await kv.get(`c${k}`)).toBe(114 + k);
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('drops and counts malformed and spoofed peer messages, times out without a majority, and serves again', async () => {
    await withKv({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory', history: true, timeoutMs: 400, retryMs: 100 }, async (kv) => {
      expect(kv.dataDir).toBeNull();
      const b = { round: 1, proposer: 'p1' };
      const malformed: unknown[] = [
        null,
        'accept',
        { type: 'accept', from: 'p1', ballot: b },
        { type: 'accept', from: 'p1', ballot: { round: Number.NaN, proposer: 'p1' }, entries: [] },
        { type: 'accept', from: 'p1', ballot: b, entries: [{ slot: 0, value: [] }] },
        { type: 'accept', from: 'p1', ballot: b, entries: [{ slot: 0, value: 'not json' }] },
        { type: 'accept', from: 'p1', ballot: b, entries: [{ slot: -1, value: '[]' }] },
        { type: 'accept', from: 'p1', ballot: b, entries: [{ slot: 0, value: '[{"clientId":"c","seq":1,"op":{"f":"drop","key":"k"}}]' }] },
        { type: 'prepare', from: 'p1', ballot: b },
        { type: 'bogus', from: 'p1' },
      ];
      for (const raw of malformed) await kv.inject('a1', raw, 'p1');
      await kv.inject('a1', [{ type: 'prepare', from: 'p1', ballot: b, fromSlot: 'x' }, null], 'p1');
      await kv.inject('a1', { type: 'prepare', from: 'p2', ballot: { round: 1, proposer: 'p2' }, fromSlot: 0 }, 'p1');
      await kv.inject('a1', { type: 'prepare', from: 'x9', ballot: { round: 1, proposer: 'x9' }, fromSlot: 0 }, 'x9');
      const a1 = await kv.state('a1');
      expect(a1.counters.dropped.malformed).toBe(malformed.length + 2);
      expect(a1.counters.dropped.unknownSender).toBe(2);
      // timeoutMs is short so that the put without a majority times out soon; the
      // operations that have one may time out too on a busy machine, so they are
      // tried again (a timed-out put may still take effect, which changes nothing here).
      await untilAnswered(() => kv.put('k', 'before'));

      await kv.pause('a1');
      await kv.pause('a2');
      const timedOutBefore = kv.stats().timedOut;
      const err = await kv.put('k', 'lost?').catch((e: unknown) => e);
      expect((err as SynodError).code).toBe('SYNOD_TIMEOUT');
      expect(kv.stats().timedOut).toBe(timedOutBefore + 1);
      // Operations in flight at the crashed leader went elsewhere: re-sent, or (had it stepped down first, which a busy
      // machine can cause) rejected and redirected.
      expect(kv.stats().resends + kv.stats().rejected).toBeGreaterThan(0);
      await kv.resume('a1');
      await kv.resume('a2');
      await untilAnswered(() => kv.put('k', 'after'));
      expect(await untilAnswered(() => kv.get('k'))).toBe('after');
      const history = kv.history();
      expect(history.filter((e) => e.type === 'info')).toEqual([expect.objectContaining({ f: 'write', value: 'lost?' })]);
      expect(checkLinearizable(history).status).toBe('linearizable');
    });
  });
});
