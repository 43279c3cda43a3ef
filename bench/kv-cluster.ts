/**
 * The key-value store on worker threads (Multi-Paxos): the `kv-curve` and
 * `efficiency` benchmarks of `synod bench`.
 *
 * kv-curve: commands/s and commit latency (a put, from the call to its
 * promise resolving) against offered load, on 3 proposers, N acceptors and 2
 * learners. For each configuration (acceptors, storage, transport,
 * batch/window) one fresh cluster per repeat first runs a closed loop of
 * 64 clients for a few seconds, the first of which is measured as the
 * fresh cluster's figure (`cold`) and the rest discarded, then one client
 * for a few seconds, the first measured as `cold-c1` and the rest
 * discarded: V8 compiles and optimises the code in each worker on its own,
 * and only once it is hot there, so a fresh cluster's first seconds measure
 * that, not the protocol; and a load of 64 clients leaves the code a lone
 * client runs (a slot per command, a commit per command) unoptimised in
 * the acceptors and learners, so a point measured just after the load
 * dropped measured its compilation (see docs/benchmarks.md, "A fresh
 * cluster's first seconds"). Then a closed loop at each
 * client count in turn (each client puts, awaits, puts again), measuring a
 * window after a short warm-up; then an open loop at half the best
 * closed-loop throughput of that cluster (puts arrive at a steady rate
 * whatever the answers do), which is the latency a cluster at half its
 * maximum load gives. The safety checker is off (`check: false`): with it
 * on, acceptors and learners copy every record and slot to the main thread.
 * `cpu us/cmd` is the whole process's CPU time (every thread, from /proc)
 * per command.
 *
 * efficiency: the cluster's actor-to-actor message rate at a saturating load
 * divided by the raw batched postMessage rate (port, worker->worker, 64
 * messages per post) measured in the same run, before and after the cluster.
 */
import { allActors } from '../src/core/ids.js';
import { createKvCluster, type KvCluster, type KvClusterOptions } from '../src/runtime/kv-cluster.js';
import { sleep, type BenchContext, type BenchDef } from './lib/context.js';
import { figure, fmt, fmtFigure, type BenchOutput, type Chart, type Figure, type Series, type Table } from './lib/report.js';
import { median, percentile } from './lib/stats.js';
import { threadTicks } from './lib/threads.js';
import { PathsLab, RAW_BATCHED } from './paths.js';

export type Transport = 'port' | 'hub' | 'ring';

/** One curve: a cluster shape and its client counts. */
export interface CurveConfig {
  readonly acceptors: number;
  readonly storage: 'durable' | 'memory';
  readonly transport: Transport;
  readonly batchMax: number;
  readonly window: number;
}

interface Plan {
  readonly curves: readonly CurveConfig[];
  readonly clients: readonly number[];
  readonly warmupMs: number;
  readonly windowMs: number;
}

/** Clients of the closed loop a fresh cluster runs before its first point, and for how long (the first COLD_MS of it measured as `cold`). */
const SETTLE_CLIENTS = 64;
const SETTLE_MS = 3000;
/** The first part of that run, measured: how a fresh cluster serves while its workers' code is still being optimised. */
const COLD_MS = 1000;
/** Then one client for LOW_SETTLE_MS (its first COLD_MS measured as `cold-c1`), so that the code of low load is optimised too before the first point. */
const LOW_SETTLE_MS = 3000;

function curvePlan(quick: boolean): Plan {
  if (quick) {
    return {
      curves: (['durable', 'memory'] as const).map((storage) => ({ acceptors: 3, storage, transport: 'port' as const, batchMax: 256, window: 32 })),
      clients: [8, 64, 512],
      warmupMs: 300,
      windowMs: 700,
    };
  }
  const curves: CurveConfig[] = [];
  for (const transport of ['port', 'hub', 'ring'] as const) {
    for (const acceptors of [3, 5, 7]) for (const storage of ['durable', 'memory'] as const) curves.push({ acceptors, storage, transport, batchMax: 256, window: 32 });
  }
  for (const [batchMax, window] of [[64, 32], [1024, 64]] as const) for (const storage of ['durable', 'memory'] as const) curves.push({ acceptors: 3, storage, transport: 'port', batchMax, window });
  return { curves, clients: [1, 16, 64, 256, 1024], warmupMs: 400, windowMs: 1000 };
}

