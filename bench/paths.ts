/**
 * Message paths between threads: round-trip latency and one-way throughput
 * of every transport (and of comlink and piscina, which are request/response
 * and so only measured here), main<->worker and worker<->worker.
 *
 *   npx tsc -p . && node dist/bench/paths.js [--quick] [--repeats N] [--only REGEX] [--json FILE]
 *
 * `--only` keeps the measurements whose name (e.g. "ring-block worker<->worker
 * idle", "port main<->worker x64") matches the regular expression.
 *
 * Method. Two long-lived bench workers (`workers/transport-bench.ts`) play
 * the peers; each measurement gets a fresh pair from the transport. After a
 * warm-up pass over everything (discarded), the whole list of measurements
 * runs `repeats` times, one measurement after another, so drift on this
 * shared VM spreads over every path rather than hitting one. Each round-trip
 * measurement times `count` sequential round trips after `warmup` untimed
 * ones; its percentiles come from the sorted samples (nearest rank:
 * hdr-histogram-js is not installed). Reported: the median over repeats of
 * each figure, with its min–max, and the ratio of the median to the direct
 * MessagePort (`port`) measured in the same run under the same condition.
 *
 * Conditions. This VM pays ~35 us to wake an idle vCPU, which dominates a
 * round trip whose ends sleep between messages. So round trips are measured:
 * - idle: both ends wait (event loop, or Atomics.wait for ring-block);
 * - peer-spins: the pinger waits, the echoing peer busy-polls;
 * - busy: both ends busy-poll (receiveMessageOnPort, or the ring's indices):
 *   no wake-up at all. The hub's relay (the main thread) still waits.
 */
import { cpus, loadavg, release, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import { Packr, Unpackr } from 'msgpackr';
import { Piscina } from 'piscina';
import { createTransport, openEndpoint, transferListOf, type TransportKind, type WaitMode } from '../src/runtime/transports/index.js';
import { workerFile } from '../src/util/paths.js';
import type { BenchCommand, BenchReply } from '../workers/transport-bench.js';
import { benchMsg, ping, pingCalls, source, streamCalls, type BenchMsg, type CallTarget, type PingPlan } from './paths/roles.js';

const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    repeats: { type: 'string' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
const quick = values.quick === true;
const config = {
  repeats: values.repeats !== undefined ? Number(values.repeats) : quick ? 3 : 8,
  rtt: quick ? { count: 2_000, warmup: 300 } : { count: 10_000, warmup: 1_000 },
  /** Messages per one-way measurement (a multiple of 64). */
  streamMsgs: quick ? 51_200 : 204_800,
  /** Messages per request/response throughput measurement at 1 message per call. */
  callMsgs: quick ? 5_120 : 20_480,
  /** Calls kept in flight by comlink and piscina throughput measurements. */
  callWindow: 64,
  batch: 64,
  codecIterations: quick ? 100_000 : 300_000,
  /** A measurement that takes longer is abandoned and its workers replaced. */
  timeoutMs: 120_000,
};
if (!Number.isSafeInteger(config.repeats) || config.repeats < 1) {
  process.stderr.write('usage: paths [--quick] [--repeats N>=1] [--only REGEX] [--json FILE]\n');
  process.exit(2);
}

// ---------------------------------------------------------------- peers

/** A bench worker with request/reply over its parentPort. */
class Peer {
  readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: BenchReply) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  constructor(readonly name: string) {
    this.worker = new Worker(workerFile('transport-bench'));
    this.worker.on('message', (r: BenchReply) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (!w) return;
      if (r.error !== undefined) w.reject(new Error(`${name}: ${r.error}`));
      else w.resolve(r);
    });
    const fail = (err: Error) => {
      this.dead ??= err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', (err) => fail(err));
    this.worker.on('exit', (code) => fail(new Error(`${name} exited with code ${code}`)));
  }

  call(cmd: DistributiveOmit<Exclude<BenchCommand, { cmd: 'exit' }>, 'id'>, transfer: TransferListItem[] = []): Promise<BenchReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...cmd, id }, transfer);
    });
  }

  async stop(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ cmd: 'exit' } satisfies BenchCommand);
    const t = setTimeout(() => void this.worker.terminate(), 2_000);
    await exited;
    clearTimeout(t);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

