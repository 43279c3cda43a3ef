/**
 * The key-value store on worker threads: throughput (commands/s) and commit
 * latency (a put, from the call to its promise resolving) on a 3-proposer,
 * 3-acceptor, 2-learner cluster, with durable LMDB logs and with in-memory
 * logs, at several offered loads and batch/window sizes.
 *
 * Closed loop: `concurrency` clients each put, await, put again, for
 * `duration` ms after a warm-up; every cell runs on a fresh cluster and is
 * repeated, and the table shows the median of each column over the repeats.
 * Then an open loop per storage: puts arrive at a steady rate of half the
 * best closed-loop throughput, whatever the answers do, which is the latency
 * a cluster at half its maximum load gives.
 *
 * The safety checker is off (`check: false`): with it on, acceptors and
 * learners copy every record and slot to the main thread; `--check` turns it
 * on to measure that cost. `cpu` is the whole process's CPU time over the
 * measured window (Linux /proc), as a share of one CPU, and `us/cmd` that
 * time per command.
 *
 *   node dist/bench/kv-cluster.js [--duration MS] [--repeats N] [--loads 1,16,64,256,1024] [--check]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createKvCluster, type KvClusterOptions } from '../src/runtime/kv.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '2000' },
    repeats: { type: 'string', default: '3' },
    loads: { type: 'string', default: '1,16,64,256,1024' },
    check: { type: 'boolean', default: false },
  },
});
const durationMs = Number(values.duration);
const repeats = Number(values.repeats);
const loads = values.loads.split(',').map(Number);
if (!(durationMs >= 100 && repeats >= 1 && loads.every((n) => Number.isInteger(n) && n >= 1))) {
  process.stderr.write('usage: kv-cluster [--duration MS>=100] [--repeats N>=1] [--loads 1,16,64,256,1024] [--check]\n');
  process.exit(2);
}
const WARMUP_MS = 500;

/** Cluster options a run may set: everything but the membership, which is fixed. */
type RunOptions = Omit<KvClusterOptions, 'proposers' | 'acceptors' | 'learners'>;

/** Storage modes and batch/window sizes measured. */
const storages: ReadonlyArray<{ readonly name: string; readonly options: RunOptions }> = [
  { name: 'durable', options: { storage: 'lmdb', durable: true } },
  { name: 'memory', options: { storage: 'memory' } },
];
const shapes: ReadonlyArray<{ readonly batchMax: number; readonly window: number }> = [
  { batchMax: 64, window: 32 },
  { batchMax: 256, window: 32 },
];

/** What one run measured. */
interface Sample {
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU time of the process over the window, in % of one CPU, or NaN where /proc is missing. */
  readonly cpu: number;
}

const quantile = (sorted: readonly number[], q: number) => (sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number));
const median = (xs: readonly number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** CPU ticks (1/100 s) used so far by every thread of this process; NaN without /proc. */
function cpuTicks(): number {
  try {
    let ticks = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks;
  } catch {
    return Number.NaN;
  }
}

/** Measures a window of `durationMs` after the warm-up while `load` drives the cluster; returns the latencies recorded in it. */
async function measure(options: RunOptions, load: (put: (i: number) => Promise<void>, stopped: () => boolean) => Promise<void>): Promise<Sample> {
  const kv = await createKvCluster({ check: values.check, timeoutMs: 60_000, ...options, proposers: 3, acceptors: 3, learners: 2 });
  try {
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
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    recording = true;
    const ticks0 = cpuTicks();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, durationMs));
    const elapsed = performance.now() - t0;
    const ticks = cpuTicks() - ticks0;
    recording = false;
    const done = latencies.length;
    stop = true;
    await running;
    latencies.sort((a, b) => a - b);
    return { perSec: (done * 1000) / elapsed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), cpu: (ticks * 1000) / elapsed };
  } finally {
    await kv.close();
  }
}

/** `concurrency` clients, each putting and awaiting in a loop. */
const closedLoop = (concurrency: number) => (put: (i: number) => Promise<void>, stopped: () => boolean) =>
  Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (!stopped()) await put(i);
    }),
  ).then(() => undefined);

/** Puts arriving at `perSec`, spread over 1 ms ticks, however long answers take. */
const openLoop = (perSec: number) => (put: (i: number) => Promise<void>, stopped: () => boolean) =>
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
        void put(issued % 4096).then(settled);
      }
    }, 1);
  });

const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const row = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(i === 0 ? 9 : 13) : c.padStart(9))).join(' ');
const line = (cells: readonly string[]) => process.stdout.write(`${row(cells)}\n`);

process.stdout.write(`kv cluster 3 proposers / 3 acceptors / 2 learners; ${durationMs} ms per run after ${WARMUP_MS} ms warm-up, median of ${repeats}; check ${values.check ? 'on' : 'off'}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n\n`);
line(['storage', 'batch/window', 'clients', 'cmds/s', 'p50 ms', 'p99 ms', 'cpu %', 'us/cmd']);
const best = new Map<string, { perSec: number; shape: (typeof shapes)[number] }>();
for (const storage of storages) {
  for (const shape of shapes) {
    for (const concurrency of loads) {
      const samples: Sample[] = [];
      for (let r = 0; r < repeats; r++) samples.push(await measure({ ...storage.options, ...shape, concurrency: Math.max(64, concurrency) }, closedLoop(concurrency)));
      const perSec = median(samples.map((s) => s.perSec));
      const cpu = median(samples.map((s) => s.cpu));
      line([storage.name, `${shape.batchMax}/${shape.window}`, String(concurrency), fmt(perSec), fmt(median(samples.map((s) => s.p50)), 2), fmt(median(samples.map((s) => s.p99)), 2), fmt(cpu), fmt((cpu * 1e4) / perSec, 1)]);
      if (perSec > (best.get(storage.name)?.perSec ?? 0)) best.set(storage.name, { perSec, shape });
    }
  }
}

process.stdout.write('\nopen loop at half the best closed-loop throughput (its batch/window):\n');
line(['storage', 'batch/window', 'offered/s', 'cmds/s', 'p50 ms', 'p99 ms', 'cpu %', 'us/cmd']);
for (const storage of storages) {
  const top = best.get(storage.name);
  if (!top) continue;
  const rate = Math.round(top.perSec / 2);
  const samples: Sample[] = [];
  for (let r = 0; r < repeats; r++) samples.push(await measure({ ...storage.options, ...top.shape, concurrency: 4096 }, openLoop(rate)));
  const perSec = median(samples.map((s) => s.perSec));
  const cpu = median(samples.map((s) => s.cpu));
  line([storage.name, `${top.shape.batchMax}/${top.shape.window}`, String(rate), fmt(perSec), fmt(median(samples.map((s) => s.p50)), 2), fmt(median(samples.map((s) => s.p99)), 2), fmt(cpu), fmt((cpu * 1e4) / perSec, 1)]);
}
