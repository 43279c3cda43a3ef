// The kv-clients benchmark and the stage stamps behind its breakdown:
// - breakdown() on made-up stamps: the stages are the differences along the
//   path (the quorum-completing vote, the learner that answered first), add
//   up to the total, and an operation with a stamp missing is counted apart;
// - a cluster takes no stamps unless asked, and with `stamps: true` every
//   thread an operation crosses stamps it;
// - the benchmark in a tiny configuration gives every figure, finite, with
//   its unit. Nothing here asserts a speed.
import { describe, expect, it } from 'vitest';
import { kvClientsBench, kvClientsPlan, runKvClients, THREAD_GROUPS, type KvClientsPlan } from '../../bench/kv-clients.js';
import { breakdown, STAGE_GROUPS, STAGES } from '../../bench/lib/stages.js';
import { createKvCluster } from '../../src/runtime/kv-cluster.js';
import { Stamper, type Stamp, type StampKind } from '../../src/runtime/stamps.js';

describe('breakdown', () => {
  const s = (actor: Stamp['actor'], kind: StampKind, key: string | number, at: number, extra: { peer?: string; slot?: number } = {}): Stamp => ({ actor, kind, key, at, ...extra });
  /** One write through p1, a1..a3 and l1..l2 at slot 7, answered first by l2; a1 votes first, a2's vote completes the quorum, a3 never votes. */
  const path = (c = 'x#1', t0 = 1000): Stamp[] => [
    s('client', 'begin', c, t0),
    s('client', 'post', c, t0 + 1, { peer: 'p1' }),
    s('p1', 'request', c, t0 + 3),
    ...['a1', 'a2', 'a3'].map((a) => s('p1', 'accept-out', 7, t0 + 6, { peer: a })),
    s('a1', 'accept-in', 7, t0 + 7, { peer: 'p1' }),
    s('a2', 'accept-in', 7, t0 + 10, { peer: 'p1' }),
    s('a1', 'append-start', 7, t0 + 8),
    s('a2', 'append-start', 7, t0 + 15),
    s('a1', 'append-done', 7, t0 + 18),
    s('a2', 'append-done', 7, t0 + 21),
    s('a1', 'accepted-out', 7, t0 + 19, { peer: 'p1' }),
    s('a2', 'accepted-out', 7, t0 + 28, { peer: 'p1' }),
    s('p1', 'accepted-in', 7, t0 + 36, { peer: 'a2' }),
    s('p1', 'accepted-in', 7, t0 + 30, { peer: 'a1' }),
    s('p1', 'commit-out', 7, t0 + 55, { peer: 'l1' }),
    s('p1', 'commit-out', 7, t0 + 55, { peer: 'l2' }),
    s('l1', 'commit-in', 7, t0 + 70, { peer: 'p1' }),
    s('l2', 'commit-in', 7, t0 + 66, { peer: 'p1' }),
    s('l1', 'applied', c, t0 + 71, { slot: 7 }),
    s('l2', 'applied', c, t0 + 67, { slot: 7 }),
    s('l2', 'answer-out', c, t0 + 78),
    s('l1', 'answer-out', c, t0 + 79),
    s('client', 'answer', c, t0 + 91, { peer: 'l2' }),
  ];

  it('splits an operation along its path: the quorum-completing vote and the learner that answered first', () => {
    const b = breakdown(path(), 3);
    expect(b.ops).toBe(1);
    expect(b.incomplete).toBe(0);
    const got = Object.fromEntries(STAGES.map((x) => [x.id, b.stages[x.id]]));
    expect(got).toEqual({
      'client-post': [1],
      'to-leader': [2],
      'leader-propose': [3],
      'to-acceptor': [4],
      'acceptor-step': [5],
      append: [6],
      'acceptor-reply': [7],
      'to-leader-vote': [8],
      'leader-commit': [19],
      'to-learner': [11],
      apply: [12],
      'to-client': [13],
    });
    expect(b.total).toEqual([91]);
    expect(STAGE_GROUPS).toEqual(['client -> leader', 'leader -> acceptors', 'durable append', 'accepted -> learner', 'apply', 'answer']);
  });

  it('follows the proposer that committed the slot, not the one the request reached first', () => {
    const moved = path().map((x) => (x.kind === 'request' ? { ...x, actor: 'p2' } : x));
    expect(breakdown(moved, 3)).toMatchObject({ ops: 1, incomplete: 0, total: [91] });
    // A commit from a proposer with no votes recorded for the slot leaves the path broken.
    const stray = path().map((x) => (x.kind === 'commit-in' ? { ...x, peer: 'p2' } : x));
    expect(breakdown(stray, 3)).toMatchObject({ ops: 0, incomplete: 1 });
  });

  it('needs a quorum: with one acceptor of three voting, the operation is incomplete', () => {
    const stamps = path().filter((x) => !(x.kind === 'accepted-in' && x.peer === 'a1'));
    expect(breakdown(stamps, 3)).toMatchObject({ ops: 0, incomplete: 1 });
    // A quorum of one: a2's vote, now the first, completes it.
    expect(breakdown(stamps, 1)).toMatchObject({ ops: 1, incomplete: 0, total: [91] });
    // With both votes, a1's comes first, so for a quorum of one the path goes through a1.
    expect(breakdown(path(), 1).stages.append).toEqual([10]);
  });

  it('counts an operation with any stamp of its path missing as incomplete, and only operations begun in the window', () => {
    for (const kind of ['post', 'request', 'accept-in', 'append-done', 'commit-in', 'answer-out', 'answer'] as const) {
      expect(breakdown(path().filter((x) => x.kind !== kind), 3), kind).toMatchObject({ ops: 0, incomplete: 1 });
    }
    const two = [...path('x#1', 1000), ...path('x#2', 2000).map((x) => (typeof x.key === 'number' ? { ...x, key: 8 } : x)).map((x) => (x.slot === 7 ? { ...x, slot: 8 } : x))];
    expect(breakdown(two, 3).ops).toBe(2);
    expect(breakdown(two, 3, 1500, 3000)).toMatchObject({ ops: 1, total: [91] });
  });
});