export const curveKey = (c: CurveConfig) => `a${c.acceptors}/${c.storage}/${c.transport}/b${c.batchMax}w${c.window}`;
const curveLabel = (c: CurveConfig) => `${c.acceptors} acceptors, ${c.storage}, ${c.transport}, batch ${c.batchMax}/window ${c.window}`;

/** What one measured window gave. */
interface Sample {
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  /** Sum over the actors of peer messages sent, per second. */
  readonly actorMsgsPerSec: number;
  /** CPU time of the whole process over the window, in % of one CPU; NaN without /proc. */
  readonly cpu: number;
}

/** CPU ticks (1/100 s) used so far by every thread of this process; NaN without /proc. */
function cpuTicks(): number {
  const threads = threadTicks();
  if (threads === null) return Number.NaN;
  let ticks = 0;
  for (const t of threads.values()) ticks += t;
  return ticks;
}

/**
 * The sum of every actor's `sent` counter, and when it was read: the middle
 * of the state calls' round trip (each worker copies its counters while it
 * answers). A state call makes each actor describe its state, which costs an
 * acceptor with a long log a noticeable pause, so only the efficiency
 * benchmark reads them, around a longer window.
 */
async function sentSum(kv: KvCluster): Promise<{ sent: number; at: number }> {
  const t0 = performance.now();
  const reports = await Promise.all(allActors(kv.members).map((id) => kv.state(id)));
  return { sent: reports.reduce((sum, r) => sum + r.counters.sent, 0), at: (t0 + performance.now()) / 2 };
}

/** A load: drives `put` until `stopped()`, resolving once every put it issued settled. */
type Load = (put: (i: number) => Promise<void>, stopped: () => boolean) => Promise<void>;

/** `clients` clients, each putting and awaiting in a loop. */
export const closedLoop =
  (clients: number): Load =>
  (put, stopped) =>
    Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        while (!stopped()) await put(i);
      }),
    ).then(() => undefined);

/** Puts arriving at `perSec`, issued on 1 ms ticks, however long answers take. */
export const openLoop =
  (perSec: number): Load =>
  (put, stopped) =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      let issued = 0;
      let inFlight = 0;
      let ticking = true;
      const settled = () => {
        if (--inFlight === 0 && !ticking) resolve();
      };
      const timer = setInterval(() => {
        if (stopped()) {
          clearInterval(timer);
          ticking = false;
          if (inFlight === 0) resolve();
          return;
        }
        const due = Math.floor(((performance.now() - start) * perSec) / 1000);
        for (; issued < due; issued++) {
          inFlight++;
          void put(issued % 4096).then(settled, settled);
        }
      }, 1);
    });

/** Drives `kv` with `load`, and measures a window of `windowMs` after `warmupMs`; `counters` also reads the actors' sent counters around it. */
export async function measure(kv: KvCluster, load: Load, warmupMs: number, windowMs: number, counters = false): Promise<Sample> {
  const latencies: number[] = [];
  let recording = false;
  let stop = false;
  let n = 0;
  // Not an async function: one promise per put fewer, on the thread the client shares with the cluster's answers.
  const put = (i: number) => {
    const t = performance.now();
    return kv.put(`k${i}`, n++).then(() => {
      if (recording) latencies.push(performance.now() - t);
    });
  };
  const running = load(put, () => stop);
  try {
    await sleep(warmupMs);
    const sent0 = counters ? await sentSum(kv) : null;
    recording = true;
    const ticks0 = cpuTicks();
    const t0 = performance.now();
    await sleep(windowMs);
    recording = false;
    const done = latencies.length;
    const elapsed = performance.now() - t0;
    const ticks = cpuTicks() - ticks0;
    const sent1 = sent0 ? await sentSum(kv) : null;
    latencies.sort((a, b) => a - b);
    const actorMsgsPerSec = sent0 && sent1 ? ((sent1.sent - sent0.sent) * 1000) / (sent1.at - sent0.at) : Number.NaN;
    return { perSec: (done * 1000) / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), actorMsgsPerSec, cpu: (ticks * 1000) / elapsed };
  } finally {
    stop = true;
    await running;
  }
}

