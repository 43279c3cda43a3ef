/**
 * Crashes on a live cluster with the safety checker watching: every crash
 * mode and crash point, repeatedly, and hundreds of kills of actors in the
 * middle of their writes. Whatever dies, the decided value stays decided, the
 * actor comes back on a new thread and serves, and nothing hangs.
 */
import { describe, expect, it } from 'vitest';
import type { Violation } from '../../src/check/types.js';
import type { Cluster } from '../../src/runtime/cluster.js';
import type { CrashEvent } from '../../src/runtime/supervisor.js';
import type { CrashMode } from '../../src/runtime/wire.js';
import { nextEvent, withCluster } from './fixtures/helpers.js';

/** Watches a cluster for crashes, violations and decisions. */
function watch(cluster: Cluster) {
  const seen = { crashes: [] as CrashEvent[], violations: [] as Violation[], decided: new Set<unknown>() };
  cluster.on('crash', (e) => seen.crashes.push(e));
  cluster.on('violation', (v) => seen.violations.push(v));
  cluster.on('decide', (e) => seen.decided.add(e.value));
  return seen;
}

describe('crashes on a live cluster', () => {
  it('survives every crash mode and crash point, repeatedly, with the decided value intact', async () => {
    await withCluster({ proposers: 2, acceptors: 3, learners: 1, supervisor: { maxRestarts: 1000 } }, async (cluster) => {
      const seen = watch(cluster);
      let n = 0;

      // A learner crashing after its decision is durable but before reporting it still has it after the restart.
      await cluster.crash('l1', 'after-persist');
      const learnerBack = nextEvent(cluster, 'restart', 'l1');
      expect(await cluster.propose('v0', { proposer: 'p1' })).toBe('v0');
      await learnerBack;
      expect((await cluster.state('l1')).describe).toContain('decided=1.p1="v0"');

      /** Crashes `id` by `how` (with `trigger` making a crash point fire), then checks it is back on a new thread and the decision stands. */
      const crashAndCheck = async (id: string, how: CrashMode, trigger?: () => Promise<unknown>) => {
        const before = await cluster.state(id);
        const crashed = nextEvent(cluster, 'crash', id);
        const restarted = nextEvent(cluster, 'restart', id);
        await cluster.crash(id, how);
        await trigger?.();
        expect((await crashed).how).toBe(how);
        await restarted;
        const after = await cluster.state(id);
        expect(after.threadId).not.toBe(before.threadId);
        expect(after.incarnation).toBe(before.incarnation + 1);
        // It serves: a proposer that forgot everything runs a full round through every acceptor and learns "v0".
        const proposer = id.startsWith('p') ? id : 'p2';
        if (!id.startsWith('p')) await cluster.restart(proposer);
        expect(await cluster.propose(`v${++n}`, { proposer })).toBe('v0');
      };
      /** Makes acceptors and learners receive and persist: a restarted proposer runs a new round. */
      const newRound = (p: string) => async () => {
        await cluster.restart(p);
        return cluster.propose(`v${++n}`, { proposer: p });
      };

      for (let round = 0; round < 2; round++) {
        for (const how of ['exception', 'exit', 'terminate'] as const) {
          for (const id of ['p1', 'p2', 'a1', 'a2', 'a3', 'l1']) await crashAndCheck(id, how);
        }
        for (const a of ['a1', 'a2', 'a3']) {
          await crashAndCheck(a, 'after-receive', newRound('p1'));
          await crashAndCheck(a, 'after-persist', newRound('p1'));
        }
        await crashAndCheck('l1', 'after-receive', newRound('p1'));
        for (const p of ['p1', 'p2']) {
          // The request itself is the input that trips the point; it is sent again after the restart.
          await crashAndCheck(p, 'after-receive', () => cluster.propose(`v${++n}`, { proposer: p }));
          // A proposer persists its round before its prepares leave: restart it so its next request starts one.
          await cluster.restart(p);
          await crashAndCheck(p, 'after-persist', () => cluster.propose(`v${++n}`, { proposer: p }));
        }
      }

      expect(seen.crashes.length).toBe(1 + 2 * (18 + 6 + 1 + 4));
      expect(seen.crashes.every((c) => c.cause.message.length > 0)).toBe(true);
      // l1 crashed before reporting its decision (and reports none after), but it kept it.
      expect((await cluster.state('l1')).describe).toContain('decided=1.p1="v0"');
      expect(seen.decided.size).toBe(0);
      expect(cluster.checker.finish(0)).toEqual([]);
      expect(seen.violations).toEqual([]);
    });
  });

  it('kills actors 200+ times in the middle of writes: no hang, no abort, every actor back and serving', async () => {
    const options = { proposers: 2, acceptors: 3, learners: 1, supervisor: { maxRestarts: 10_000, backoffMaxMs: 10 }, core: { phaseTimeoutMs: 30, backoffBaseMs: 2, backoffMaxMs: 20 } } as const;
    await withCluster(options, async (cluster) => {
      const seen = watch(cluster);
      const { proposers, acceptors } = cluster.members;
      let kills = 0;
      const kill = (id: string) => {
        kills++;
        const restarted = nextEvent(cluster, 'restart', id, 30_000);
        void cluster.crash(id, 'terminate');
        return restarted;
      };
      // The first acceptor write of a round to become durable finds its siblings in the middle of theirs: kill them all then.
      let acceptorsKilled: Promise<unknown>[] | null = null;
      cluster.on('durable', (e) => {
        if (acceptorsKilled !== null || !acceptors.includes(e.id)) return;
        acceptorsKilled = acceptors.filter((a) => cluster.status(a) === 'running').map(kill);
      });

      expect(await cluster.propose('v0')).toBe('v0');
      for (let i = 1; kills < 200; i++) {
        acceptorsKilled = null;
        // Killed proposers forget that "v0" was chosen, so the requests re-sent to them after their restart run new rounds of writes.
        const proposersKilled = proposers.map(kill);
        const answers = await Promise.all(proposers.map((p) => cluster.propose(`v${i}`, { proposer: p })));
        expect(answers).toEqual(['v0', 'v0']);
        await Promise.all([...proposersKilled, ...(acceptorsKilled ?? [])]);
      }

      expect(kills).toBeGreaterThanOrEqual(200);
      expect(seen.crashes.length).toBe(kills);
      expect(seen.crashes.every((c) => c.how === 'terminate')).toBe(true);
      for (const id of ['p1', 'p2', 'a1', 'a2', 'a3', 'l1']) {
        expect(cluster.status(id)).toBe('running');
        expect((await cluster.state(id)).id).toBe(id);
      }
      await cluster.restart('p1');
      expect(await cluster.propose('last')).toBe('v0');
      expect([...seen.decided]).toEqual(['v0']);
      expect(cluster.checker.finish(0)).toEqual([]);
      expect(seen.violations).toEqual([]);
    });
  });
});