let w1 = new Peer('worker 1');
let w2 = new Peer('worker 2');
const pools = {
  c1: new Piscina({ filename: workerFile('transport-piscina'), minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1, idleTimeout: 600_000 }),
  c16: new Piscina({ filename: workerFile('transport-piscina'), minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 16, idleTimeout: 600_000 }),
};

// ---------------------------------------------------------------- measurements

type Topology = 'main<->worker' | 'worker<->worker';
type Condition = 'idle' | 'peer-spins' | 'busy';
type PathName = 'port' | 'hub' | 'ring-block' | 'ring-async' | 'ring-spin' | 'comlink' | 'piscina' | 'piscina-c16';

interface RttCase {
  readonly path: PathName;
  readonly topology: Topology;
  readonly condition: Condition;
  /** How the pinger and the echoing peer wait (transports only). */
  readonly waits?: readonly [WaitMode, WaitMode];
}

interface StreamCase {
  readonly path: PathName;
  readonly topology: Topology;
  /** How the source and the sink wait (transports only). */
  readonly waits?: readonly [WaitMode, WaitMode];
  readonly batch: number;
}

const kindOf = (path: PathName): TransportKind => (path === 'hub' ? 'hub' : path.startsWith('ring') ? 'ring' : 'port');

const rttCases: RttCase[] = [];
const streamCases: StreamCase[] = [];
for (const topology of ['main<->worker', 'worker<->worker'] as const) {
  rttCases.push(
    { path: 'port', topology, condition: 'idle', waits: ['async', 'async'] },
    { path: 'port', topology, condition: 'peer-spins', waits: ['async', 'spin'] },
    { path: 'port', topology, condition: 'busy', waits: ['spin', 'spin'] },
  );
  // The hub's main<->worker link would be a port with an extra hop inside the main thread: not measured.
  if (topology === 'worker<->worker') {
    rttCases.push({ path: 'hub', topology, condition: 'idle', waits: ['async', 'async'] }, { path: 'hub', topology, condition: 'busy', waits: ['spin', 'spin'] });
  }
  rttCases.push(
    { path: 'ring-block', topology, condition: 'idle', waits: ['block', 'block'] },
    { path: 'ring-async', topology, condition: 'idle', waits: ['async', 'async'] },
    { path: 'ring-block', topology, condition: 'peer-spins', waits: ['block', 'spin'] },
    { path: 'ring-spin', topology, condition: 'busy', waits: ['spin', 'spin'] },
    { path: 'comlink', topology, condition: 'idle' },
  );
  // A piscina pool belongs to the thread that made it: main<->worker only.
  if (topology === 'main<->worker') rttCases.push({ path: 'piscina', topology, condition: 'idle' });

  for (const batch of [1, config.batch]) {
    streamCases.push(
      { path: 'port', topology, waits: ['async', 'async'], batch },
      { path: 'port', topology, waits: ['spin', 'spin'], batch },
    );
    if (topology === 'worker<->worker') streamCases.push({ path: 'hub', topology, waits: ['async', 'async'], batch });
    streamCases.push(
      { path: 'ring-async', topology, waits: ['async', 'async'], batch },
      { path: 'ring-block', topology, waits: ['block', 'block'], batch },
      { path: 'ring-spin', topology, waits: ['spin', 'spin'], batch },
      { path: 'comlink', topology, batch },
    );
    if (topology === 'main<->worker') streamCases.push({ path: 'piscina', topology, batch }, { path: 'piscina-c16', topology, batch });
  }
}

