/**
 * The `kv-clients` benchmark of `synod bench`: the key-value store at a few
 * closed-loop clients, with the workload of the issue "Fast at one client,
 * not only at many", so its table can be reproduced against any build:
 *
 * - the cluster a user gets by default for 3 replicas: 3 proposers, 3
 *   acceptors, 2 learners, LMDB with fsync, the safety checker on, every
 *   other option at its default;
 * - 1,024 keys, written once before the run so reads find a value;
 *   100-byte values (strings of 100 ASCII characters);
 * - C clients, each owning its keys (client i owns keys i, i + C, i + 2C,
 *   ... below 1,024) and cycling through them, each waiting for its answer
 *   before its next operation;
 * - write-only, and 50/50 reads and writes (each operation drawn from a
 *   seeded generator per client, so every run draws the same sequence);
 * - a warm-up (2 s; 300 ms quick), then a measured window (5 s; 700 ms
 *   quick), on a fresh cluster per run; the repeats are interleaved (every
 *   mix and client count once, then again).
 *
 * Reported per mix and client count: operations/s, latency p50/p99/p99.9
 * (from the call to its promise settling) and CPU µs per operation: the
 * process's CPU time (`process.cpuUsage()`, user + system, which covers
 * every thread of the process: the client on the main thread and every
 * actor's worker) over the window, divided by the operations completed in it.
 * Where /proc tells the threads apart (Linux), the same CPU split by thread
 * (bench/lib/threads.ts): each actor reports its OS thread id, so the
 * client on the main thread, the leader, the other proposers, the acceptors,
 * the learners and the threads no actor owns (V8's helpers, libuv's pool,
 * lmdb) each get their share.
 *
 * In every repeat, write-only at 1 and 8 clients runs again on a cluster
 * whose learners learn from the acceptors' votes (`learn: 'votes'`, classic
 * Paxos: one hop less on the commit path), with its ratios to the default
 * run of the same repeat.
 *
 * Then, in every repeat, one more run at one client, write-only, on a
 * cluster created with `stamps: true`: every thread stamps the operation's
 * way (src/runtime/stamps.ts), and bench/lib/stages.ts splits each
 * operation's latency into stages (client -> leader -> acceptor ->
 * durable append -> leader -> learner -> answer). Stamping costs a little
 * on every thread, so that run's own end-to-end latency is reported beside
 * the breakdown, to compare with the unstamped run.
 */
import { allActors } from '../src/core/ids.js';
import { Prng } from '../src/util/prng.js';
import { createKvCluster, type KvCluster, type KvClusterOptions } from '../src/runtime/kv-cluster.js';
import { stampNow } from '../src/runtime/stamps.js';
import { sleep, type BenchContext, type BenchDef } from './lib/context.js';
import { figure, fmt, fmtFigure, type BenchOutput, type Chart, type Figure, type Table } from './lib/report.js';
import { breakdown, STAGE_GROUPS, STAGES } from './lib/stages.js';
import { median, percentile } from './lib/stats.js';
import { cpuByGroup, threadTicks } from './lib/threads.js';

/** The operation mixes: write-only, and 50/50 reads and writes. */
export type Mix = 'write' | 'mixed';

/** What one configuration of the benchmark runs. */
export interface KvClientsPlan {
  readonly clients: readonly number[];
  readonly mixes: readonly Mix[];
  /** Keys in the store; client i of C owns keys i, i + C, ... below it. */
  readonly keys: number;
  /** Bytes of every value written (an ASCII string of that length). */
  readonly valueBytes: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  /** Warm-up and window of the stamped one-client run (the per-stage breakdown). */
  readonly breakdownWarmupMs: number;
  readonly breakdownWindowMs: number;
  /** The cluster's options beyond the three counts (none: the defaults). */
  readonly cluster?: Partial<KvClusterOptions>;
  /**
   * Client counts also run write-only on a cluster whose learners learn from
   * the acceptors' votes (`learn: 'votes'`), beside the default, in every
   * repeat (none: not run).
   */
  readonly votesClients?: readonly number[];
}

/** The cluster's shape: 3 replicas as the issue ran them. */
const SHAPE = { proposers: 3, acceptors: 3, learners: 2 } as const;

