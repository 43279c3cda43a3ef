// Per-thread CPU (bench/lib/threads.ts): the attribution of ticks to groups
// of threads on made-up readings, the reading of /proc itself, and the OS
// thread id each actor reports, which is what ties a thread to an actor.
import { describe, expect, it } from 'vitest';
import { cpuByGroup, threadTicks, TICK_US } from '../../bench/lib/threads.js';
import { osThreadId } from '../../src/runtime/worker-glue.js';
import { createKvCluster } from '../../src/runtime/kv-cluster.js';
import { allActors } from '../../src/core/ids.js';

const linux = process.platform === 'linux';

describe('cpuByGroup', () => {
  const owners = new Map<number, string>([
    [10, 'client'],
    [11, 'leader'],
    [12, 'acceptors'],
    [13, 'acceptors'],
  ]);
  const groupOf = (tid: number) => owners.get(tid) ?? null;

  it('gives each group the ticks its threads used in between, in microseconds, and the rest to the others', () => {
    const before = new Map([[10, 5], [11, 100], [12, 7], [13, 0], [20, 50]]);
    // 14 is an unowned thread that started in between (counted from zero); 20 is unowned too; a thread that ended in between is in neither.
    const after = new Map([[10, 6], [11, 103], [12, 9], [13, 1], [20, 52], [14, 4]]);
    const got = cpuByGroup(before, after, groupOf, ['client', 'leader', 'acceptors', 'learners'], 'other');
    expect([...got]).toEqual([
      ['client', 1 * TICK_US],
      ['leader', 3 * TICK_US],
      ['acceptors', 3 * TICK_US],
      ['learners', 0],
      ['other', 6 * TICK_US],
    ]);
  });

  it('counts nothing for a thread whose count went down (an id reused by a new thread is counted from its own start)', () => {
    const got = cpuByGroup(new Map([[11, 100]]), new Map([[11, 3]]), groupOf, ['leader'], 'other');
    expect(got.get('leader')).toBe(0);
  });
});

describe('threadTicks and osThreadId', () => {
  it('reads every thread of the process where /proc has them, the main thread (whose id is the pid) included', () => {
    const ticks = threadTicks();
    if (!linux) return void expect(ticks).toBeNull();
    expect(ticks).not.toBeNull();
    expect(ticks?.get(process.pid)).toBeGreaterThanOrEqual(0);
    for (const used of ticks?.values() ?? []) expect(Number.isSafeInteger(used) && used >= 0).toBe(true);
    expect(osThreadId()).toBe(process.pid);
  });

  it('has every actor report its own OS thread, one of this process, none of them the main thread', async () => {
    const kv = await createKvCluster({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory', check: false });
    try {
      const reports = await Promise.all(allActors(kv.members).map((id) => kv.state(id)));
      const tids = reports.map((r) => r.osThreadId);
      if (!linux) return void expect(tids.every((t) => t === null)).toBe(true);
      expect(new Set(tids).size).toBe(reports.length);
      const threads = threadTicks() as Map<number, number>;
      for (const tid of tids) {
        expect(tid).not.toBe(process.pid);
        expect(threads.has(tid as number), `thread ${tid}`).toBe(true);
      }
    } finally {
      await kv.close();
    }
  });
});