async function runRtt(c: RttCase, plan: PingPlan): Promise<Float64Array> {
  if (c.path === 'piscina') return pingCalls((m) => pools.c1.run(m) as Promise<unknown>, plan);
  if (c.path === 'comlink') {
    const { port1, port2 } = new MessageChannel();
    if (c.topology === 'main<->worker') {
      await w1.call({ cmd: 'comlink-expose', port: port2 }, [port2]);
      const remote = Comlink.wrap<CallTarget>(nodeEndpoint(port1));
      try {
        return await pingCalls((m) => remote.echo(m), plan);
      } finally {
        remote[Comlink.releaseProxy]();
        port1.close();
      }
    }
    await w2.call({ cmd: 'comlink-expose', port: port2 }, [port2]);
    return (await w1.call({ cmd: 'comlink-ping', port: port1, plan }, [port1])).samples as Float64Array;
  }
  const [pingWait, echoWait] = c.waits as readonly [WaitMode, WaitMode];
  const pair = createTransport(kindOf(c.path)).createPair();
  const [a, b] = pair.ends;
  try {
    if (c.topology === 'main<->worker') {
      await w1.call({ cmd: 'echo', end: b, wait: echoWait }, transferListOf(b));
      const ep = openEndpoint<BenchMsg>(a, { wait: pingWait });
      const samples = await ping(ep, plan);
      ep.close();
      return samples;
    }
    await w2.call({ cmd: 'echo', end: b, wait: echoWait }, transferListOf(b));
    return (await w1.call({ cmd: 'ping', end: a, wait: pingWait, plan }, transferListOf(a))).samples as Float64Array;
  } finally {
    pair.close();
  }
}

/** Messages per second of one one-way measurement. */
async function runStream(c: StreamCase, count: number): Promise<number> {
  if (c.path === 'piscina' || c.path === 'piscina-c16') {
    const pool = c.path === 'piscina' ? pools.c1 : pools.c16;
    const ms = await streamCalls((m) => pool.run(m) as Promise<unknown>, { count, batch: c.batch, window: config.callWindow });
    return (count / ms) * 1000;
  }
  if (c.path === 'comlink') {
    const { port1, port2 } = new MessageChannel();
    const plan = { count, batch: c.batch, window: config.callWindow };
    if (c.topology === 'main<->worker') {
      await w1.call({ cmd: 'comlink-expose', port: port2 }, [port2]);
      const remote = Comlink.wrap<CallTarget>(nodeEndpoint(port1));
      try {
        return (count / (await streamCalls((m) => remote.take(m), plan))) * 1000;
      } finally {
        remote[Comlink.releaseProxy]();
        port1.close();
      }
    }
    await w2.call({ cmd: 'comlink-expose', port: port2 }, [port2]);
    return (count / ((await w1.call({ cmd: 'comlink-stream', port: port1, plan }, [port1])).elapsedMs as number)) * 1000;
  }
  const [srcWait, sinkWait] = c.waits as readonly [WaitMode, WaitMode];
  const pair = createTransport(kindOf(c.path)).createPair();
  const [a, b] = pair.ends;
  try {
    if (c.topology === 'main<->worker') {
      const sunk = w1.call({ cmd: 'sink', end: b, wait: sinkWait, count }, transferListOf(b));
      const ep = openEndpoint<BenchMsg>(a, { wait: srcWait });
      const ms = await source(ep, { count, batch: c.batch });
      ep.close();
      await sunk;
      return (count / ms) * 1000;
    }
    const sunk = w2.call({ cmd: 'sink', end: b, wait: sinkWait, count }, transferListOf(b));
    const ms = (await w1.call({ cmd: 'source', end: a, wait: srcWait, plan: { count, batch: c.batch } }, transferListOf(a))).elapsedMs as number;
    await sunk;
    return (count / ms) * 1000;
  } finally {
    pair.close();
  }
}

