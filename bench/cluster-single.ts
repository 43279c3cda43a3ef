/**
 * The single-decree cluster on worker threads (the `single-decree` and
 * `restart` benchmarks of `synod bench`).
 *
 * single-decree: decision latency, from `propose` to the decided value back,
 * on a fresh 2-proposer / 3-acceptor / 1-learner cluster per decision (a
 * single-decree cluster decides once), with durable LMDB and with in-memory
 * storage, alternating. Each cluster is left alone for a moment after it
 * starts, so that the supervisor's spare worker has finished booting and
 * does not compete for the CPUs. One discarded decision per storage first.
 *
 * restart: crash -> serving again, from the supervisor's restart events, for
 * an acceptor killed with worker.terminate() on a warm 1/3/1 cluster, a
 * single-decree one and a key-value (Multi-Paxos) one (figures
 * `restart/...` and `restart/kv/...`), cold
 * (no spare worker: `supervisor.spares: 0`) and warm (one pre-booted spare
 * with lmdb loaded). Backoff is off so this measures the restart itself; a
 * pause between crashes lets the spare boot again.
 */
import { createCluster, type ClusterOptions } from '../src/runtime/cluster.js';
import { createKvCluster, type KvClusterOptions } from '../src/runtime/kv-cluster.js';
import { sleep, type BenchContext, type BenchDef } from './lib/context.js';
import { figure, fmtFigure, type BenchOutput, type Figure } from './lib/report.js';
import { percentileCurve, summarize } from './lib/stats.js';

/** Pause after a cluster starts, before it is measured. */
const SETTLE_MS = 250;
/** Pause between crashes in the restart benchmark (twice this for the key-value cluster, see RESTARTED). */
const BETWEEN_CRASHES_MS = 250;

const STORAGES = [
  { name: 'durable', options: { storage: 'lmdb', durable: true } },
  { name: 'memory', options: { storage: 'memory' } },
] as const satisfies ReadonlyArray<{ name: string; options: Partial<ClusterOptions> }>;

/** Percentile figures of one set of samples (ms), each sample one measurement. */
function sampleFigures(prefix: string, samples: number[], unit: string): Record<string, Figure> {
  const s = summarize(samples);
  const one = (v: number) => ({ value: v, min: s.min, max: s.max, n: s.count, unit, better: 'lower' as const });
  return { [`${prefix}/p50`]: one(s.p50), [`${prefix}/p99`]: one(s.p99), [`${prefix}/mean`]: one(s.mean) };
}

async function runSingleDecree(ctx: BenchContext): Promise<BenchOutput> {
  const samples: Record<string, number[]> = { durable: [], memory: [] };
  for (let i = -1; i < ctx.repeats; i++) {
    for (const storage of STORAGES) {
      const cluster = await createCluster({ proposers: 2, acceptors: 3, learners: 1, ...storage.options });
      try {
        await sleep(SETTLE_MS);
        const t0 = performance.now();
        await cluster.propose(`v${i}`, { timeoutMs: 10_000 });
        const ms = performance.now() - t0;
        if (i >= 0) (samples[storage.name] as number[]).push(ms);
      } finally {
        await cluster.close();
      }
      ctx.step(i < 0 ? 'warm-up' : `decision ${i + 1}/${ctx.repeats}`);
    }
  }
  const figures: Record<string, Figure> = {};
  for (const s of STORAGES) Object.assign(figures, sampleFigures(`decision/${s.name}`, samples[s.name] as number[], 'ms'));
  return {
    config: { decisionsPerStorage: ctx.repeats, cluster: '2 proposers, 3 acceptors, 1 learner', settleMs: SETTLE_MS },
    figures,
    charts: [{ kind: 'percentiles', title: 'Single-decree decision latency, fresh cluster (ms)', unit: 'ms', series: STORAGES.map((s) => ({ name: s.name, points: percentileCurve(Float64Array.from(samples[s.name] as number[]).sort()) })) }],
    tables: [
      {
        title: 'Single-decree decision latency, propose -> decided, fresh 2/3/1 cluster (ms; range = min–max over decisions)',
        head: ['storage', 'decisions', 'p50', 'p99', 'mean'],
        rows: STORAGES.map((s) => [s.name, String((samples[s.name] as number[]).length), fmtFigure(figures[`decision/${s.name}/p50`]), fmtFigure(figures[`decision/${s.name}/p99`]), fmtFigure(figures[`decision/${s.name}/mean`])]),
      },
    ],
    notes: [],
  };
}

export const singleDecreeBench: BenchDef = {
  name: 'single-decree',
  title: 'Single-decree decision',
  description: 'Decision latency (propose -> decided value back) of a fresh 2/3/1 single-decree cluster, durable LMDB and in memory; p50/p99 over one decision per cluster.',
  repeats: { quick: 5, full: 30 },
  steps: (_quick, repeats) => (repeats + 1) * STORAGES.length,
  run: runSingleDecree,
};

/** Whether `err` is this build refusing the `spares` supervisor option (it predates it). */
const sparesRefused = (err: unknown) => err instanceof Error && /spares/.test(err.message) && (err as { code?: string }).code === 'SYNOD_INVALID_OPTIONS';

/** The clusters the restart benchmark restarts an acceptor of, with the prefix of their figures. */
const RESTARTED = [
  { name: 'single-decree', prefix: 'restart', cluster: '1 proposer, 3 acceptors, 1 learner, durable LMDB', pauseMs: BETWEEN_CRASHES_MS },
  // A key-value spare loads more (the replicated log's core, the machine, the record log) and warms up its log too: on a loaded 2-vCPU machine 250 ms was not always enough, and a restart then took a spare still booting.
  { name: 'key-value', prefix: 'restart/kv', cluster: 'key-value (Multi-Paxos): 1 proposer, 3 acceptors, 1 learner, durable LMDB', pauseMs: 2 * BETWEEN_CRASHES_MS },
] as const;
type Restarted = (typeof RESTARTED)[number];