/** The options of a cluster for `c`; the transport only when it is not the default, so builds without the option still run port. */
export function clusterOptions(c: Pick<CurveConfig, 'acceptors' | 'storage' | 'transport' | 'batchMax' | 'window'>): KvClusterOptions {
  return {
    proposers: 3,
    acceptors: c.acceptors,
    learners: 2,
    check: false,
    timeoutMs: 15_000,
    concurrency: 4096,
    batchMax: c.batchMax,
    window: c.window,
    ...(c.storage === 'durable' ? { storage: 'lmdb', durable: true } : { storage: 'memory' }),
    ...(c.transport === 'port' ? {} : { transport: c.transport }),
  } as KvClusterOptions;
}

/** Runs `clients` closed-loop clients on `kv` for `totalMs`, and returns the first COLD_MS of it, measured (the rest is discarded). */
async function settle(kv: KvCluster, clients: number, totalMs: number): Promise<Sample> {
  const first = await measure(kv, closedLoop(clients), 0, COLD_MS);
  await measure(kv, closedLoop(clients), 0, totalMs - COLD_MS);
  return first;
}

/** Whether `err` is this build refusing the `transport` option (it predates it). */
const transportRefused = (err: unknown) => err instanceof Error && /transport/.test(err.message) && (err as { code?: string }).code === 'SYNOD_INVALID_OPTIONS';

/** One repeat of one curve: a sample per client count (null where it was not reached: a load point failed), and the half-load point. */
interface CurveRun {
  /** The first COLD_MS of the fresh cluster, at SETTLE_CLIENTS. */
  readonly cold: Sample | null;
  /** The first COLD_MS at one client after that (null if the settling failed there). */
  readonly coldLow: Sample | null;
  readonly points: ReadonlyArray<Sample | null>;
  readonly half: (Sample & { readonly offered: number }) | null;
}

