/**
 * Health on worker threads, for both clusters: a partitioned link is
 * suspected while both its ends stay alive, an actor cut off from every
 * peer is suspected though its thread runs, a crashed actor is dead and
 * then alive again, and a crashed system is dead with all its actors.
 * Nothing here waits for a deadline: every test awaits the events or the
 * health it expects, however long a busy machine takes. The timing rules
 * themselves are tested without threads (test/host/failure-detector.test.ts,
 * test/runtime/health-monitor.test.ts).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClusterHealth, HealthChange } from '../../src/runtime/health.js';
import { createKvCluster } from '../../src/runtime/kv-cluster.js';
import { createCluster } from '../../src/runtime/cluster.js';
import type { SupervisedCluster } from '../../src/runtime/supervised.js';
import { withCluster } from './fixtures/helpers.js';

type Watched = Pick<SupervisedCluster<never, never>, 'health'> & {
  on(event: 'suspect' | 'alive', listener: (c: HealthChange) => void): unknown;
  off(event: 'suspect' | 'alive', listener: (c: HealthChange) => void): unknown;
};

/** Resolves with the cluster's health once `holds` is true of it, checking now and after every health event. */
function until(cluster: Watched, holds: (h: ClusterHealth) => boolean): Promise<ClusterHealth> {
  return new Promise((resolve) => {
    const check = () => {
      const h = cluster.health();
      if (!holds(h)) return;
      cluster.off('suspect', check);
      cluster.off('alive', check);
      resolve(h);
    };
    cluster.on('suspect', check);
    cluster.on('alive', check);
    check();
  });
}

/** Every health event, for looking at afterwards. */
function record(cluster: Watched): HealthChange[] {
  const seen: HealthChange[] = [];
  cluster.on('suspect', (c) => seen.push(c));
  cluster.on('alive', (c) => seen.push(c));
  return seen;
}

const link = (h: ClusterHealth, from: string, to: string) => h.links.find((l) => l.from === from && l.to === to);

/** Small timings, so that the tests do not sit idle; nothing asserts on them. */
const FAST = { pingEveryMs: 20, suspectAfterMs: 300 };

