/**
 * The `reconfig` benchmark of `synod bench`: an acceptor replaced through the
 * log under load. Each repeat starts a fresh key-value cluster (2 proposers,
 * 3 acceptors, 2 learners, durable LMDB, the checker off), runs a closed loop
 * of writers (each puts, awaits, puts again) and measures, on the times at
 * which writes were acknowledged:
 *   - the throughput before (a window before the reconfiguration), during
 *     (from the call of `reconfigure({ add: ['a4'], remove: ['a2'] })` to its
 *     promise resolving: the new acceptor's thread and store started, the
 *     reconfiguration chosen, the new view deciding, a2 stopped and retired)
 *     and after (a window after it);
 *   - the write unavailability: the longest gap between consecutive
 *     acknowledged writes that overlaps the reconfiguration (the longest the
 *     writers went without an acknowledgement), beside the longest gap in
 *     a window as long just before it (what the writers see anyway: group
 *     commits, garbage collections).
 * The first repeat is a warm-up and is discarded. A figure is the median over
 * repeats (so the p50 of the unavailability), with their min and max.
 * Throughput after dips for about a second (the new acceptor's thread warms
 * up, the supervisor boots a spare to replace the one it took) and is back
 * to its level after.
 */
import { createKvCluster } from '../src/runtime/kv-cluster.js';
import { sleep, type BenchContext, type BenchDef } from './lib/context.js';
import { figure, fmtFigure, type BenchOutput, type Figure } from './lib/report.js';
import { longestGap } from './lib/stats.js';

interface Plan {
  readonly clients: number;
  /** The windows before and after the reconfiguration, in ms. */
  readonly windowMs: number;
}

function plan(quick: boolean): Plan {
  return quick ? { clients: 16, windowMs: 700 } : { clients: 64, windowMs: 2000 };
}

/** One repeat's measurements. */
interface Sample {
  readonly before: number;
  readonly during: number;
  readonly after: number;
  readonly reconfigMs: number;
  readonly gapMs: number;
  readonly baselineGapMs: number;
}

async function replaceOnce(p: Plan): Promise<Sample> {
  const kv = await createKvCluster({ proposers: 2, acceptors: 3, learners: 2, check: false, concurrency: p.clients });
  try {
    const acks: number[] = [];
    let stopped = false;
    const writer = async (c: number) => {
      for (let i = 0; !stopped; i++) {
        await kv.put(`k${c}`, i);
        acks.push(performance.now());
      }
    };
    const writers = Promise.all(Array.from({ length: p.clients }, (_, c) => writer(c)));
    // Past the start-up: the window begins once writes flow.
    await sleep(p.windowMs / 2);
    const b0 = performance.now();
    await sleep(p.windowMs);
    const t0 = performance.now();
    await kv.reconfigure({ add: ['a4'], remove: ['a2'] });
    const t1 = performance.now();
    await sleep(p.windowMs);
    const a1 = performance.now();
    stopped = true;
    await writers;
    const rate = (from: number, to: number) => (acks.filter((t) => t >= from && t < to).length * 1000) / (to - from);
    return { before: rate(b0, t0), during: rate(t0, t1), after: rate(t1, a1), reconfigMs: t1 - t0, gapMs: longestGap(acks, t0, t1), baselineGapMs: longestGap(acks, t0 - (t1 - t0), t0) };
  } finally {
    await kv.close();
  }
}

async function runReconfig(ctx: BenchContext): Promise<BenchOutput> {
  const p = plan(ctx.quick);
  const samples: Sample[] = [];
  for (let i = -1; i < ctx.repeats; i++) {
    const s = await replaceOnce(p);
    if (i >= 0) samples.push(s);
    ctx.step(i < 0 ? 'warm-up' : `replacement ${i + 1}/${ctx.repeats}`);
  }
  const of = (k: keyof Sample) => samples.map((s) => s[k]);
  const figures: Record<string, Figure> = {
    'replace/write-unavailability': figure(of('gapMs'), 'ms', 'lower'),
    'replace/longest-gap-before': figure(of('baselineGapMs'), 'ms', 'lower'),
    'replace/duration': figure(of('reconfigMs'), 'ms', 'lower'),
    'throughput/before': figure(of('before'), 'ops/s', 'higher'),
    'throughput/during': figure(of('during'), 'ops/s', 'higher'),
    'throughput/after': figure(of('after'), 'ops/s', 'higher'),
    'throughput/during-over-before': figure(samples.map((s) => s.during / s.before), 'x', 'higher'),
  };
  const row = (label: string, key: string) => [label, fmtFigure(figures[key])];
  return {
    config: { clients: p.clients, windowMs: p.windowMs, repeats: ctx.repeats, cluster: '2 proposers, 3 acceptors (a2 replaced by a4), 2 learners, durable, checker off', workload: 'closed loop of puts' },
    figures,
    charts: [{ kind: 'bars', title: `Write throughput around an acceptor replacement, ${p.clients} writers (ops/s)`, unit: 'ops/s', bars: ['before', 'during', 'after'].map((w) => ({ label: w, ...(figures[`throughput/${w}`] as Figure) })) }],
    tables: [
      {
        title: `Replacing acceptor a2 with a4 under ${p.clients} writers (median, min–max over ${ctx.repeats} repeats)`,
        head: ['figure', 'value'],
        rows: [
          row('reconfigure() call to resolved (ms)', 'replace/duration'),
          row('write unavailability: longest gap between acks during it (ms)', 'replace/write-unavailability'),
          row('longest gap in as long a window just before (ms)', 'replace/longest-gap-before'),
          row('throughput before (ops/s)', 'throughput/before'),
          row('throughput during (ops/s)', 'throughput/during'),
          row('throughput after (ops/s)', 'throughput/after'),
        ],
      },
    ],
    notes: [],
  };
}

/** The `reconfig` benchmark (see the module comment). */
export const reconfigBench: BenchDef = {
  name: 'reconfig',
  title: 'Replacing an acceptor under load',
  description: 'An acceptor replaced through the log (reconfigure) under a closed loop of writers: the write unavailability (longest gap between acknowledged writes during it; p50 and max over repeats) and the write throughput before, during and after.',
  repeats: { quick: 3, full: 10 },
  steps: (_quick, repeats) => repeats + 1,
  run: runReconfig,
};