/** Runs `f` with a time limit; on timeout, replaces the bench workers (one may be stuck in a blocking loop). */
async function guarded<T>(label: string, f: () => Promise<T>): Promise<T | Error> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`${label}: no result within ${config.timeoutMs} ms`)), config.timeoutMs);
  });
  try {
    const r = await Promise.race([f(), limit]);
    if (r instanceof Error) {
      await Promise.all([w1.worker.terminate(), w2.worker.terminate()]);
      w1 = new Peer('worker 1');
      w2 = new Peer('worker 2');
    }
    return r;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- statistics

/** Nearest-rank percentile of sorted samples. */
function percentile(sorted: Float64Array, p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Median and range of one figure over repeats. */
interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

interface RttRepeat {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly mean: number;
}

function summarize(samples: Float64Array): RttRepeat {
  const s = samples.slice().sort();
  let sum = 0;
  for (const x of s) sum += x;
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), p999: percentile(s, 0.999), mean: sum / s.length };
}

// ---------------------------------------------------------------- codec

/** Microseconds per message of structuredClone and of msgpackr pack+unpack (the ring's codec). */
function codecOnce(iterations: number): { structuredCloneUs: number; msgpackrUs: number } {
  const msg = benchMsg();
  const packr = new Packr({ useRecords: false });
  const unpackr = new Unpackr({ useRecords: false, copyBuffers: true });
  let sink = 0;
  let t0 = performance.now();
  for (let i = 0; i < iterations; i++) sink += (structuredClone(msg) as BenchMsg).seq;
  const structuredCloneUs = ((performance.now() - t0) * 1000) / iterations;
  t0 = performance.now();
  for (let i = 0; i < iterations; i++) sink += (unpackr.unpack(packr.pack(msg)) as BenchMsg).seq;
  const msgpackrUs = ((performance.now() - t0) * 1000) / iterations;
  if (sink !== 2 * iterations) throw new Error('codec check failed');
  return { structuredCloneUs, msgpackrUs };
}

// ---------------------------------------------------------------- run

const log = (s: string) => process.stderr.write(s);
const caseName = (c: { path: string; topology: string; condition?: string; batch?: number }) =>
  `${c.path} ${c.topology}${c.condition ? ` ${c.condition}` : ''}${c.batch ? ` x${c.batch}` : ''}`;

if (values.only !== undefined) {
  const only = new RegExp(values.only);
  for (const c of [...rttCases]) if (!only.test(caseName(c))) rttCases.splice(rttCases.indexOf(c), 1);
  for (const c of [...streamCases]) if (!only.test(caseName(c))) streamCases.splice(streamCases.indexOf(c), 1);
}
const streamCount = (c: StreamCase) => (c.batch === 1 && (c.path === 'comlink' || c.path.startsWith('piscina')) ? config.callMsgs : config.streamMsgs);

const startedAt = new Date();
const loadBefore = loadavg();
const rttResults = new Map<RttCase, RttRepeat[]>(rttCases.map((c) => [c, []]));
const streamResults = new Map<StreamCase, number[]>(streamCases.map((c) => [c, []]));
const errors: string[] = [];
const codec: { structuredCloneUs: number[]; msgpackrUs: number[] } = { structuredCloneUs: [], msgpackrUs: [] };