/** The plan of the quick or the full configuration. */
export function kvClientsPlan(quick: boolean): KvClientsPlan {
  return {
    clients: [1, 8, 64, 256],
    mixes: ['write', 'mixed'],
    keys: 1024,
    valueBytes: 100,
    warmupMs: quick ? 300 : 2000,
    windowMs: quick ? 700 : 5000,
    breakdownWarmupMs: quick ? 200 : 1000,
    breakdownWindowMs: quick ? 500 : 3000,
    votesClients: [1, 8],
  };
}

/** One measured window. */
interface Point {
  readonly opsPerSec: number;
  /** Latencies of the operations completed in the window, ascending, ms. */
  readonly sorted: Float64Array;
  /** CPU µs of the whole process per operation. */
  readonly cpuUsPerOp: number;
  /** CPU µs per operation by group of threads (see THREAD_GROUPS), from /proc; null where there is none. */
  readonly cpuByThread: ReadonlyMap<string, number> | null;
}

/** The groups of threads whose CPU the benchmark reports apart, in order; the last takes every thread no actor owns. */
export const THREAD_GROUPS = ['client (main thread)', 'leader', 'other proposers', 'acceptors', 'learners', 'other threads'] as const;
const OTHER_THREADS = THREAD_GROUPS[THREAD_GROUPS.length - 1] as string;

/**
 * Which group each thread of the process belongs to, as the actors report
 * their OS thread ids now: the main thread runs the client, the leader's
 * worker is apart from the other proposers'. Null where threads have no id.
 */
async function threadOwners(kv: KvCluster): Promise<Map<number, string> | null> {
  const reports = await Promise.all(allActors(kv.members).map((id) => kv.state(id)));
  if (reports.some((r) => r.osThreadId === null)) return null;
  const leader = kv.leader();
  const owners = new Map<number, string>([[process.pid, THREAD_GROUPS[0]]]);
  for (const r of reports) owners.set(r.osThreadId as number, r.role === 'proposer' ? (r.id === leader ? 'leader' : 'other proposers') : r.role === 'acceptor' ? 'acceptors' : 'learners');
  return owners;
}

/** Client i's keys of `keys`, with `clients` clients. */
const keysOf = (i: number, clients: number, keys: number): string[] => {
  const out: string[] = [];
  for (let k = i; k < keys; k += clients) out.push(`k${k}`);
  return out;
};

/** A value of exactly `bytes` ASCII characters that differs from one write to the next. */
const valueOf = (n: number, bytes: number): string => {
  const tag = `${n}:`;
  return tag.length >= bytes ? tag.slice(0, bytes) : tag + 'v'.repeat(bytes - tag.length);
};

/** Writes every key once, 64 at a time (before the run; not measured). */
async function preload(kv: KvCluster, plan: KvClientsPlan): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(64, plan.keys) }, async () => {
      while (next < plan.keys) {
        const k = next++;
        await kv.put(`k${k}`, valueOf(k, plan.valueBytes));
      }
    }),
  );
}

/**
 * Runs `clients` closed-loop clients of `mix` on `kv` for a warm-up and a
 * window; returns the window's figures and its bounds in stamp time.
 */
async function drive(kv: KvCluster, mix: Mix, clients: number, plan: KvClientsPlan, warmupMs: number, windowMs: number): Promise<Point & { readonly from: number; readonly to: number }> {
  if (clients > plan.keys) throw new Error(`${clients} clients cannot each own a key of ${plan.keys}`);
  const latencies: number[] = [];
  let recording = false;
  let stop = false;
  let written = plan.keys;
  /** Set while the window waits for its first operation (see below). */
  let firstDone: (() => void) | null = null;
  const running = Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const mine = keysOf(i, clients, plan.keys);
      const draw = new Prng(i + 1);
      for (let j = 0; !stop; j++) {
        const key = mine[j % mine.length] as string;
        const t = performance.now();
        if (mix === 'mixed' && draw.next() < 0.5) await kv.get(key);
        else await kv.put(key, valueOf(written++, plan.valueBytes));
        if (recording) {
          latencies.push(performance.now() - t);
          firstDone?.();
        }
      }
    }),
  );
  try {
    await sleep(warmupMs);
    const owners = await threadOwners(kv);
    recording = true;
    const from = stampNow();
    const ticks0 = owners === null ? null : threadTicks();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(windowMs);
    // A window holds at least one operation, however slow the machine is, so every figure is a number.
    if (latencies.length === 0) await new Promise<void>((resolve) => (firstDone = resolve));
    recording = false;
    const elapsed = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const ticks1 = ticks0 === null ? null : threadTicks();
    const to = stampNow();
    const done = latencies.length;
    const sorted = Float64Array.from(latencies).sort();
    const byGroup = owners !== null && ticks0 !== null && ticks1 !== null ? cpuByGroup(ticks0, ticks1, (tid) => owners.get(tid) ?? null, THREAD_GROUPS.slice(0, -1), OTHER_THREADS) : null;
    const cpuByThread = byGroup === null ? null : new Map([...byGroup].map(([g, us]) => [g, us / done]));
    return { opsPerSec: (done * 1000) / elapsed, sorted, cpuUsPerOp: done > 0 ? (cpu.user + cpu.system) / done : Number.NaN, cpuByThread, from, to };
  } finally {
    stop = true;
    await running;
  }
}

