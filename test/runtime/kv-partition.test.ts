/**
 * Partitions and link faults on the key-value cluster on worker threads:
 * the same cluster base as the single-decree cluster (partition, heal,
 * setLinkFaults), applied by each worker on its outgoing links. The leader is
 * cut off from every other actor while clients run; a new leader takes over;
 * after the heal the cluster serves, the history is linearizable and the log
 * safety checker saw nothing wrong. Nothing here waits for a deadline: every
 * operation has a timeout far above anything a loaded machine needs, and the
 * assertions are about what happened, not how fast.
 */
import { describe, expect, it } from 'vitest';
import { checkLinearizable } from '../../src/check/linearizability.js';
import type { Violation } from '../../src/check/types.js';
import { createKvCluster } from '../../src/runtime/kv-cluster.js';

describe('the key-value cluster under partitions and link faults', () => {
  it('survives its leader partitioned from everyone, and a heal, with a linearizable history', async () => {
    const kv = await createKvCluster({ proposers: 3, acceptors: 3, learners: 2, storage: 'memory', history: true, timeoutMs: 600_000 });
    const violations: Violation[] = [];
    kv.on('violation', (v) => violations.push(v));
    try {
      await kv.put('first', 'before');
      const old = kv.leader();
      expect(old).toMatch(/^p[123]$/);
      const others = ['p1', 'p2', 'p3', 'a1', 'a2', 'a3', 'l1', 'l2'].filter((id) => id !== old);
      const elected = new Promise<string>((resolve) => kv.on('elected', (e) => e.id !== old && resolve(e.id)));
      await kv.partition([old as string], others);

      // Clients keep going; their operations reach the log through a leader that can reach a majority.
      const ops = Array.from({ length: 4 }, async (_, c) => {
        for (let i = 0; i < 5; i++) {
          await kv.put(`k${c}`, `c${c}-${i}`);
          expect(await kv.get(`k${c}`)).toBe(`c${c}-${i}`);
        }
      });
      const during = await elected;
      expect(during).not.toBe(old);
      await Promise.all(ops);
      // The cut-off leader's sends were lost on its links, and counted.
      expect((await kv.state(old as string)).counters.dropped.link).toBeGreaterThan(0);

      await kv.heal();
      await kv.put('after', 'heal');
      expect(await kv.get('after')).toBe('heal');
      expect(await kv.get('first')).toBe('before');

      const verdict = checkLinearizable(kv.history(), { timeoutMs: 60_000 });
      expect(verdict.status).toBe('linearizable');
      expect(kv.checker.chosenSlots).toBeGreaterThan(0);
    } finally {
      await kv.close();
    }
    expect(violations).toEqual([]);
  });

  it('a leader cut off from the acceptors only steps down (CheckQuorum), another leads, and after the heal the cluster serves', async () => {
    // Before CheckQuorum, such a leader went on heartbeating the other proposers, which therefore never stood: nothing was written.
    const kv = await createKvCluster({ proposers: 3, acceptors: 3, learners: 2, storage: 'memory', history: true, timeoutMs: 600_000 });
    const violations: Violation[] = [];
    kv.on('violation', (v) => violations.push(v));
    try {
      await kv.put('first', 'before');
      const old = kv.leader() as string;
      const elected = new Promise<string>((resolve) => kv.on('elected', (e) => e.id !== old && resolve(e.id)));
      await kv.partition([old], ['a1', 'a2', 'a3']);
      for (let i = 0; i < 5; i++) await kv.put('k', i);
      expect(await elected).not.toBe(old);
      expect(await kv.get('k')).toBe(4);
      await kv.heal();
      await kv.put('after', 'heal');
      expect(await kv.get('first')).toBe('before');
      expect(checkLinearizable(kv.history(), { timeoutMs: 60_000 }).status).toBe('linearizable');
    } finally {
      await kv.close();
    }
    expect(violations).toEqual([]);
  });

  // That the rejoining proposer cannot then depose a leader the acceptors still hear is shown step by step in
  // test/transcripts/mp-prevote.txt; here a busy machine may legitimately change leaders, so only what holds regardless is asserted.
  it('a proposer partitioned through many election timeouts keeps its round (PreVote), and after the heal the cluster serves', async () => {
    const kv = await createKvCluster({ proposers: 3, acceptors: 3, learners: 1, storage: 'memory', history: true, timeoutMs: 600_000 });
    try {
      await kv.put('x', 0);
      const leader = kv.leader() as string;
      const lone = ['p1', 'p2', 'p3'].find((p) => p !== leader) as string;
      const roundOf = async (id: string) => Number(/roundMax=(\d+)/.exec((await kv.state(id)).describe)?.[1]);
      const before = await roundOf(lone);
      await kv.partition([lone], ['p1', 'p2', 'p3', 'a1', 'a2', 'a3', 'l1'].filter((id) => id !== lone));
      // Each election timeout sends three prevotes into the cut links: wait for ten attempts, however long they take.
      await until(async () => (await kv.state(lone)).counters.dropped.link >= 30);
      expect(await roundOf(lone)).toBe(before);
      await kv.heal();
      for (let i = 1; i <= 10; i++) await kv.put('x', i);
      expect(await kv.get('x')).toBe(10);
      expect(checkLinearizable(kv.history(), { timeoutMs: 60_000 }).status).toBe('linearizable');
    } finally {
      await kv.close();
    }
  });

  it('delivers through links that drop, duplicate and delay, and validates the fault rules', async () => {
    const kv = await createKvCluster({ proposers: 2, acceptors: 3, learners: 1, storage: 'memory', history: true, timeoutMs: 600_000 });
    try {
      await kv.put('x', 0);
      const leader = kv.leader() as string;
      for (const a of ['a1', 'a2', 'a3']) await kv.setLinkFaults(leader, a, { drop: 0.2, dup: 0.3, delay: 0.3, delayMs: 3 });
      for (let i = 1; i <= 20; i++) await kv.put('x', i);
      expect(await kv.get('x')).toBe(20);
      const counters = (await kv.state(leader)).counters;
      expect(counters.duplicated + counters.delayed + counters.dropped.link).toBeGreaterThan(0);
      await expect(kv.setLinkFaults(leader, 'a1', { drop: 2 })).rejects.toMatchObject({ code: 'SYNOD_INVALID_ARGUMENT' });
      expect(checkLinearizable(kv.history(), { timeoutMs: 60_000 }).status).toBe('linearizable');
    } finally {
      await kv.close();
    }
  });
});

/** Waits until `cond()` holds, polling; the bound on polls only keeps a hang from lasting until the test's own timeout. */
async function until(cond: () => Promise<boolean>, polls = 20_000): Promise<void> {
  for (let i = 0; !(await cond()); i++) {
    if (i >= polls) throw new Error(`condition not reached after ${polls} polls`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