async function runCurve(ctx: BenchContext): Promise<BenchOutput> {
  const plan = curvePlan(ctx.quick);
  const notes: string[] = [];
  const runs = new Map<CurveConfig, CurveRun[]>(plan.curves.map((c) => [c, []]));
  const refused = new Set<Transport>();
  /** Load points that failed, by curve and point: in which repeats, and the first error. */
  const failures = new Map<string, { repeats: number[]; message: string }>();
  // The warm-up: one short cluster run, discarded (JIT, lmdb loading, the file system cache).
  {
    const kv = await createKvCluster(clusterOptions(plan.curves[0] as CurveConfig));
    try {
      await measure(kv, closedLoop(64), 200, 300);
    } finally {
      await kv.close();
    }
    ctx.step('warm-up');
  }
  for (let r = 0; r < ctx.repeats; r++) {
    for (const c of plan.curves) {
      const stepsOfCurve = plan.clients.length + 2;
      if (refused.has(c.transport)) {
        for (let i = 0; i < stepsOfCurve; i++) ctx.step();
        continue;
      }
      let kv: KvCluster;
      try {
        kv = await createKvCluster(clusterOptions(c));
      } catch (err) {
        if (!transportRefused(err)) throw err;
        refused.add(c.transport);
        notes.push(`this build has no transport option for the key-value cluster: the ${c.transport} curves were not measured`);
        for (let i = 0; i < stepsOfCurve; i++) ctx.step();
        continue;
      }
      const points: Array<Sample | null> = plan.clients.map(() => null);
      let half: CurveRun['half'] = null;
      let cold: Sample | null = null;
      let coldLow: Sample | null = null;
      let stepped = 0;
      try {
        cold = await settle(kv, SETTLE_CLIENTS, SETTLE_MS);
        coldLow = await settle(kv, 1, LOW_SETTLE_MS);
        ctx.step(`${curveKey(c)} fresh cluster settling, repeat ${r + 1}/${ctx.repeats}`);
        stepped++;
        for (const [i, clients] of plan.clients.entries()) {
          points[i] = await measure(kv, closedLoop(clients), plan.warmupMs, plan.windowMs);
          ctx.step(`${curveKey(c)} ${clients} clients, repeat ${r + 1}/${ctx.repeats}`);
          stepped++;
        }
        const offered = Math.max(1, Math.round(Math.max(...points.map((p) => p?.perSec ?? 0)) / 2));
        half = { ...(await measure(kv, openLoop(offered), plan.warmupMs, plan.windowMs)), offered };
        ctx.step(`${curveKey(c)} half load, repeat ${r + 1}/${ctx.repeats}`);
        stepped++;
      } catch (err) {
        // A load point that fails (a put with no answer within timeoutMs) ends this repeat of the curve, not the benchmark.
        const what = stepped === 0 ? 'settling' : stepped <= plan.clients.length ? `${plan.clients[stepped - 1]} clients` : 'half load';
        const key = `${curveKey(c)} failed at ${what}`;
        const seen = failures.get(key);
        if (seen) seen.repeats.push(r + 1);
        else failures.set(key, { repeats: [r + 1], message: String((err as Error).message ?? err).split('\n')[0] as string });
        for (; stepped < stepsOfCurve; stepped++) ctx.step();
      } finally {
        await kv.close();
      }
      if (cold !== null) (runs.get(c) as CurveRun[]).push({ cold, coldLow, points, half });
    }
  }

  for (const [key, f] of failures) notes.push(`${key} in repeat${f.repeats.length > 1 ? 's' : ''} ${f.repeats.join(', ')} of ${ctx.repeats} (${f.message}); the later points of those repeats are missing`);
  const figures: Record<string, Figure> = {};
  const measured = plan.curves.filter((c) => (runs.get(c) as CurveRun[]).length > 0);
  for (const c of measured) {
    const rs = runs.get(c) as CurveRun[];
    const k = curveKey(c);
    plan.clients.forEach((clients, i) => {
      const at = rs.flatMap((run) => (run.points[i] ? [run.points[i]] : []));
      if (at.length === 0) return;
      figures[`${k}/c${clients}/cmds-per-s`] = figure(at.map((s) => s.perSec), 'cmds/s', 'higher');
      figures[`${k}/c${clients}/p50`] = figure(at.map((s) => s.p50), 'ms', 'lower');
      figures[`${k}/c${clients}/p99`] = figure(at.map((s) => s.p99), 'ms', 'lower');
      if (at.every((s) => Number.isFinite(s.cpu))) figures[`${k}/c${clients}/cpu-us-per-cmd`] = figure(at.map((s) => (s.cpu * 1e4) / s.perSec), 'us', 'lower');
    });
    for (const [p, samples] of [
      ['cold', rs.flatMap((run) => (run.cold ? [run.cold] : []))],
      ['cold-c1', rs.flatMap((run) => (run.coldLow ? [run.coldLow] : []))],
    ] as const) {
      if (samples.length === 0) continue;
      figures[`${k}/${p}/cmds-per-s`] = figure(samples.map((s) => s.perSec), 'cmds/s', 'higher');
      figures[`${k}/${p}/p50`] = figure(samples.map((s) => s.p50), 'ms', 'lower');
      figures[`${k}/${p}/p99`] = figure(samples.map((s) => s.p99), 'ms', 'lower');
    }
    // A repeat that settled but failed at its first point has no load point to take a best from.
    const loaded = rs.filter((run) => run.points.some((p) => p !== null));
    if (loaded.length > 0) figures[`${k}/max-cmds-per-s`] = figure(loaded.map((run) => Math.max(...run.points.map((p) => p?.perSec ?? 0))), 'cmds/s', 'higher');
    const halves = rs.flatMap((run) => (run.half ? [run.half] : []));
    if (halves.length === 0) continue;
    figures[`${k}/half-load/offered-per-s`] = figure(halves.map((h) => h.offered), 'cmds/s', 'higher');
    figures[`${k}/half-load/cmds-per-s`] = figure(halves.map((h) => h.perSec), 'cmds/s', 'higher');
    figures[`${k}/half-load/p50`] = figure(halves.map((h) => h.p50), 'ms', 'lower');
    figures[`${k}/half-load/p99`] = figure(halves.map((h) => h.p99), 'ms', 'lower');
  }

  const tables: Table[] = [
    {
      title: `Multi-Paxos key-value cluster, 3 proposers / N acceptors / 2 learners: fresh = its first ${COLD_MS} ms at ${SETTLE_CLIENTS} clients (then settling to ${SETTLE_MS} ms), first at 1 = the first ${COLD_MS} ms at 1 client after that (then settling to ${LOW_SETTLE_MS} ms); closed loop, ${plan.windowMs} ms windows after ${plan.warmupMs} ms; half = open loop at half the best throughput`,
      head: ['acc', 'storage', 'transport', 'batch/win', 'clients', 'cmds/s', 'p50 ms', 'p99 ms', 'cpu us/cmd'],
      rows: measured.flatMap((c) => {
        const k = curveKey(c);
        const cells = (p: string, clients: string) => [String(c.acceptors), c.storage, c.transport, `${c.batchMax}/${c.window}`, clients, fmtFigure(figures[`${k}/${p}/cmds-per-s`]), fmtFigure(figures[`${k}/${p}/p50`]), fmtFigure(figures[`${k}/${p}/p99`]), p === 'half-load' || p.startsWith('cold') ? '' : fmtFigure(figures[`${k}/${p}/cpu-us-per-cmd`])];
        const offered = figures[`${k}/half-load/offered-per-s`];
        return [cells('cold', `fresh (${SETTLE_CLIENTS})`), cells('cold-c1', 'first at 1'), ...plan.clients.map((n) => cells(`c${n}`, String(n))), cells('half-load', offered ? `half (${fmt(offered.value)}/s)` : 'half (-)')];
      }),
    },
  ];
  const series = (cs: readonly CurveConfig[], p: 'p50' | 'p99', name: (c: CurveConfig) => string): Series[] =>
    cs.map((c) => ({
      name: name(c),
      points: plan.clients.flatMap((n) => {
        const x = figures[`${curveKey(c)}/c${n}/cmds-per-s`];
        const y = figures[`${curveKey(c)}/c${n}/${p}`];
        return x && y ? [[x.value, y.value] as const] : [];
      }),
    }));
  const charts: Chart[] = [];
  for (const storage of ['durable', 'memory'] as const) {
    const cs = measured.filter((c) => c.storage === storage);
    if (cs.length === 0) continue;
    for (const p of ['p50', 'p99'] as const) {
      charts.push({ kind: 'curve', title: `Commit latency ${p} vs throughput, ${storage} (closed loop, points = ${plan.clients.join('/')} clients)`, xLabel: 'commands/s', yLabel: `${p} ms`, series: series(cs, p, (c) => `a${c.acceptors} ${c.transport} ${c.batchMax}/${c.window}`) });
    }
  }
  charts.push({
    kind: 'bars',
    title: 'Best closed-loop throughput (commands/s)',
    unit: 'cmds/s',
    bars: measured.flatMap((c) => {
      const f = figures[`${curveKey(c)}/max-cmds-per-s`];
      return f ? [{ label: `a${c.acceptors} ${c.storage} ${c.transport} ${c.batchMax}/${c.window}`, value: f.value, min: f.min, max: f.max }] : [];
    }),
  });
  return {
    config: { repeats: ctx.repeats, clients: plan.clients, settleClients: SETTLE_CLIENTS, settleMs: SETTLE_MS, coldMs: COLD_MS, lowSettleMs: LOW_SETTLE_MS, warmupMs: plan.warmupMs, windowMs: plan.windowMs, proposers: 3, learners: 2, curves: plan.curves.map(curveLabel), check: false },
    figures,
    charts,
    tables,
    notes,
  };
}