/** A fresh cluster for one run. */
const freshCluster = (plan: KvClientsPlan, stamps = false, votes = false) => createKvCluster({ ...SHAPE, ...plan.cluster, ...(stamps ? { stamps: true } : {}), ...(votes ? { learn: 'votes' as const } : {}) });

/** Stage durations of one stamped run, ms: per stage (and per issue stage), the p50, p99 and mean over its operations. */
interface BreakdownRun {
  readonly ops: number;
  readonly incomplete: number;
  readonly p50: Readonly<Record<string, number>>;
  readonly p99: Readonly<Record<string, number>>;
  readonly mean: Readonly<Record<string, number>>;
  /** The run's own end-to-end latency p50 (the call to the promise settling), with stamping on. */
  readonly e2eP50: number;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const pOf = (xs: readonly number[], p: number) => percentile(Float64Array.from(xs).sort(), p);

async function breakdownRun(plan: KvClientsPlan): Promise<BreakdownRun> {
  const kv = await freshCluster(plan, true);
  try {
    await preload(kv, plan);
    const point = await drive(kv, 'write', 1, plan, plan.breakdownWarmupMs, plan.breakdownWindowMs);
    const b = breakdown(await kv.stamps(), SHAPE.acceptors, point.from, point.to);
    const p50: Record<string, number> = {};
    const p99: Record<string, number> = {};
    const avg: Record<string, number> = {};
    const summarize = (key: string, xs: readonly number[]) => {
      p50[key] = pOf(xs, 0.5);
      p99[key] = pOf(xs, 0.99);
      avg[key] = mean(xs);
    };
    for (const s of STAGES) summarize(s.id, b.stages[s.id] as number[]);
    for (const g of STAGE_GROUPS) {
      const ids = STAGES.filter((s) => s.group === g).map((s) => s.id);
      summarize(`group:${g}`, b.total.map((_, op) => ids.reduce((sum, id) => sum + ((b.stages[id] as number[])[op] as number), 0)));
    }
    summarize('total', b.total);
    return { ops: b.ops, incomplete: b.incomplete, p50, p99, mean: avg, e2eP50: percentile(point.sorted, 0.5) };
  } finally {
    await kv.close();
  }
}

/** The figure key of an issue stage group or a group of threads. */
const groupKey = (g: string) => g.replace(/ -> /g, '-to-').replace(/[()]/g, '').replace(/ /g, '-');

/** Runs the benchmark with `plan` (the suite passes the quick or the full one; a test a tiny one). */
export async function runKvClients(ctx: BenchContext, plan: KvClientsPlan): Promise<BenchOutput> {
  const points = new Map<string, Point[]>();
  const runs: BreakdownRun[] = [];
  const pointKey = (mix: Mix, c: number) => `${mix}/c${c}`;
  const votesKey = (c: number) => `votes/write/c${c}`;
  const votesClients = plan.votesClients ?? [];
  const measureOn = async (key: string, mix: Mix, c: number, votes: boolean) => {
    const kv = await freshCluster(plan, false, votes);
    try {
      await preload(kv, plan);
      const p = await drive(kv, mix, c, plan, plan.warmupMs, plan.windowMs);
      const list = points.get(key) ?? [];
      list.push(p);
      points.set(key, list);
    } finally {
      await kv.close();
    }
  };
  // The warm-up: one short run, discarded (JIT, lmdb loading, the file system cache).
  {
    const kv = await freshCluster(plan);
    try {
      await preload(kv, plan);
      await drive(kv, 'mixed', Math.min(8, plan.keys), plan, 100, 200);
    } finally {
      await kv.close();
    }
    ctx.step('warm-up');
  }
  for (let r = 0; r < ctx.repeats; r++) {
    for (const mix of plan.mixes) {
      for (const c of plan.clients) {
        await measureOn(pointKey(mix, c), mix, c, false);
        ctx.step(`${mix}, ${c} clients, repeat ${r + 1}/${ctx.repeats}`);
      }
    }
    for (const c of votesClients) {
      await measureOn(votesKey(c), 'write', c, true);
      ctx.step(`write, ${c} clients, learners learning from votes, repeat ${r + 1}/${ctx.repeats}`);
    }
    runs.push(await breakdownRun(plan));
    ctx.step(`per-stage breakdown, repeat ${r + 1}/${ctx.repeats}`);
  }

  const figures: Record<string, Figure> = {};
  const pointFigures = (k: string) => {
    const ps = points.get(k) ?? [];
    figures[`${k}/ops-per-s`] = figure(ps.map((p) => p.opsPerSec), 'ops/s', 'higher');
    figures[`${k}/p50`] = figure(ps.map((p) => percentile(p.sorted, 0.5)), 'ms', 'lower');
    figures[`${k}/p99`] = figure(ps.map((p) => percentile(p.sorted, 0.99)), 'ms', 'lower');
    figures[`${k}/p999`] = figure(ps.map((p) => percentile(p.sorted, 0.999)), 'ms', 'lower');
    figures[`${k}/cpu-us-per-op`] = figure(ps.map((p) => p.cpuUsPerOp), 'us', 'lower');
    if (ps.length > 0 && ps.every((p) => p.cpuByThread !== null)) {
      for (const g of THREAD_GROUPS) figures[`${k}/cpu-us-per-op/${groupKey(g)}`] = figure(ps.map((p) => (p.cpuByThread as ReadonlyMap<string, number>).get(g) as number), 'us', 'lower');
    }
  };
  for (const mix of plan.mixes) for (const c of plan.clients) pointFigures(pointKey(mix, c));
  for (const c of votesClients) {
    pointFigures(votesKey(c));
    // Ratios of the same repeat, as for the mixes; only where the default ran that client count write-only too.
    const w = points.get(pointKey('write', c));
    const v = points.get(votesKey(c)) ?? [];
    if (w === undefined) continue;
    figures[`votes-over-commit/c${c}/ops-per-s`] = figure(v.map((p, i) => p.opsPerSec / (w[i] as Point).opsPerSec), 'x', 'higher');
    figures[`votes-over-commit/c${c}/p50`] = figure(v.map((p, i) => percentile(p.sorted, 0.5) / percentile((w[i] as Point).sorted, 0.5)), 'x', 'lower');
    figures[`votes-over-commit/c${c}/cpu-us-per-op`] = figure(v.map((p, i) => p.cpuUsPerOp / (w[i] as Point).cpuUsPerOp), 'x', 'lower');
  }
  if (plan.mixes.includes('write') && plan.mixes.includes('mixed')) {
    // Ratios of the same repeat: both ran within a minute of each other.
    for (const c of plan.clients) {
      const w = points.get(pointKey('write', c)) ?? [];
      const m = points.get(pointKey('mixed', c)) ?? [];
      figures[`mixed-over-write/c${c}`] = figure(m.map((p, i) => p.opsPerSec / (w[i] as Point).opsPerSec), 'x', 'higher');
    }
  }
  const us = (ms: number) => ms * 1000;
  for (const s of STAGES) {
    figures[`breakdown/${s.id}/p50`] = figure(runs.map((b) => us(b.p50[s.id] as number)), 'us', 'lower');
    figures[`breakdown/${s.id}/p99`] = figure(runs.map((b) => us(b.p99[s.id] as number)), 'us', 'lower');
    figures[`breakdown/${s.id}/mean`] = figure(runs.map((b) => us(b.mean[s.id] as number)), 'us', 'lower');
  }
  for (const g of STAGE_GROUPS) {
    figures[`breakdown/stage/${groupKey(g)}/p50`] = figure(runs.map((b) => us(b.p50[`group:${g}`] as number)), 'us', 'lower');
    figures[`breakdown/stage/${groupKey(g)}/p99`] = figure(runs.map((b) => us(b.p99[`group:${g}`] as number)), 'us', 'lower');
    figures[`breakdown/stage/${groupKey(g)}/mean`] = figure(runs.map((b) => us(b.mean[`group:${g}`] as number)), 'us', 'lower');
  }
  figures['breakdown/total/p50'] = figure(runs.map((b) => us(b.p50.total as number)), 'us', 'lower');
  figures['breakdown/total/p99'] = figure(runs.map((b) => us(b.p99.total as number)), 'us', 'lower');
  figures['breakdown/total/mean'] = figure(runs.map((b) => us(b.mean.total as number)), 'us', 'lower');
  figures['breakdown/stamped-e2e/p50'] = figure(runs.map((b) => us(b.e2eP50)), 'us', 'lower');

  const f = (key: string) => fmtFigure(figures[key]);
  const seconds = (ms: number) => `${fmt(ms / 1000)} s`;
  const totalMean = figures['breakdown/total/mean']?.value ?? Number.NaN;
  const share = (key: string) => {
    const v = figures[key]?.value;
    return v === undefined || !Number.isFinite(v) || !(totalMean > 0) ? '-' : `${((100 * v) / totalMean).toFixed(0)}%`;
  };
  const tables: Table[] = [
    {
      title: `Key-value store, ${SHAPE.proposers} proposers / ${SHAPE.acceptors} acceptors / ${SHAPE.learners} learners, LMDB with fsync, default options; ${plan.keys} keys, ${plan.valueBytes}-byte values, client i of C owns keys i, i+C, ...; closed loop, ${seconds(plan.warmupMs)} warm-up then ${seconds(plan.windowMs)} measured, a fresh cluster per run; cpu = process CPU (every thread) per op`,
      head: ['mix', 'clients', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'cpu us/op'],
      rows: plan.mixes.flatMap((mix) =>
        plan.clients.map((c) => {
          const k = pointKey(mix, c);
          return [mix === 'write' ? 'write-only' : '50/50 r/w', String(c), f(`${k}/ops-per-s`), f(`${k}/p50`), f(`${k}/p99`), f(`${k}/p999`), f(`${k}/cpu-us-per-op`)];
        }),
      ),
    },
    ...(!Object.keys(figures).some((key) => key.includes('/cpu-us-per-op/'))
      ? []
      : [
          {
            title: 'CPU µs per operation by thread (/proc/self/task, 10 ms ticks per thread): the client on the main thread, the leader\'s worker, the other proposers\', the acceptors\' and the learners\' (summed), and the threads no actor owns (V8\'s garbage-collector and compiler helpers shared by every isolate, libuv\'s pool, lmdb); a thread that ended within the window counts only in the process total',
            head: ['mix', 'clients', ...THREAD_GROUPS, 'process total'],
            rows: plan.mixes.flatMap((mix) =>
              plan.clients.map((c) => {
                const k = pointKey(mix, c);
                return [mix === 'write' ? 'write-only' : '50/50 r/w', String(c), ...THREAD_GROUPS.map((g) => (figures[`${k}/cpu-us-per-op/${groupKey(g)}`] ? f(`${k}/cpu-us-per-op/${groupKey(g)}`) : '-')), f(`${k}/cpu-us-per-op`)];
              }),
            ),
          } satisfies Table,
        ]),
    ...(votesClients.length === 0
      ? []
      : [
          {
            title: "Write-only with learners that learn from the acceptors' votes (learn: 'votes': one hop less, three votes per learner instead of one commit), beside the default (learn: 'commit') in the same repeats; ratios votes / commit",
            head: ['clients', 'ops/s', 'p50 ms', 'p99 ms', 'cpu us/op', 'ops/s ratio', 'p50 ratio', 'cpu ratio'],
            rows: votesClients.map((c) => {
              const k = votesKey(c);
              const r = (x: string) => (figures[`votes-over-commit/c${c}/${x}`] ? f(`votes-over-commit/c${c}/${x}`) : '-');
              return [String(c), f(`${k}/ops-per-s`), f(`${k}/p50`), f(`${k}/p99`), f(`${k}/cpu-us-per-op`), r('ops-per-s'), r('p50'), r('cpu-us-per-op')];
            }),
          } satisfies Table,
        ]),
    {
      title: `One operation at one client, write-only, stage by stage (stamped run, ${seconds(plan.breakdownWindowMs)} after ${seconds(plan.breakdownWarmupMs)}; ${runs.map((b) => `${b.ops} ops${b.incomplete > 0 ? ` + ${b.incomplete} incomplete` : ''}`).join(', ')} per repeat; the stages add up to the total)`,
      head: ['stage', 'issue stage', 'p50 us', 'p99 us', 'mean us', 'share of mean'],
      rows: [
        ...STAGES.map((s) => [s.what, s.group, f(`breakdown/${s.id}/p50`), f(`breakdown/${s.id}/p99`), f(`breakdown/${s.id}/mean`), share(`breakdown/${s.id}/mean`)]),
        ['total: operation begun -> first answer', '', f('breakdown/total/p50'), f('breakdown/total/p99'), f('breakdown/total/mean'), share('breakdown/total/mean')],
        ['the stamped run\'s own latency (call -> promise settled)', '', f('breakdown/stamped-e2e/p50'), '', '', ''],
      ],
    },
    {
      title: 'The same, by the stages of the issue',
      head: ['issue stage', 'p50 us', 'p99 us', 'mean us', 'share of mean'],
      rows: STAGE_GROUPS.map((g) => [g, f(`breakdown/stage/${groupKey(g)}/p50`), f(`breakdown/stage/${groupKey(g)}/p99`), f(`breakdown/stage/${groupKey(g)}/mean`), share(`breakdown/stage/${groupKey(g)}/mean`)]),
    },
  ];
  const charts: Chart[] = [
    ...(['p50', 'p99'] as const).map(
      (p): Chart => ({
        kind: 'curve',
        title: `Latency ${p} vs throughput (closed loop, points = ${plan.clients.join('/')} clients)`,
        xLabel: 'operations/s',
        yLabel: `${p} ms`,
        series: plan.mixes.map((mix) => ({
          name: mix === 'write' ? 'write-only' : '50/50 reads/writes',
          points: plan.clients.flatMap((c) => {
            const x = figures[`${pointKey(mix, c)}/ops-per-s`];
            const y = figures[`${pointKey(mix, c)}/${p}`];
            return x && y && Number.isFinite(x.value) && Number.isFinite(y.value) ? [[x.value, y.value] as const] : [];
          }),
        })),
      }),
    ),
    {
      kind: 'bars',
      title: 'One operation at one client: mean time per stage',
      unit: 'us',
      bars: STAGES.map((s) => {
        const x = figures[`breakdown/${s.id}/mean`] as Figure;
        return { label: s.id, value: x.value, min: x.min, max: x.max };
      }),
    },
  ];
  const notes: string[] = [];
  const incomplete = runs.reduce((n, b) => n + b.incomplete, 0);
  if (incomplete > 0) notes.push(`${incomplete} operation(s) of the stamped runs lacked a stamp (a re-send or a leader change) and are left out of the breakdown`);
  notes.push(`median ${fmt(median(runs.map((b) => b.ops)))} operations per stamped run`);
  return {
    config: { repeats: ctx.repeats, ...SHAPE, storage: 'lmdb', durable: true, cluster: plan.cluster ?? 'defaults', clients: plan.clients, mixes: plan.mixes, votesClients, keys: plan.keys, valueBytes: plan.valueBytes, warmupMs: plan.warmupMs, windowMs: plan.windowMs, breakdownWarmupMs: plan.breakdownWarmupMs, breakdownWindowMs: plan.breakdownWindowMs },
    figures,
    charts,
    tables,
    notes,
  };
}

/** The `kv-clients` benchmark (see the module comment). */
export const kvClientsBench: BenchDef = {
  name: 'kv-clients',
  title: 'Key-value store at 1-256 clients, and one operation stage by stage',
  description:
    'The key-value store (3 proposers, 3 acceptors, 2 learners, fsync on, default options) with 1,024 keys, 100-byte values and C closed-loop clients each owning its keys, write-only and 50/50 reads/writes, at 1, 8, 64 and 256 clients: operations/s, latency p50/p99/p99.9 and CPU µs per operation (every thread, and split by thread where /proc tells them apart); write-only at 1 and 8 clients again with learners that learn from the acceptors\' votes; then one operation at one client split into stages from timestamps taken on every thread.',
  repeats: { quick: 1, full: 3 },
  steps: (quick, repeats) => {
    const plan = kvClientsPlan(quick);
    return 1 + repeats * (plan.mixes.length * plan.clients.length + (plan.votesClients ?? []).length + 1);
  },
  run: (ctx) => runKvClients(ctx, kvClientsPlan(ctx.quick)),
};
