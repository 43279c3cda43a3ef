/**
 * The supervisor's policy on a live cluster: restart intensity, the guard
 * against crash loops at start-up, requests to actors it gave up on,
 * one_for_all, planned restarts that are not crashes, and a successor that
 * starts before the thread of an actor that parked quietly is terminated.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { createCluster } from '../../src/runtime/cluster.js';
import type { CrashEvent, RestartEvent } from '../../src/runtime/supervisor.js';
import { SynodError } from '../../src/errors.js';
import { nextEvent, withCluster } from './fixtures/helpers.js';

const small = { proposers: 2, acceptors: 3, learners: 1 } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('supervisor', () => {
  it('fails an actor that exceeds its restart intensity, does not restart it, and the rest still decide', async () => {
    await withCluster({ ...small, supervisor: { maxRestarts: 2, windowMs: 60_000 } }, async (cluster) => {
      const restarts: RestartEvent[] = [];
      cluster.on('restart', (e) => restarts.push(e));
      for (let i = 0; i < 2; i++) {
        const back = nextEvent(cluster, 'restart', 'a1');
        await cluster.crash('a1');
        await back;
      }
      const failed = nextEvent(cluster, 'failed', 'a1');
      await cluster.crash('a1');
      const { cause } = await failed;
      expect(cause.message).toContain('maxRestarts 2');
      expect(cause.message).toContain('injected crash');
      await sleep(100);
      expect(restarts.filter((r) => r.id === 'a1')).toHaveLength(2);
      expect(cluster.status('a1')).toBe('failed');
      await expect(cluster.state('a1')).rejects.toMatchObject({ code: 'SYNOD_ACTOR_FAILED' });
      // Crashing a failed actor again is a no-op, not an error.
      await cluster.crash('a1');
      expect(await cluster.propose('without a1')).toBe('without a1');
      // A user restart revives it.
      await cluster.restart('a1');
      expect((await cluster.state('a1')).describe).toContain('a1 acceptor');
    });
  });

  it('rejects a request in flight to a proposer it gave up on, and new ones at once', async () => {
    await withCluster({ ...small, supervisor: { maxRestarts: 0 } }, async (cluster) => {
      await cluster.pause('p2');
      const pending = cluster.propose('x', { proposer: 'p2' }).then(String, (e: SynodError) => e);
      await cluster.crash('p2', 'exit');
      const err = await pending;
      expect(err).toBeInstanceOf(SynodError);
      expect((err as SynodError).code).toBe('SYNOD_ACTOR_FAILED');
      expect((err as Error).message).toContain('p2');
      await expect(cluster.propose('y', { proposer: 'p2' })).rejects.toMatchObject({ code: 'SYNOD_ACTOR_FAILED' });
      expect(await cluster.propose('z', { proposer: 'p1' })).toBe('z');
    });
  });

  it('re-sends a request in flight to a crashed proposer after its restart', async () => {
    await withCluster(small, async (cluster) => {
      await cluster.pause('p1');
      const pending = cluster.propose('resent');
      const back = nextEvent(cluster, 'restart', 'p1');
      await cluster.crash('p1', 'terminate');
      await back;
      expect(await pending).toBe('resent');
    });
  });

  it('starts without an actor that dies during start-up every time, when a quorum starts, and reports it failed with the cause', async () => {
    await withCluster({ ...small, testHooks: { failStartup: { a2: { after: 0 } } } }, async (cluster) => {
      expect(cluster.status('a2')).toBe('failed');
      expect(cluster.failure('a2')?.message).toContain('a2 died during start-up 3 times in a row');
      expect(cluster.failure('a2')?.message).toContain('test hook: a2 fails during start-up');
      expect(cluster.failure('a1')).toBeNull();
      expect(await cluster.propose('v')).toBe('v');
    });
  });

  it('stops a cluster when too few actors start to make a quorum, with every cause', async () => {
    const err = await createCluster({ ...small, testHooks: { failStartup: { a1: { after: 0 }, a2: { after: 0 } } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodError);
    expect((err as SynodError).code).toBe('SYNOD_START_FAILED');
    expect((err as Error).message).toContain('cannot run without a majority of the 3 acceptors (1 started)');
    expect((err as Error).message).toContain('a1 died during start-up 3 times in a row');
    expect((err as Error).message).toContain('a2 died during start-up 3 times in a row');
  });

  it('gives up on actors not ready within startTimeoutMs, so a start cannot hang', async () => {
    // No worker thread boots, loads lmdb and opens its store within 1 ms.
    const err = await createCluster({ ...small, supervisor: { startTimeoutMs: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodError);
    expect((err as SynodError).code).toBe('SYNOD_START_FAILED');
    expect((err as Error).message).toContain('did not become ready within startTimeoutMs (1 ms)');
  });

  it('stops an actor caught in a crash loop at restart, and restarts one that recovers from it', async () => {
    const failStartup = { a1: { after: 1 }, a2: { after: 1, times: 2 } };
    await withCluster({ ...small, supervisor: { maxStartupFailures: 3 }, testHooks: { failStartup } }, async (cluster) => {
      const crashes: CrashEvent[] = [];
      cluster.on('crash', (e) => crashes.push(e));
      const failed = nextEvent(cluster, 'failed', 'a1');
      await cluster.crash('a1');
      const { cause } = await failed;
      expect(cause.message).toContain('a1 died during start-up 3 times in a row');
      expect(cause.message).toContain('test hook');
      expect(crashes.filter((c) => c.id === 'a1')).toHaveLength(4);

      const back = nextEvent(cluster, 'restart', 'a2');
      await cluster.crash('a2');
      await back;
      expect((await cluster.state('a2')).incarnation).toBe(4);
      expect(await cluster.propose('v')).toBe('v');
    });
  });

  it('one_for_all restarts every actor when one crashes, and the decision stands', async () => {
    await withCluster({ ...small, supervisor: { policy: 'one_for_all' } }, async (cluster) => {
      expect(await cluster.propose('before')).toBe('before');
      const ids = ['p1', 'p2', 'a1', 'a2', 'a3', 'l1'];
      const before = await Promise.all(ids.map((id) => cluster.state(id)));
      const restarted = Promise.all(ids.map((id) => nextEvent(cluster, 'restart', id)));
      await cluster.crash('a3', 'exit');
      const events = await restarted;
      expect(events.filter((e) => !e.planned).map((e) => e.id)).toEqual(['a3']);
      const after = await Promise.all(ids.map((id) => cluster.state(id)));
      after.forEach((r, i) => expect(r.threadId).not.toBe(before[i]?.threadId));
      expect(await cluster.propose('after', { proposer: 'p2' })).toBe('before');
    });
  });

  it('does not count a planned restart as a crash', async () => {
    await withCluster({ ...small, supervisor: { maxRestarts: 0 } }, async (cluster) => {
      const crashes: CrashEvent[] = [];
      cluster.on('crash', (e) => crashes.push(e));
      const restarts: RestartEvent[] = [];
      cluster.on('restart', (e) => restarts.push(e));
      for (let i = 0; i < 3; i++) await cluster.restart('a1');
      expect(crashes).toEqual([]);
      expect(restarts.map((r) => [r.id, r.planned])).toEqual([
        ['a1', true],
        ['a1', true],
        ['a1', true],
      ]);
      expect(cluster.status('a1')).toBe('running');
      expect((await cluster.state('a1')).incarnation).toBe(4);
    });
  });
  it('starts the successor of an actor that parked with no write in flight before terminating its thread, and the successor recovers the durable record', async () => {
    // No backoff: the successor starts as soon as a1 is gone (with a backoff, the thread would be torn down while the restart waits).
    await withCluster({ ...small, supervisor: { backoffBaseMs: 0, backoffMaxMs: 0 } }, async (cluster) => {
      expect(await cluster.propose('kept')).toBe('kept');
      // A majority decides: wait until a1's own acceptance is durable, so that no write of it is in flight.
      await vi.waitFor(async () => expect(JSON.stringify((await cluster.state('a1')).durable)).toContain('kept'), { timeout: 60_000, interval: 20 });
      const order: string[] = [];
      const terminate = Worker.prototype.terminate;
      const spy = vi.spyOn(Worker.prototype, 'terminate').mockImplementation(function (this: Worker) {
        order.push('terminate');
        return terminate.call(this);
      });
      try {
        const back = nextEvent(cluster, 'restart', 'a1').then(() => order.push('restart'));
        await cluster.crash('a1', 'terminate');
        await back;
        await vi.waitFor(() => expect(order).toContain('terminate'), { timeout: 60_000, interval: 20 });
      } finally {
        spy.mockRestore();
      }
      expect(order).toEqual(['restart', 'terminate']);
      const state = await cluster.state('a1');
      expect(state.incarnation).toBe(2);
      expect(JSON.stringify(state.durable)).toContain('kept');
    });
  });
});
