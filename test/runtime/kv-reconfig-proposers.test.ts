/**
 * Changing the proposers of the key-value store on real worker threads and
 * LMDB: the leader's own proposer replaced under load (the history
 * linearizable, no acknowledged write lost, the removed proposer stopped for
 * good with its store retired), then the remaining old proposers paused so
 * that the new one must lead; and a data directory reopened after a
 * proposer change starts the recorded proposers.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KvCluster } from '../../src/runtime/kv-cluster.js';
import { expectSafeEnd, next, refusal, retired, runClients, until, withKv } from './fixtures/kv.js';

/** Actor `id`'s newest view once it knows view `epoch` or a later one (an actor that lags catches up). */
async function viewOf(kv: KvCluster, id: string, epoch: number): Promise<unknown> {
  for (let i = 0; i < 2000; i++) {
    const view = (await kv.state(id)).view;
    if (view !== null && view.epoch >= epoch) return view;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${id} did not learn view ${epoch}`);
}

describe('changing the proposers of the key-value store on worker threads', () => {
  it("replaces the leader's proposer under load, then the new proposer leads once the old ones are paused: linearizable, nothing acknowledged lost", async () => {
    await withKv({ proposers: 3, acceptors: 3, learners: 2, history: true, concurrency: 16 }, async (kv) => {
      const clients = runClients(kv, 6, Number.MAX_SAFE_INTEGER);
      // Stopped whatever happens: a failed expectation must not leave them running against a closed cluster.
      try {
        await until(() => clients.done >= 200);
        await until(() => kv.leader() !== null);
        const leader = kv.leader() as string;
        const others = ['p1', 'p2', 'p3'].filter((id) => id !== leader);
        // A new leader is elected among the proposers of the new view.
        const elected = next(kv, 'elected', (e) => e.id !== leader);
        elected.catch(() => {});
        const view = await kv.reconfigure({ add: ['p4'], remove: [leader] });
        expect(view).toMatchObject({ epoch: 1, proposers: [...others, 'p4'], acceptors: ['a1', 'a2', 'a3'], learners: ['l1', 'l2'] });
        expect(view.from).toBeGreaterThan(0);
        expect(kv.view()).toEqual(view);
        expect(kv.members).toEqual({ proposers: [...others, 'p4'], acceptors: ['a1', 'a2', 'a3'], learners: ['l1', 'l2'] });
        expect([...others, 'p4']).toContain((await elected).id);
        // The removed proposer's thread is stopped for good, its store kept under a retired name, its id not used again.
        expect(kv.status(leader)).toBe('stopped');
        expect(retired(kv, leader, 1)).toBe(true);
        expect(await refusal(kv.state(leader))).toMatch(/^SYNOD_CLOSED: .*removed from the cluster/);
        expect(await refusal(kv.reconfigure({ add: [leader] }))).toMatch(/^SYNOD_INVALID_ARGUMENT: .*was removed before; an id is used once/);
        // The learners and the new proposer know the new view, proposers included.
        for (const id of ['l1', 'l2', 'p4']) expect(await viewOf(kv, id, 1)).toEqual(view);
        // With the other old proposers paused, only p4 can lead: the clients go on through it.
        const p4leads = next(kv, 'elected', (e) => e.id === 'p4');
        p4leads.catch(() => {});
        await Promise.all(others.map((id) => kv.pause(id)));
        if (kv.leader() !== 'p4') expect((await p4leads).id).toBe('p4');
        const paused = clients.done;
        await until(() => clients.done >= paused + 200);
        expect(kv.leader()).toBe('p4');
        await Promise.all(others.map((id) => kv.resume(id)));
        await expectSafeEnd(kv, clients);
        expect(kv.checker.knownViews.at(-1)?.members.proposers).toEqual([...others, 'p4']);
      } finally {
        await clients.stop();
      }
    });
  });

  it('reopening the data directory after a proposer change starts the recorded proposers', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'synod-reconfig-proposers-'));
    try {
      const shape = { proposers: 2, acceptors: 3, learners: 1, dataDir } as const;
      const before = await withKv(shape, async (kv) => {
        await kv.put('x', 1);
        const v = await kv.reconfigure({ add: ['p3'], remove: ['p1'] });
        await kv.put('x', 2);
        return v;
      });
      expect(before).toMatchObject({ epoch: 1, proposers: ['p2', 'p3'] });
      const record = JSON.parse(readFileSync(join(dataDir, 'synod-members.json'), 'utf8')) as { view: unknown; hosted: unknown };
      expect(record.view).toEqual(before);
      expect(record.hosted).toEqual({ proposers: ['p2', 'p3'], acceptors: ['a1', 'a2', 'a3'], learners: ['l1'] });
      await withKv({ ...shape, check: false }, async (kv) => {
        expect(kv.view()).toEqual(before);
        expect(kv.members).toEqual({ proposers: ['p2', 'p3'], acceptors: ['a1', 'a2', 'a3'], learners: ['l1'] });
        expect(kv.status('p3')).toBe('running');
        expect(() => kv.status('p1')).toThrow(/no actor "p1"/);
        expect(await kv.get('x')).toBe(2);
        // p2 paused: the proposer the reconfiguration added leads.
        const p3leads = next(kv, 'elected', (e) => e.id === 'p3');
        p3leads.catch(() => {});
        await kv.pause('p2');
        if (kv.leader() !== 'p3') await p3leads;
        await kv.put('x', 3);
        expect(await kv.get('x')).toBe(3);
        await kv.resume('p2');
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