/** A cluster the restart benchmark can crash an acceptor of and wait for. */
interface RestartTarget {
  crash(id: string, how: 'terminate'): Promise<void>;
  once(event: 'restart', listener: (e: { readonly recoveryMs: number }) => void): unknown;
  close(): Promise<void>;
}

/** Starts `which` with `supervisor`, and makes it serve once (a decision, or a put). */
async function startRestarted(which: Restarted, supervisor: object): Promise<RestartTarget> {
  const base = { proposers: 1, acceptors: 3, learners: 1 } as const;
  if (which.name === 'single-decree') {
    const cluster = await createCluster({ ...base, supervisor } as ClusterOptions);
    await cluster.propose('warm', { timeoutMs: 10_000 }).catch(async (err: unknown) => {
      await cluster.close();
      throw err;
    });
    return cluster as unknown as RestartTarget;
  }
  const cluster = await createKvCluster({ ...base, supervisor } as KvClusterOptions);
  await cluster.put('warm', 'up').catch(async (err: unknown) => {
    await cluster.close();
    throw err;
  });
  return cluster as unknown as RestartTarget;
}

async function runRestart(ctx: BenchContext): Promise<BenchOutput> {
  const notes: string[] = [];
  const samples: Record<string, number[]> = {};
  for (const which of RESTARTED) {
    for (const mode of ['cold', 'warm'] as const) {
      const key = `${which.prefix}/${mode}`;
      const taken: number[] = (samples[key] = []);
      const supervisor = { backoffBaseMs: 0, backoffMaxMs: 0, maxRestarts: ctx.repeats + 10, windowMs: 1000, spares: mode === 'cold' ? 0 : 1 };
      let cluster: RestartTarget;
      try {
        cluster = await startRestarted(which, supervisor);
      } catch (err) {
        if (!sparesRefused(err)) throw err;
        const { spares: _, ...older } = supervisor;
        notes.push(`this build has no supervisor.spares option: the ${which.name} ${mode} restarts ran with the default supervisor (one spare worker), so cold and warm are the same configuration`);
        cluster = await startRestarted(which, older);
      }
      try {
        await sleep(SETTLE_MS);
        for (let i = -1; i < ctx.repeats; i++) {
          const back = new Promise<number>((resolve) => cluster.once('restart', (e) => resolve(e.recoveryMs)));
          await cluster.crash('a1', 'terminate');
          const ms = await back;
          if (i >= 0) taken.push(ms);
          await sleep(which.pauseMs);
          ctx.step(i < 0 ? `${which.name} ${mode} warm-up` : `${which.name} ${mode} restart ${i + 1}/${ctx.repeats}`);
        }
      } finally {
        await cluster.close();
      }
    }
  }
  const figures: Record<string, Figure> = {};
  for (const [key, taken] of Object.entries(samples)) Object.assign(figures, sampleFigures(key, taken, 'ms'));
  for (const which of RESTARTED) {
    const c = figures[`${which.prefix}/cold/p50`] as Figure;
    const w = figures[`${which.prefix}/warm/p50`] as Figure;
    // A ratio of two figures carries both spreads (cold's fastest over warm's slowest, and the other way round), so that `--compare`
    // calls it worse or better only when the two spreads say so: with no spread of its own it was "worse" whenever warm restarts got faster.
    figures[`${which.prefix}/cold-vs-warm/p50`] = { value: c.value / w.value, min: c.min / w.max, max: c.max / w.min, n: 1, unit: 'x', better: 'lower' };
  }
  const label = (which: Restarted, mode: string) => `${which.name}, ${mode === 'cold' ? 'cold (spares: 0)' : 'warm (spares: 1)'}`;
  return {
    config: { restartsPerMode: ctx.repeats, clusters: RESTARTED.map((r) => r.cluster), crash: 'terminate acceptor a1', backoff: 'off', pauseBetweenMs: RESTARTED.map((r) => r.pauseMs) },
    figures,
    charts: [
      {
        kind: 'percentiles',
        title: 'Restart, crash -> serving again (ms)',
        unit: 'ms',
        series: RESTARTED.flatMap((r) => ['cold', 'warm'].map((m) => ({ name: `${r.name} ${m === 'cold' ? 'cold (no spare)' : 'warm spare'}`, points: percentileCurve(Float64Array.from(samples[`${r.prefix}/${m}`] as number[]).sort()) }))),
      },
    ],
    tables: [
      {
        title: 'Restart of a terminated acceptor, crash -> serving again (ms; range = min–max over restarts)',
        head: ['cluster, mode', 'restarts', 'p50', 'p99', 'mean'],
        rows: RESTARTED.flatMap((r) => (['cold', 'warm'] as const).map((m) => [label(r, m), String((samples[`${r.prefix}/${m}`] as number[]).length), fmtFigure(figures[`${r.prefix}/${m}/p50`]), fmtFigure(figures[`${r.prefix}/${m}/p99`]), fmtFigure(figures[`${r.prefix}/${m}/mean`])])),
      },
    ],
    notes,
  };
}

export const restartBench: BenchDef = {
  name: 'restart',
  title: 'Restart',
  description: 'Crash -> serving again for an acceptor killed with worker.terminate(), of a single-decree and of a key-value cluster, cold (no spare worker) vs warm (a pre-booted spare with lmdb loaded); p50/p99 over restarts, backoff off.',
  repeats: { quick: 6, full: 40 },
  steps: (_quick, repeats) => 2 * RESTARTED.length * (repeats + 1),
  run: runRestart,
};