describe('health on worker threads', () => {
  it.each(['port', 'hub', 'ring'] as const)('suspects both directions of a partitioned link while both ends are alive, and clears them after the heal (%s transport)', async (transport) => {
    await withCluster({ proposers: 2, acceptors: 3, learners: 1, storage: 'memory', transport, failureDetector: FAST }, async (cluster) => {
      const seen = record(cluster);
      await cluster.partition(['a1'], ['p1']);
      // Both directions are cut; the other peers still hear both ends, so both stay alive.
      const cut = await until(cluster, (h) => link(h, 'a1', 'p1')?.status === 'suspected' && link(h, 'p1', 'a1')?.status === 'suspected' && h.actors.a1?.status === 'alive' && h.actors.p1?.status === 'alive');
      expect(cut.actors.a1?.unheardBy).toContain('p1');
      expect(cut.actors.p1?.unheardBy).toContain('a1');
      expect(seen).toContainEqual(expect.objectContaining({ target: { kind: 'link', from: 'a1', to: 'p1' }, status: 'suspected' }));
      // Neither thread ever went down: nothing was reported dead.
      expect(seen.filter((c) => c.status === 'dead')).toEqual([]);
      await cluster.heal();
      await until(cluster, (h) => link(h, 'a1', 'p1')?.status === 'alive' && link(h, 'p1', 'a1')?.status === 'alive');
      expect(seen).toContainEqual(expect.objectContaining({ target: { kind: 'link', from: 'a1', to: 'p1' }, status: 'alive', was: 'suspected' }));

      // One direction only: l1's messages to p2 are all lost, p2's to l1 arrive.
      await cluster.setLinkFaults('l1', 'p2', { drop: 1 });
      const oneWay = await until(cluster, (h) => link(h, 'l1', 'p2')?.status === 'suspected' && link(h, 'p2', 'l1')?.status === 'alive' && h.actors.l1?.status === 'alive');
      expect(oneWay.actors.l1?.unheardBy).toContain('p2');
      expect(oneWay.actors.p2?.unheardBy).not.toContain('l1');
    });
  });

  it('suspects an actor that no peer hears though its thread runs, and reports a crashed one dead, then alive', async () => {
    // On disk: the acceptor crashed below keeps its promises.
    await withCluster({ proposers: 2, acceptors: 3, learners: 1, failureDetector: FAST }, async (cluster) => {
      const seen = record(cluster);
      await cluster.partition(['a2'], ['p1', 'p2', 'l1']);
      const cutOff = await until(cluster, (h) => h.actors.a2?.status === 'suspected');
      expect(cutOff.actors.a2?.why).toMatch(/no live peer hears it/);
      expect(cluster.status('a2')).toBe('running');
      await cluster.heal();
      await until(cluster, (h) => h.actors.a2?.status === 'alive');

      await cluster.crash('a3', 'terminate');
      // The supervisor saw the thread exit before crash() resolved: the death is reported by then.
      expect(seen).toContainEqual(expect.objectContaining({ target: { kind: 'actor', id: 'a3' }, status: 'dead', why: expect.stringMatching(/thread exited \(terminate\)/) }));
      await until(cluster, (h) => h.actors.a3?.status === 'alive');
      // Dead first; a restart slow enough for the peers to suspect the old thread shows as suspected until they hear the new one.
      const a3 = seen.filter((c) => c.target.kind === 'actor' && c.target.id === 'a3').map((c) => c.status);
      expect(a3[0]).toBe('dead');
      expect(a3.at(-1)).toBe('alive');
    });
  });

  it('crashes a whole system of the key-value cluster at once: every actor on it and the system are dead, then serve again', async () => {
    const kv = await createKvCluster({
      proposers: 3,
      acceptors: 3,
      learners: 3,
      // On disk: a1 comes back with its promises.
      failureDetector: FAST,
      systems: { s1: ['p1', 'a1', 'l1'], s2: ['p2', 'a2', 'l2'], s3: ['p3', 'a3', 'l3'] },
    });
    try {
      const seen = record(kv);
      await kv.put('k', 'before');
      await kv.crashSystem('s1');
      for (const id of ['p1', 'a1', 'l1']) expect(seen).toContainEqual(expect.objectContaining({ target: { kind: 'actor', id }, status: 'dead' }));
      expect(seen).toContainEqual(expect.objectContaining({ target: { kind: 'system', id: 's1' }, status: 'dead' }));
      // The other machines were not touched.
      expect(seen.filter((c) => c.status === 'dead' && c.target.kind !== 'link').map((c) => (c.target.kind === 'link' ? '' : c.target.id)).sort()).toEqual(['a1', 'l1', 'p1', 's1']);
      // Two machines out of three are a majority: the store serves, and s1 comes back.
      await kv.put('k', 'after');
      expect(await kv.get('k')).toBe('after');
      const back = await until(kv, (h) => h.systems.s1?.status === 'alive' && ['p1', 'a1', 'l1'].every((id) => h.actors[id]?.status === 'alive'));
      expect(back.systems.s1?.actors).toEqual(['p1', 'a1', 'l1']);
    } finally {
      await kv.close();
    }
  });

  it('refuses bad systems and unknown system names with clear errors', async () => {
    // Refused before anything is made on disk: the parent of the temporary data directory stays empty.
    const parent = mkdtempSync(join(tmpdir(), 'synod-health-'));
    await expect(createKvCluster({ proposers: 1, acceptors: 1, learners: 1, tempDirParent: parent, systems: { s1: ['a1'], s2: ['a1'] } })).rejects.toMatchObject({ code: 'SYNOD_INVALID_OPTIONS' });
    await expect(createCluster({ proposers: 1, acceptors: 1, learners: 1, tempDirParent: parent, systems: { s1: ['zz'] } })).rejects.toMatchObject({ code: 'SYNOD_INVALID_OPTIONS' });
    expect(readdirSync(parent)).toEqual([]);
    rmSync(parent, { recursive: true });
    await expect(createCluster({ proposers: 1, acceptors: 1, learners: 1, storage: 'memory', systems: { s1: ['p1', 'x9'] } })).rejects.toMatchObject({ code: 'SYNOD_INVALID_OPTIONS', message: expect.stringMatching(/systems\.s1 names "x9", which is not an actor/) });
    await expect(createKvCluster({ proposers: 1, acceptors: 1, learners: 1, storage: 'memory', systems: { s1: ['p1', 'a1'], s2: ['a1'] } })).rejects.toMatchObject({ code: 'SYNOD_INVALID_OPTIONS', message: expect.stringMatching(/a1 is placed on two systems, s1 and s2/) });
    await expect(createCluster({ proposers: 1, acceptors: 1, learners: 1, storage: 'memory', failureDetector: { pingEveryMs: 100, suspectAfterMs: 100 } })).rejects.toMatchObject({ code: 'SYNOD_INVALID_OPTIONS', message: expect.stringMatching(/suspectAfterMs \(100\) must be more than pingEveryMs/) });
    await withCluster({ proposers: 1, acceptors: 1, learners: 1, storage: 'memory', systems: { s1: ['p1'] } }, async (cluster) => {
      await expect(cluster.crashSystem('s9')).rejects.toMatchObject({ code: 'SYNOD_INVALID_ARGUMENT', message: expect.stringMatching(/no system "s9"; the systems are s1/) });
      await expect(cluster.crashSystem('s1', 'after-persist' as never)).rejects.toMatchObject({ code: 'SYNOD_INVALID_ARGUMENT' });
      expect(cluster.status('p1')).toBe('running');
    });
  });
});