log(`paths: ${rttCases.length} round-trip and ${streamCases.length} throughput measurements, warm-up + ${config.repeats} repeats${quick ? ' (quick)' : ''}\n`);
for (let r = -1; r < config.repeats; r++) {
  const warm = r < 0;
  const t0 = performance.now();
  log(warm ? 'warm-up ' : `repeat ${r + 1}/${config.repeats} `);
  const c = codecOnce(warm ? 20_000 : config.codecIterations);
  if (!warm) {
    codec.structuredCloneUs.push(c.structuredCloneUs);
    codec.msgpackrUs.push(c.msgpackrUs);
  }
  for (const rc of rttCases) {
    const plan = warm ? { count: 200, warmup: 200 } : config.rtt;
    const res = await guarded(caseName(rc), () => runRtt(rc, plan));
    if (res instanceof Error) errors.push(`repeat ${r + 1}: ${res.message}`);
    else if (!warm) (rttResults.get(rc) as RttRepeat[]).push(summarize(res));
    log('.');
  }
  for (const sc of streamCases) {
    const count = warm ? Math.min(6_400, streamCount(sc)) : streamCount(sc);
    const res = await guarded(caseName(sc), () => runStream(sc, count));
    if (res instanceof Error) errors.push(`repeat ${r + 1}: ${res.message}`);
    else if (!warm) (streamResults.get(sc) as number[]).push(res);
    log('.');
  }
  log(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
await Promise.all([w1.stop(), w2.stop(), pools.c1.destroy(), pools.c16.destroy()]);

// ---------------------------------------------------------------- report

interface RttRow {
  readonly path: PathName;
  readonly topology: Topology;
  readonly condition: Condition;
  readonly waits: readonly [WaitMode, WaitMode] | null;
  readonly repeats: RttRepeat[];
  readonly p50Us: Spread | null;
  readonly p99Us: Spread | null;
  readonly p999Us: Spread | null;
  readonly meanUs: Spread | null;
  /** Median p50 over that of `port` in the same topology and condition (idle for comlink and piscina). */
  readonly p50VsPort: number | null;
}

const rttRows: RttRow[] = rttCases.map((c) => {
  const reps = rttResults.get(c) as RttRepeat[];
  const has = reps.length > 0;
  return {
    path: c.path,
    topology: c.topology,
    condition: c.condition,
    waits: c.waits ?? null,
    repeats: reps,
    p50Us: has ? spread(reps.map((x) => x.p50)) : null,
    p99Us: has ? spread(reps.map((x) => x.p99)) : null,
    p999Us: has ? spread(reps.map((x) => x.p999)) : null,
    meanUs: has ? spread(reps.map((x) => x.mean)) : null,
    p50VsPort: null,
  };
});
for (const row of rttRows) {
  const base = rttRows.find((b) => b.path === 'port' && b.topology === row.topology && b.condition === row.condition);
  if (base?.p50Us && row.p50Us) (row as { p50VsPort: number | null }).p50VsPort = row.p50Us.median / base.p50Us.median;
}

interface StreamRow {
  readonly path: PathName;
  readonly topology: Topology;
  readonly waits: readonly [WaitMode, WaitMode] | null;
  readonly messagesPerPost: number;
  readonly messages: number;
  readonly msgsPerSec: Spread | null;
  readonly repeats: number[];
  /** Median rate over that of `port` (async ends) in the same topology and batch size. */
  readonly vsPort: number | null;
}

const streamRows: StreamRow[] = streamCases.map((c) => {
  const reps = streamResults.get(c) as number[];
  return { path: c.path, topology: c.topology, waits: c.waits ?? null, messagesPerPost: c.batch, messages: streamCount(c), repeats: reps, msgsPerSec: reps.length ? spread(reps) : null, vsPort: null };
});
for (const row of streamRows) {
  const base = streamRows.find((b) => b.path === 'port' && b.waits?.[0] === 'async' && b.topology === row.topology && b.messagesPerPost === row.messagesPerPost);
  if (base?.msgsPerSec && row.msgsPerSec) (row as { vsPort: number | null }).vsPort = row.msgsPerSec.median / base.msgsPerSec.median;
}

const us = (s: Spread | null) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : 'failed');
const rate = (s: Spread | null) => (s ? `${fmtRate(s.median)} (${fmtRate(s.min)}–${fmtRate(s.max)})` : 'failed');
function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
function fmtRate(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(x >= 1e5 ? 0 : 1)}k`;
}
const ratio = (x: number | null) => (x === null ? '' : `${x.toFixed(2)}x`);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const waitsText = (w: readonly [WaitMode, WaitMode] | null) => (w ? `${w[0]}/${w[1]}` : 'calls');
const cpuList = cpus();
const env = {
  node: process.version,
  v8: process.versions.v8,
  platform: `${process.platform} ${release()} ${process.arch}`,
  cpuModel: cpuList[0]?.model ?? 'unknown',
  cpuCount: cpuList.length,
  totalMemGiB: +(totalmem() / 2 ** 30).toFixed(1),
  loadavgBefore: loadBefore,
  loadavgAfter: loadavg(),
  date: startedAt.toISOString(),
  durationS: +((Date.now() - startedAt.getTime()) / 1000).toFixed(1),
  percentiles: 'nearest rank over the sorted samples of one measurement (hdr-histogram-js not installed)',
  message: { shape: benchMsg(), msgpackBytes: new Packr({ useRecords: false }).pack(benchMsg()).length },
};

const out: string[] = [];
out.push(`synod message paths — ${env.date}, node ${env.node}, ${env.cpuCount} x ${env.cpuModel}, load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} -> ${env.loadavgAfter.map((x) => x.toFixed(2)).join(' ')}`);
out.push(`medians over ${config.repeats} repeats (min–max); round trips: ${config.rtt.count} timed after ${config.rtt.warmup} untimed per repeat; ${env.message.msgpackBytes}-byte message`);
out.push('');
out.push('Round trip, microseconds. waits = pinger/echo: async (event loop), block (Atomics.wait), spin (busy-poll). x port = p50 over port\'s in the same topology and condition');
out.push(
  table(
    ['path', 'topology', 'condition', 'waits', 'p50', 'p99', 'p99.9', 'x port'],
    rttRows.map((r) => [r.path, r.topology, r.condition, waitsText(r.waits), us(r.p50Us), us(r.p99Us), us(r.p999Us), ratio(r.p50VsPort)]),
  ),
);
out.push('');
out.push(`One-way throughput, messages/s (source -> sink; comlink and piscina: calls, ${config.callWindow} in flight). x port = over port with async ends, same topology and batch`);
const topologies: Topology[] = ['main<->worker', 'worker<->worker'];
const streamTableRows: string[][] = [];
for (const topology of topologies) {
  const seen = new Set<string>();
  for (const row of streamRows.filter((r) => r.topology === topology)) {
    const key = `${row.path} ${waitsText(row.waits)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = (batch: number) => streamRows.find((b) => b.topology === topology && `${b.path} ${waitsText(b.waits)}` === key && b.messagesPerPost === batch);
    const single = at(1);
    const batched = at(config.batch);
    streamTableRows.push([row.path, topology.replace('<->', '->'), waitsText(row.waits), single ? rate(single.msgsPerSec) : '-', ratio(single?.vsPort ?? null), batched ? rate(batched.msgsPerSec) : '-', ratio(batched?.vsPort ?? null)]);
  }
}
out.push(table(['path', 'direction', 'waits', '1 per post', 'x port', `${config.batch} per post`, 'x port'], streamTableRows));
out.push('');
const cs = spread(codec.structuredCloneUs);
const cm = spread(codec.msgpackrUs);
out.push(`One small message, in one thread: structuredClone ${us(cs)} us; msgpackr pack+unpack (useRecords false) ${us(cm)} us`);
if (errors.length > 0) {
  out.push('');
  out.push(`Failed measurements (${errors.length}):`);
  for (const e of errors) out.push(`  ${e.split('\n')[0]}`);
}
process.stdout.write(`${out.join('\n')}\n`);

if (values.json !== undefined) {
  const report = { env, config, rtt: rttRows, throughput: streamRows, codec: { structuredCloneUs: cs, msgpackrUs: cm }, errors };
  writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`wrote ${values.json}\n`);
}