describe('Stamper', () => {
  it('stamps the slots of accepts, votes and commits, and nothing of other or malformed input (peers are untrusted)', () => {
    const st = new Stamper('a1');
    for (const junk of [null, 7, 'accept', [], { type: 'constructor', entries: [{ slot: 1 }] }, { type: '__proto__', slots: [1] }, { type: 'heartbeat', commitIndex: 3 }, { type: 'accept', entries: 'x' }]) st.inbound('p1', junk);
    expect(st.take()).toEqual([]);
    st.inbound('p1', { type: 'accept', entries: [{ slot: 'x' }, null, { slot: 3 }] });
    st.outbound('p1', [{ type: 'accepted', slots: [3, 4] }]);
    expect(st.take().map((x) => [x.kind, x.key, x.peer])).toEqual([
      ['accept-in', 3, 'p1'],
      ['accepted-out', 3, 'p1'],
      ['accepted-out', 4, 'p1'],
    ]);
  });

  it('stamps an append of accepted records when issued and when durable, and only those', () => {
    const st = new Stamper('a1');
    let done = 0;
    const bare = () => done++;
    expect(st.append([{ kind: 'promised' }], bare)).toBe(bare);
    const wrapped = st.append([{ kind: 'accepted', slot: 5 }], bare);
    expect(st.take().map((x) => [x.kind, x.key])).toEqual([['append-start', 5]]);
    wrapped();
    expect(done).toBe(1);
    expect(st.take().map((x) => [x.kind, x.key])).toEqual([['append-done', 5]]);
  });
});