export const kvCurveBench: BenchDef = {
  name: 'kv-curve',
  title: 'Multi-Paxos throughput and latency',
  description:
    'Commands/s and commit latency p50/p99 of the key-value cluster against closed-loop client counts once a fresh cluster has settled (its first second at 64 clients measured as `cold`, then its first second at one client as `cold-c1`), plus an open loop at half the best throughput, for 3/5/7 acceptors, durable and in memory, per transport, and a few batch/window sizes (quick: 3 acceptors, port, durable and memory, 3 load points).',
  repeats: { quick: 1, full: 3 },
  steps: (quick, repeats) => {
    const plan = curvePlan(quick);
    return 1 + repeats * plan.curves.length * (plan.clients.length + 2);
  },
  run: runCurve,
};

// ---------------------------------------------------------------- efficiency

/** Clients of the saturating closed loop the efficiency benchmark runs. */
const EFFICIENCY_CLIENTS = 256;

async function runEfficiency(ctx: BenchContext): Promise<BenchOutput> {
  const rawCount = ctx.quick ? 102_400 : 409_600;
  const warmupMs = ctx.quick ? 400 : 600;
  const windowMs = ctx.quick ? 1500 : 2000;
  const storages = ['memory', 'durable'] as const;
  const raw: number[][] = [];
  const cluster: Record<string, Sample[]> = { memory: [], durable: [] };
  const lab = new PathsLab();
  try {
    await lab.stream(RAW_BATCHED, 6_400);
    ctx.step('warm-up');
    for (let r = 0; r < ctx.repeats; r++) {
      const rates = [await lab.stream(RAW_BATCHED, rawCount)];
      ctx.step(`raw, repeat ${r + 1}/${ctx.repeats}`);
      for (const storage of storages) {
        const kv = await createKvCluster(clusterOptions({ acceptors: 3, storage, transport: 'port', batchMax: 256, window: 32 }));
        try {
          (cluster[storage] as Sample[]).push(await measure(kv, closedLoop(EFFICIENCY_CLIENTS), warmupMs, windowMs, true));
        } finally {
          await kv.close();
        }
        ctx.step(`${storage} cluster, repeat ${r + 1}/${ctx.repeats}`);
      }
      rates.push(await lab.stream(RAW_BATCHED, rawCount));
      raw.push(rates);
    }
  } finally {
    await lab.close();
  }
  const rawPerRepeat = raw.map((rates) => median(rates));
  const figures: Record<string, Figure> = { 'raw/msgs-per-s': figure(raw.flat(), 'msgs/s', 'higher') };
  for (const s of storages) {
    const samples = cluster[s] as Sample[];
    figures[`${s}/actor-msgs-per-s`] = figure(samples.map((x) => x.actorMsgsPerSec), 'msgs/s', 'higher');
    figures[`${s}/cmds-per-s`] = figure(samples.map((x) => x.perSec), 'cmds/s', 'higher');
    figures[`${s}/msgs-per-cmd`] = figure(samples.map((x) => x.actorMsgsPerSec / x.perSec), 'msgs', 'lower');
    figures[`${s}/efficiency`] = figure(samples.map((x, i) => x.actorMsgsPerSec / (rawPerRepeat[i] as number)), 'x', 'higher');
  }
  return {
    config: { repeats: ctx.repeats, rawMessages: rawCount, rawPath: 'port worker->worker, 64 per post, async ends', cluster: '3 proposers, 3 acceptors, 2 learners, port, batch 256/window 32', clients: EFFICIENCY_CLIENTS, warmupMs, windowMs },
    figures,
    charts: [
      {
        kind: 'bars',
        title: 'Actor-to-actor messages/s in the cluster vs raw batched postMessage',
        unit: 'msgs/s',
        bars: [
          { label: 'raw port x64 worker->worker', ...spreadOf(figures['raw/msgs-per-s'] as Figure) },
          ...storages.map((s) => ({ label: `cluster actors, ${s}`, ...spreadOf(figures[`${s}/actor-msgs-per-s`] as Figure) })),
        ],
      },
    ],
    tables: [
      {
        title: `Efficiency: the cluster's actor-to-actor message rate (${EFFICIENCY_CLIENTS} clients) over the raw batched postMessage rate (${fmtFigure(figures['raw/msgs-per-s'])} msgs/s) in the same run`,
        head: ['storage', 'cmds/s', 'actor msgs/s', 'msgs/cmd', 'efficiency'],
        rows: storages.map((s) => [s, fmtFigure(figures[`${s}/cmds-per-s`]), fmtFigure(figures[`${s}/actor-msgs-per-s`]), fmtFigure(figures[`${s}/msgs-per-cmd`]), fmtFigure(figures[`${s}/efficiency`])]),
      },
    ],
    notes: [],
  };
}

const spreadOf = (f: Figure) => ({ value: f.value, min: f.min, max: f.max });

export const efficiencyBench: BenchDef = {
  name: 'efficiency',
  title: 'Efficiency',
  description: `The key-value cluster's actor-to-actor message rate (sum of the actors' sent counters) at ${EFFICIENCY_CLIENTS} closed-loop clients, divided by the raw batched postMessage rate (port, worker->worker, 64 per post) measured in the same run.`,
  repeats: { quick: 1, full: 3 },
  steps: (_quick, repeats) => 1 + repeats * 3,
  run: runEfficiency,
};
