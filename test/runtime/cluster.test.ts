/**
 * The public API of the worker-thread runtime against real worker threads
 * and real LMDB: deciding, state reports, option and argument validation,
 * partitions and link faults, pause/resume, the storage modes, close.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { Violation } from '../../src/check/types.js';
import { createCluster, type ClusterOptions } from '../../src/runtime/cluster.js';
import { SynodError } from '../../src/errors.js';
import { nextEvent, withCluster } from './fixtures/helpers.js';

const small = { proposers: 2, acceptors: 3, learners: 1 } as const;

describe('a cluster on worker threads', () => {
  it('decides one value with 2 proposers, 3 acceptors and 1 learner, each actor on its own thread', async () => {
    await withCluster(small, async (cluster) => {
      const violations: Violation[] = [];
      cluster.on('violation', (v) => violations.push(v));
      const learned = nextEvent(cluster, 'decide', 'l1');
      const [a, b] = await Promise.all([cluster.propose('apple', { proposer: 'p1' }), cluster.propose('banana', { proposer: 'p2' })]);
      // The proposers' answers and the learner's decision travel on different ports: wait for the decision too.
      await learned;
      expect(a).toBe(b);
      expect(['apple', 'banana']).toContain(a);

      const ids = ['p1', 'p2', 'a1', 'a2', 'a3', 'l1'];
      const reports = await Promise.all(ids.map((id) => cluster.state(id)));
      const threads = reports.map((r) => r.threadId);
      expect(new Set(threads).size).toBe(ids.length);
      expect(threads).not.toContain(threadId);
      expect(reports.map((r) => r.role)).toEqual(['proposer', 'proposer', 'acceptor', 'acceptor', 'acceptor', 'learner']);
      expect(reports[5]?.describe).toContain(`decided=`);
      expect(reports[5]?.describe).toContain(JSON.stringify(a));
      // Acceptors reply only once their writes are durable, so at least a majority has persisted.
      expect(reports.slice(2, 5).filter((r) => r.counters.persisted > 0).length).toBeGreaterThanOrEqual(2);
      expect(cluster.decisions.get('l1')?.value).toBe(a);
      expect(cluster.checker.finish(0)).toEqual([]);
      expect(violations).toEqual([]);
    });
  });

  it('rejects invalid options with one readable message before any worker starts', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'synod-options-test-'));
    const dataDir = join(parent, 'never-created');
    try {
      const bad = { proposers: 0, acceptors: 'three', learners: 1.5, dataDir, mailboxLimit: -1, supervisor: { policy: 'rest_for_one' }, colour: 'red' };
      const err = await createCluster(bad as unknown as ClusterOptions).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SynodError);
      expect((err as SynodError).code).toBe('SYNOD_INVALID_OPTIONS');
      const message = (err as Error).message;
      for (const path of ['proposers', 'acceptors', 'learners', 'mailboxLimit', 'supervisor.policy', 'colour']) expect(message).toContain(path);
      // Nothing was started: not even the data directory exists.
      expect(existsSync(dataDir)).toBe(false);

      const hook = await createCluster({ ...small, testHooks: { failStartup: { z9: { after: 0 } } } }).catch((e: unknown) => e);
      expect((hook as SynodError).code).toBe('SYNOD_INVALID_OPTIONS');
      expect((hook as Error).message).toContain('z9');
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('refuses bad propose arguments, times out without a majority and decides once it is back', async () => {
    await withCluster({ ...small, maxValueBytes: 1024 }, async (cluster) => {
      const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: SynodError) => e.code);
      expect(await code(cluster.propose('x', { proposer: 'a1' }))).toBe('SYNOD_INVALID_ARGUMENT');
      expect(await code(cluster.propose(Number.NaN))).toBe('SYNOD_INVALID_ARGUMENT');
      expect(await code(cluster.propose('x'.repeat(2000)))).toBe('SYNOD_INVALID_ARGUMENT');
      expect(await code(cluster.state('nobody'))).toBe('SYNOD_INVALID_ARGUMENT');

      await cluster.pause('a1');
      await cluster.pause('a2');
      expect(await code(cluster.propose('late', { timeoutMs: 300 }))).toBe('SYNOD_TIMEOUT');
      const report = await cluster.state('a1');
      expect(report.paused).toBe(true);
      expect(report.mailbox.length).toBeGreaterThan(0);
      await cluster.resume('a1');
      await cluster.resume('a2');
      expect(await cluster.propose('late')).toBe('late');
    });
  });

  it('partitions and heals, and still decides safely with drop, dup and delay faults on every link', async () => {
    await withCluster({ ...small, core: { phaseTimeoutMs: 40, backoffBaseMs: 5 } }, async (cluster) => {
      await cluster.partition(['p1'], ['a1', 'a2', 'a3']);
      await expect(cluster.propose('cut off', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'SYNOD_TIMEOUT' });
      expect((await cluster.state('p1')).counters.dropped.link).toBeGreaterThan(0);

      // The faults go in before the heal: p1 still retries 'cut off', and could get it
      // chosen through clean links before they were set, leaving no traffic to fault.
      const { proposers, acceptors, learners } = cluster.members;
      const faults = { drop: 0.2, dup: 0.3, delay: 0.5, delayMs: 15 };
      for (const p of proposers) for (const a of acceptors) await Promise.all([cluster.setLinkFaults(p, a, faults), cluster.setLinkFaults(a, p, faults)]);
      for (const a of acceptors) for (const l of learners) await cluster.setLinkFaults(a, l, faults);
      // One link that surely duplicates and delays, so the counters below do not depend on chance.
      await cluster.setLinkFaults('p1', 'a1', { drop: 0, dup: 1, delay: 1, delayMs: 15 });
      await cluster.heal();
      const decided = await Promise.all([cluster.propose('x', { proposer: 'p1' }), cluster.propose('y', { proposer: 'p2' })]);
      expect(decided[0]).toBe(decided[1]);
      const counters = (await cluster.state('p1')).counters;
      expect(counters.duplicated).toBeGreaterThan(0);
      expect(counters.delayed).toBeGreaterThan(0);
      await expect(cluster.setLinkFaults('p1', 'a1', { drop: 2 })).rejects.toMatchObject({ code: 'SYNOD_INVALID_ARGUMENT' });
      expect(cluster.checker.finish(0)).toEqual([]);
    });
  });

  it("with storage 'memory' an acceptor forgets its promise on a crash, and the checker says so", async () => {
    await withCluster({ ...small, storage: 'memory' }, async (cluster) => {
      expect(cluster.dataDir).toBeNull();
      // The decision needs only a majority: wait until a1 too has reported a durable promise, so that there is one to forget.
      const a1Durable = new Promise((resolve) => cluster.on('durable', (e) => e.id === 'a1' && resolve(e)));
      await cluster.propose('v');
      await a1Durable;
      const kinds: string[] = [];
      cluster.on('violation', (v) => kinds.push(v.kind));
      const restarted = new Promise((resolve) => cluster.once('restart', resolve));
      await cluster.crash('a1', 'terminate');
      await restarted;
      expect((await cluster.state('a1')).durable).toBeNull();
      expect(kinds).toContain('promise-regressed');
    });
  });

  it("with durable: false it still decides, and close rejects what is pending and is idempotent", async () => {
    const cluster = await createCluster({ ...small, durable: false });
    let pending: Promise<string> = Promise.resolve('not proposed');
    try {
      expect(await cluster.propose(42)).toBe(42);
      await cluster.pause('p2');
      pending = cluster.propose(43, { proposer: 'p2' }).then(String, (e: SynodError) => e.code);
    } finally {
      await Promise.all([cluster.close(), cluster.close()]);
    }
    expect(await pending).toBe('SYNOD_CLOSED');
    await expect(cluster.propose(44)).rejects.toMatchObject({ code: 'SYNOD_CLOSED' });
    await expect(cluster.state('a1')).rejects.toMatchObject({ code: 'SYNOD_CLOSED' });
    expect(existsSync(cluster.dataDir as string)).toBe(false);
  });
});