describe('stage stamps on a cluster', () => {
  it('takes none unless asked', async () => {
    const kv = await createKvCluster({ proposers: 1, acceptors: 1, learners: 1, storage: 'memory' });
    try {
      await kv.put('k', 1);
      expect(await kv.stamps()).toEqual([]);
    } finally {
      await kv.close();
    }
  });

  it('with stamps: true, stamps an operation on every thread it crosses, and hands each stamp over once', async () => {
    const kv = await createKvCluster({ proposers: 2, acceptors: 3, learners: 2, stamps: true });
    try {
      await kv.put('k', 'v');
      const stamps = await kv.stamps();
      const kinds = (actor: string) => new Set(stamps.filter((x) => x.actor === actor).map((x) => x.kind));
      // The leader is the proposer that committed the slot to the learner that answered (an election may have come between).
      const answered = stamps.find((x) => x.kind === 'answer')?.peer as string;
      expect(kv.members.learners).toContain(answered);
      const leader = stamps.find((x) => x.kind === 'commit-in' && x.actor === answered)?.peer as string;
      expect(kv.members.proposers).toContain(leader);
      expect([...kinds('client')].sort()).toEqual(['answer', 'begin', 'post']);
      expect(kv.members.proposers.some((p) => kinds(p).has('request'))).toBe(true);
      expect([...kinds(leader)]).toEqual(expect.arrayContaining(['accept-out', 'accepted-in', 'commit-out']));
      // A majority had received the accept and voted before the answer (the last acceptor may not even have received it
      // yet on a busy machine).
      expect(kv.members.acceptors.filter((a) => ['accept-in', 'accepted-out', 'append-done', 'append-start'].every((k) => kinds(a).has(k as StampKind))).length).toBeGreaterThanOrEqual(2);
      // The learner whose answer the client took got the commit, applied it and answered (the other one may not have yet).
      expect([...kinds(answered)].sort()).toEqual(['answer-out', 'applied', 'commit-in']);
      const b = breakdown(stamps, 3);
      expect(b).toMatchObject({ ops: 1, incomplete: 0 });
      // Taken once: a later call has only what happened since (the last votes of the slot, say).
      const seen = new Set(stamps.map((x) => JSON.stringify(x)));
      for (const x of await kv.stamps()) expect(seen.has(JSON.stringify(x)), JSON.stringify(x)).toBe(false);
    } finally {
      await kv.close();
    }
  });

  it('refuses a stamps option that is not a boolean', async () => {
    await expect(createKvCluster({ proposers: 1, acceptors: 1, learners: 1, stamps: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'SYNOD_INVALID_OPTIONS' });
  });
});

describe('the kv-clients benchmark', () => {
  it('has the workload of the issue in both configurations', () => {
    for (const quick of [true, false]) {
      const plan = kvClientsPlan(quick);
      expect(plan).toMatchObject({ clients: [1, 8, 64, 256], mixes: ['write', 'mixed'], keys: 1024, valueBytes: 100, votesClients: [1, 8] });
    }
    expect(kvClientsPlan(false)).toMatchObject({ warmupMs: 2000, windowMs: 5000 });
    expect(kvClientsBench.steps(false, 3)).toBe(1 + 3 * (2 * 4 + 2 + 1));
  });

  const linux = process.platform === 'linux';
  const threadGroupKeys = ['client-main-thread', 'leader', 'other-proposers', 'acceptors', 'learners', 'other-threads'];

  it('names the groups of threads it reports the CPU of, the last for the threads no actor owns', () => {
    expect(THREAD_GROUPS).toEqual(['client (main thread)', 'leader', 'other proposers', 'acceptors', 'learners', 'other threads']);
  });

  it('runs in a tiny configuration and gives every figure, finite, with its unit', async () => {
    const plan: KvClientsPlan = { clients: [1, 3], mixes: ['write', 'mixed'], keys: 16, valueBytes: 100, warmupMs: 50, windowMs: 250, breakdownWarmupMs: 50, breakdownWindowMs: 250, votesClients: [1] };
    let steps = 0;
    const out = await runKvClients({ quick: true, repeats: 1, step: () => steps++ }, plan);
    expect(steps).toBe(1 + 1 * (2 * 2 + 1 + 1));
    const expected: Record<string, string> = {};
    for (const mix of plan.mixes) {
      for (const c of plan.clients) {
        Object.assign(expected, { [`${mix}/c${c}/ops-per-s`]: 'ops/s', [`${mix}/c${c}/p50`]: 'ms', [`${mix}/c${c}/p99`]: 'ms', [`${mix}/c${c}/p999`]: 'ms', [`${mix}/c${c}/cpu-us-per-op`]: 'us' });
        // The CPU of each group of threads, where /proc tells the threads apart (Linux).
        if (linux) for (const g of threadGroupKeys) expected[`${mix}/c${c}/cpu-us-per-op/${g}`] = 'us';
      }
    }
    for (const c of plan.clients) expected[`mixed-over-write/c${c}`] = 'x';
    // Learners learning from votes, write-only at one client, and its ratios to the default run.
    Object.assign(expected, { 'votes/write/c1/ops-per-s': 'ops/s', 'votes/write/c1/p50': 'ms', 'votes/write/c1/p99': 'ms', 'votes/write/c1/p999': 'ms', 'votes/write/c1/cpu-us-per-op': 'us' });
    if (linux) for (const g of threadGroupKeys) expected[`votes/write/c1/cpu-us-per-op/${g}`] = 'us';
    Object.assign(expected, { 'votes-over-commit/c1/ops-per-s': 'x', 'votes-over-commit/c1/p50': 'x', 'votes-over-commit/c1/cpu-us-per-op': 'x' });
    const stats = ['p50', 'p99', 'mean'];
    for (const stage of STAGES) for (const x of stats) expected[`breakdown/${stage.id}/${x}`] = 'us';
    for (const g of ['client-to-leader', 'leader-to-acceptors', 'durable-append', 'accepted-to-learner', 'apply', 'answer']) for (const x of stats) expected[`breakdown/stage/${g}/${x}`] = 'us';
    for (const x of stats) expected[`breakdown/total/${x}`] = 'us';
    expected['breakdown/stamped-e2e/p50'] = 'us';
    expect(Object.keys(out.figures).sort()).toEqual(Object.keys(expected).sort());
    for (const [key, f] of Object.entries(out.figures)) {
      expect(f.unit, key).toBe(expected[key]);
      expect(Number.isFinite(f.value), `${key}: ${JSON.stringify(f)}`).toBe(true);
      expect(f.n, key).toBe(1);
    }
    // The stages add up to the total, so their means do too.
    const sum = STAGES.reduce((acc, stage) => acc + (out.figures[`breakdown/${stage.id}/mean`]?.value ?? Number.NaN), 0);
    expect(sum).toBeCloseTo(out.figures['breakdown/total/mean']?.value ?? Number.NaN, 6);
    const points = plan.mixes.length * plan.clients.length;
    expect(out.tables.map((t) => t.rows.length)).toEqual([points, ...(linux ? [points] : []), 1, STAGES.length + 2, STAGE_GROUPS.length]);
    // No group of threads used negative time. Nothing more is asserted of the split: /proc counts in 10 ms ticks, so in so
    // short a window a group may show 0, and whether a leader was known at the window's start depends on the machine.
    if (linux) for (const key of Object.keys(out.figures).filter((k) => k.includes('/cpu-us-per-op/'))) expect(out.figures[key]?.value, key).toBeGreaterThanOrEqual(0);
    expect(out.charts.length).toBeGreaterThan(0);
  }, 120_000);
});
