/**
 * Message paths between threads (the `paths` benchmark of `synod bench`):
 * round-trip latency and one-way throughput of every transport, and of
 * comlink and piscina (which are request/response, so only measured here),
 * main<->worker and worker<->worker.
 *
 * Method. Two long-lived bench workers (`workers/transport-bench.ts`) play
 * the peers; each measurement gets a fresh pair from the transport. After a
 * warm-up pass over everything (discarded), the whole list of measurements
 * runs `repeats` times, one measurement after another, so drift on this
 * shared VM spreads over every path rather than hitting one. Each round-trip
 * measurement times `count` sequential round trips after `warmup` untimed
 * ones; its percentiles come from the sorted samples (nearest rank). Reported:
 * the median over repeats of each figure, with its min–max, and the ratio to
 * the direct MessagePort (`port`) measured in the same repeat under the same
 * condition.
 *
 * Conditions. This VM pays ~35 us to wake an idle vCPU, which dominates a
 * round trip whose ends sleep between messages. So round trips are measured:
 * - idle: both ends wait (event loop, or Atomics.wait for ring-block);
 * - peer-spins: the pinger waits, the echoing peer busy-polls;
 * - busy: both ends busy-poll (receiveMessageOnPort, or the ring's indices):
 *   no wake-up at all. The hub's relay (the main thread) still waits.
 *
 * Low load. What a wake-up costs, and what spinning to avoid it costs, shows
 * at one message at a time with the ends going idle in between: worker to
 * worker, the pinger sleeps a gap (0, 50 us, 1 ms; `Atomics.wait` with a
 * timeout, which overshoots short gaps by the kernel's timer slack) between
 * an answer and the next ping. Reported per wait mode: round-trip p50/p99
 * and CPU per round trip (`process.cpuUsage`, the whole process: both
 * workers, the idle main thread, GC and the rest, over the timed round
 * trips). And idle CPU: both ends of a link that carried a few messages
 * then nothing for `idleMs`, in percent of one core (process-wide).
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import { Packr, Unpackr } from 'msgpackr';
import { Piscina } from 'piscina';
import { createTransport, openEndpoint, transferListOf, type TransportKind, type WaitMode } from '../src/runtime/transports/index.js';
import { workerFile } from '../src/util/paths.js';
import type { BenchContext, BenchDef } from './lib/context.js';
import { figure, fmtFigure, type BenchOutput, type Chart, type Figure, type Table } from './lib/report.js';
import { percentileCurve, summarize, type Summary } from './lib/stats.js';
import { benchMsg, ping, pingCalls, source, streamCalls, type BenchCommand, type BenchMsg, type BenchReply, type CallTarget, type PingPlan } from './paths/roles.js';

const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default;

/** Counts of one configuration (quick or full). */
export interface PathsConfig {
  readonly rtt: PingPlan;
  /** Round trips per low-load measurement (each gap and wait mode). */
  readonly lowLoad: PingPlan;
  /** How long a link sits idle while its CPU is measured, milliseconds. */
  readonly idleMs: number;
  /** Messages per one-way measurement (a multiple of 64). */
  readonly streamMsgs: number;
  /** Messages per request/response throughput measurement at 1 message per call. */
  readonly callMsgs: number;
  /** Calls kept in flight by comlink and piscina throughput measurements. */
  readonly callWindow: number;
  readonly batch: number;
  readonly codecIterations: number;
  /** A measurement that takes longer is abandoned and its workers replaced. */
  readonly timeoutMs: number;
}

export const pathsConfig = (quick: boolean): PathsConfig => ({
  rtt: quick ? { count: 1_500, warmup: 300 } : { count: 10_000, warmup: 1_000 },
  lowLoad: quick ? { count: 300, warmup: 50 } : { count: 2_000, warmup: 200 },
  idleMs: quick ? 250 : 1_000,
  streamMsgs: quick ? 38_400 : 204_800,
  callMsgs: quick ? 3_840 : 20_480,
  callWindow: 64,
  batch: 64,
  codecIterations: quick ? 100_000 : 300_000,
  timeoutMs: 120_000,
});

// ---------------------------------------------------------------- peers

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

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

  call(cmd: DistributiveOmit<Exclude<BenchCommand, { cmd: 'exit' }>, 'id'>, transfer: MessagePort[] = []): Promise<BenchReply> {
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

// ---------------------------------------------------------------- measurements

export type Topology = 'main<->worker' | 'worker<->worker';
export type Condition = 'idle' | 'peer-spins' | 'busy';
export type PathName = 'port' | 'hub' | 'ring-block' | 'ring-async' | 'ring-adaptive' | 'ring-spin' | 'comlink' | 'piscina' | 'piscina-c16';

export interface RttCase {
  readonly path: PathName;
  readonly topology: Topology;
  readonly condition: Condition;
  /** How the pinger and the echoing peer wait (transports only). */
  readonly waits?: readonly [WaitMode, WaitMode];
}

/** One message at a time between two workers, with the pinger sleeping `gapUs` between round trips. */
export interface LowLoadCase {
  readonly path: PathName;
  readonly waits: readonly [WaitMode, WaitMode];
  readonly gapUs: number;
}

/** A link whose ends wait with nothing to do: what it costs in CPU. */
export interface IdleCase {
  readonly path: PathName;
  readonly waits: readonly [WaitMode, WaitMode];
}

/** The links measured at low load and idle: the ring's wait modes, and the direct port for reference. */
export const LOW_LOAD_PATHS: readonly IdleCase[] = [
  { path: 'port', waits: ['async', 'async'] },
  { path: 'ring-async', waits: ['async', 'async'] },
  { path: 'ring-block', waits: ['block', 'block'] },
  { path: 'ring-adaptive', waits: ['adaptive', 'adaptive'] },
  { path: 'ring-spin', waits: ['spin', 'spin'] },
];

/** The gaps between round trips at low load, microseconds. */
export const LOW_LOAD_GAPS_US: readonly number[] = [0, 50, 1_000];

/** The low-load and idle cases. */
export function lowLoadCases(): { low: LowLoadCase[]; idle: IdleCase[] } {
  return { low: LOW_LOAD_GAPS_US.flatMap((gapUs) => LOW_LOAD_PATHS.map((c) => ({ ...c, gapUs }))), idle: [...LOW_LOAD_PATHS] };
}

export interface StreamCase {
  readonly path: PathName;
  readonly topology: Topology;
  /** How the source and the sink wait (transports only). */
  readonly waits?: readonly [WaitMode, WaitMode];
  readonly batch: number;
}

const kindOf = (path: PathName): TransportKind => (path === 'hub' ? 'hub' : path.startsWith('ring') ? 'ring' : 'port');

/** Every round-trip and one-way case measured. */
export function pathCases(batchSize: number): { rtt: RttCase[]; stream: StreamCase[] } {
  const rtt: RttCase[] = [];
  const stream: StreamCase[] = [];
  for (const topology of ['main<->worker', 'worker<->worker'] as const) {
    rtt.push(
      { path: 'port', topology, condition: 'idle', waits: ['async', 'async'] },
      { path: 'port', topology, condition: 'peer-spins', waits: ['async', 'spin'] },
      { path: 'port', topology, condition: 'busy', waits: ['spin', 'spin'] },
    );
    // The hub's main<->worker link would be a port with an extra hop inside the main thread: not measured.
    if (topology === 'worker<->worker') rtt.push({ path: 'hub', topology, condition: 'idle', waits: ['async', 'async'] }, { path: 'hub', topology, condition: 'busy', waits: ['spin', 'spin'] });
    rtt.push(
      { path: 'ring-block', topology, condition: 'idle', waits: ['block', 'block'] },
      { path: 'ring-async', topology, condition: 'idle', waits: ['async', 'async'] },
      { path: 'ring-adaptive', topology, condition: 'idle', waits: ['adaptive', 'adaptive'] },
      { path: 'ring-block', topology, condition: 'peer-spins', waits: ['block', 'spin'] },
      { path: 'ring-spin', topology, condition: 'busy', waits: ['spin', 'spin'] },
      { path: 'comlink', topology, condition: 'idle' },
    );
    // A piscina pool belongs to the thread that made it: main<->worker only.
    if (topology === 'main<->worker') rtt.push({ path: 'piscina', topology, condition: 'idle' }, { path: 'piscina-c16', topology, condition: 'idle' });

    for (const batch of [1, batchSize]) {
      stream.push({ path: 'port', topology, waits: ['async', 'async'], batch }, { path: 'port', topology, waits: ['spin', 'spin'], batch });
      if (topology === 'worker<->worker') stream.push({ path: 'hub', topology, waits: ['async', 'async'], batch });
      stream.push(
        { path: 'ring-async', topology, waits: ['async', 'async'], batch },
        { path: 'ring-adaptive', topology, waits: ['adaptive', 'adaptive'], batch },
        { path: 'ring-block', topology, waits: ['block', 'block'], batch },
        { path: 'ring-spin', topology, waits: ['spin', 'spin'], batch },
        { path: 'comlink', topology, batch },
      );
      if (topology === 'main<->worker') stream.push({ path: 'piscina', topology, batch }, { path: 'piscina-c16', topology, batch });
    }
  }
  return { rtt, stream };
}

/**
 * Two bench workers and two piscina pools (concurrentTasksPerWorker 1 and
 * 16) that the measurements run on. Always {@link close} it.
 */
export class PathsLab {
  private w1 = new Peer('worker 1');
  private w2 = new Peer('worker 2');
  private pools: { c1: Piscina; c16: Piscina } | null = null;

  constructor(private readonly timeoutMs = 120_000) {}

  private pool(path: PathName): Piscina {
    this.pools ??= {
      c1: new Piscina({ filename: workerFile('transport-piscina'), minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1, idleTimeout: 600_000 }),
      c16: new Piscina({ filename: workerFile('transport-piscina'), minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 16, idleTimeout: 600_000 }),
    };
    return path === 'piscina-c16' ? this.pools.c16 : this.pools.c1;
  }

  /** Round-trip samples (microseconds) of one case. */
  async rtt(c: RttCase, plan: PingPlan): Promise<Float64Array> {
    if (c.path === 'piscina' || c.path === 'piscina-c16') {
      const pool = this.pool(c.path);
      return pingCalls((m) => pool.run(m) as Promise<unknown>, plan);
    }
    if (c.path === 'comlink') {
      const { port1, port2 } = new MessageChannel();
      if (c.topology === 'main<->worker') {
        await this.w1.call({ cmd: 'comlink-expose', port: port2 }, [port2]);
        const remote = Comlink.wrap<CallTarget>(nodeEndpoint(port1));
        try {
          return await pingCalls((m) => remote.echo(m), plan);
        } finally {
          remote[Comlink.releaseProxy]();
          port1.close();
        }
      }
      await this.w2.call({ cmd: 'comlink-expose', port: port2 }, [port2]);
      return (await this.w1.call({ cmd: 'comlink-ping', port: port1, plan }, [port1])).samples as Float64Array;
    }
    const [pingWait, echoWait] = c.waits as readonly [WaitMode, WaitMode];
    const pair = createTransport(kindOf(c.path)).createPair();
    const [a, b] = pair.ends;
    try {
      if (c.topology === 'main<->worker') {
        await this.w1.call({ cmd: 'echo', end: b, wait: echoWait }, transferListOf(b));
        const ep = openEndpoint<BenchMsg>(a, { wait: pingWait });
        const { samples } = await ping(ep, plan);
        ep.close();
        return samples;
      }
      await this.w2.call({ cmd: 'echo', end: b, wait: echoWait }, transferListOf(b));
      return (await this.w1.call({ cmd: 'ping', end: a, wait: pingWait, plan }, transferListOf(a))).samples as Float64Array;
    } finally {
      pair.close();
    }
  }

  /** One message at a time, worker to worker, with gaps: the samples and the process's CPU microseconds per round trip. */
  async lowLoad(c: LowLoadCase, plan: PingPlan): Promise<{ samples: Float64Array; cpuUsPerRtt: number }> {
    const pair = createTransport(kindOf(c.path)).createPair();
    const [a, b] = pair.ends;
    try {
      await this.w2.call({ cmd: 'echo', end: b, wait: c.waits[1] }, transferListOf(b));
      const r = await this.w1.call({ cmd: 'ping', end: a, wait: c.waits[0], plan: { ...plan, gapUs: c.gapUs } }, transferListOf(a));
      return { samples: r.samples as Float64Array, cpuUsPerRtt: (r.cpuUs as number) / plan.count };
    } finally {
      pair.close();
    }
  }

  /**
   * CPU of a link at rest, percent of one core (the whole process): after a
   * few round trips both ends keep waiting for `ms` with nothing to do.
   */
  async idleCpu(c: IdleCase, ms: number): Promise<number> {
    const pair = createTransport(kindOf(c.path)).createPair();
    const [a, b] = pair.ends;
    try {
      await this.w2.call({ cmd: 'echo', end: b, wait: c.waits[1] }, transferListOf(b));
      await this.w1.call({ cmd: 'ping', end: a, wait: c.waits[0], plan: { count: 100, warmup: 100 }, hold: true }, transferListOf(a));
      // Let a spinning end notice that the ring ran empty, and a block or spin loop start.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, ms));
      const cpu = process.cpuUsage(cpu0);
      return ((cpu.user + cpu.system) / ((performance.now() - t0) * 1000)) * 100;
    } finally {
      pair.close();
    }
  }

  /** Messages per second of one one-way measurement of `count` messages. */
  async stream(c: StreamCase, count: number, callWindow = 64): Promise<number> {
    if (c.path === 'piscina' || c.path === 'piscina-c16') {
      const pool = this.pool(c.path);
      const ms = await streamCalls((m) => pool.run(m) as Promise<unknown>, { count, batch: c.batch, window: callWindow });
      return (count / ms) * 1000;
    }
    if (c.path === 'comlink') {
      const { port1, port2 } = new MessageChannel();
      const plan = { count, batch: c.batch, window: callWindow };
      if (c.topology === 'main<->worker') {
        await this.w1.call({ cmd: 'comlink-expose', port: port2 }, [port2]);
        const remote = Comlink.wrap<CallTarget>(nodeEndpoint(port1));
        try {
          return (count / (await streamCalls((m) => remote.take(m), plan))) * 1000;
        } finally {
          remote[Comlink.releaseProxy]();
          port1.close();
        }
      }
      await this.w2.call({ cmd: 'comlink-expose', port: port2 }, [port2]);
      return (count / ((await this.w1.call({ cmd: 'comlink-stream', port: port1, plan }, [port1])).elapsedMs as number)) * 1000;
    }
    const [srcWait, sinkWait] = c.waits as readonly [WaitMode, WaitMode];
    const pair = createTransport(kindOf(c.path)).createPair();
    const [a, b] = pair.ends;
    try {
      if (c.topology === 'main<->worker') {
        const sunk = this.w1.call({ cmd: 'sink', end: b, wait: sinkWait, count }, transferListOf(b));
        const ep = openEndpoint<BenchMsg>(a, { wait: srcWait });
        const ms = await source(ep, { count, batch: c.batch });
        ep.close();
        await sunk;
        return (count / ms) * 1000;
      }
      const sunk = this.w2.call({ cmd: 'sink', end: b, wait: sinkWait, count }, transferListOf(b));
      const ms = (await this.w1.call({ cmd: 'source', end: a, wait: srcWait, plan: { count, batch: c.batch } }, transferListOf(a))).elapsedMs as number;
      await sunk;
      return (count / ms) * 1000;
    } finally {
      pair.close();
    }
  }

  /** Runs `f` with a time limit; on timeout, replaces the bench workers (one may be stuck in a blocking loop). */
  async guarded<T>(label: string, f: () => Promise<T>): Promise<T | Error> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<Error>((resolve) => {
      timer = setTimeout(() => resolve(new Error(`${label}: no result within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const r = await Promise.race([f(), limit]);
      if (r instanceof Error) {
        await Promise.all([this.w1.worker.terminate(), this.w2.worker.terminate()]);
        this.w1 = new Peer('worker 1');
        this.w2 = new Peer('worker 2');
      }
      return r;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.w1.stop(), this.w2.stop(), this.pools?.c1.destroy(), this.pools?.c16.destroy()]);
  }
}

/** The raw batched postMessage path that the efficiency benchmark divides by: port, worker->worker, 64 per post, both ends async. */
export const RAW_BATCHED: StreamCase = { path: 'port', topology: 'worker<->worker', waits: ['async', 'async'], batch: 64 };

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

// ---------------------------------------------------------------- the benchmark

const topo = (t: Topology) => (t === 'main<->worker' ? 'main-worker' : 'worker-worker');
const waitsText = (w: readonly [WaitMode, WaitMode] | undefined) => (w ? `${w[0]}/${w[1]}` : 'calls');
/** The figure-key stem of a case. */
export const rttKey = (c: RttCase) => `rtt/${c.path}/${topo(c.topology)}/${c.condition}`;
export const lowKey = (c: LowLoadCase) => `low/${c.path}/gap${c.gapUs}us`;
export const idleKey = (c: IdleCase) => `idle/${c.path}/cpu-pct`;
export const streamKey = (c: StreamCase) => `tput/${c.path}/${topo(c.topology)}/${c.waits ? c.waits.join('-') : 'calls'}/x${c.batch}`;

async function runPaths(ctx: BenchContext): Promise<BenchOutput> {
  const config = pathsConfig(ctx.quick);
  const { rtt: rttCases, stream: streamCases } = pathCases(config.batch);
  const { low: lowCases, idle: idleCases } = lowLoadCases();
  const lowRuns = new Map<LowLoadCase, Array<{ s: Summary; cpu: number }>>(lowCases.map((c) => [c, []]));
  const idleRuns = new Map<IdleCase, number[]>(idleCases.map((c) => [c, []]));
  const streamCount = (c: StreamCase) => (c.batch === 1 && (c.path === 'comlink' || c.path.startsWith('piscina')) ? config.callMsgs : config.streamMsgs);
  const lab = new PathsLab(config.timeoutMs);
  const rttRuns = new Map<RttCase, Summary[]>(rttCases.map((c) => [c, []]));
  const pooled = new Map<RttCase, number[]>(rttCases.map((c) => [c, []]));
  const streamRuns = new Map<StreamCase, number[]>(streamCases.map((c) => [c, []]));
  const notes: string[] = [];
  const codec = { structuredCloneUs: [] as number[], msgpackrUs: [] as number[] };
  try {
    for (let r = -1; r < ctx.repeats; r++) {
      const warm = r < 0;
      const c = codecOnce(warm ? 20_000 : config.codecIterations);
      if (!warm) {
        codec.structuredCloneUs.push(c.structuredCloneUs);
        codec.msgpackrUs.push(c.msgpackrUs);
      }
      for (const rc of rttCases) {
        const plan = warm ? { count: 200, warmup: 200 } : config.rtt;
        const res = await lab.guarded(rttKey(rc), () => lab.rtt(rc, plan));
        if (res instanceof Error) notes.push(`repeat ${r + 1}: ${res.message.split('\n')[0]}`);
        else if (!warm) {
          (rttRuns.get(rc) as Summary[]).push(summarize(res));
          const all = pooled.get(rc) as number[];
          for (const x of res) all.push(x);
        }
        ctx.step(warm ? 'warm-up' : `repeat ${r + 1}/${ctx.repeats}`);
      }
      for (const sc of streamCases) {
        const count = warm ? Math.min(6_400, streamCount(sc)) : streamCount(sc);
        const res = await lab.guarded(streamKey(sc), () => lab.stream(sc, count, config.callWindow));
        if (res instanceof Error) notes.push(`repeat ${r + 1}: ${res.message.split('\n')[0]}`);
        else if (!warm) (streamRuns.get(sc) as number[]).push(res);
        ctx.step(warm ? 'warm-up' : `repeat ${r + 1}/${ctx.repeats}`);
      }
      for (const lc of lowCases) {
        const plan = warm ? { count: 50, warmup: 50 } : config.lowLoad;
        const res = await lab.guarded(lowKey(lc), () => lab.lowLoad(lc, plan));
        if (res instanceof Error) notes.push(`repeat ${r + 1}: ${res.message.split('\n')[0]}`);
        else if (!warm) (lowRuns.get(lc) as Array<{ s: Summary; cpu: number }>).push({ s: summarize(res.samples), cpu: res.cpuUsPerRtt });
        ctx.step(warm ? 'warm-up' : `repeat ${r + 1}/${ctx.repeats}`);
      }
      for (const ic of idleCases) {
        const res = await lab.guarded(idleKey(ic), () => lab.idleCpu(ic, warm ? 50 : config.idleMs));
        if (res instanceof Error) notes.push(`repeat ${r + 1}: ${res.message.split('\n')[0]}`);
        else if (!warm) (idleRuns.get(ic) as number[]).push(res);
        ctx.step(warm ? 'warm-up' : `repeat ${r + 1}/${ctx.repeats}`);
      }
    }
  } finally {
    await lab.close();
  }

  const figures: Record<string, Figure> = {};
  // Round trips: percentiles, and p50 over port's in the same topology and condition, repeat by repeat.
  for (const c of rttCases) {
    const runs = rttRuns.get(c) as Summary[];
    if (runs.length === 0) continue;
    const k = rttKey(c);
    figures[`${k}/p50`] = figure(runs.map((s) => s.p50), 'us', 'lower');
    figures[`${k}/p99`] = figure(runs.map((s) => s.p99), 'us', 'lower');
    figures[`${k}/p999`] = figure(runs.map((s) => s.p999), 'us', 'lower');
    const baseCase = rttCases.find((b) => b.path === 'port' && b.topology === c.topology && b.condition === c.condition);
    const base = baseCase ? rttRuns.get(baseCase) : undefined;
    if (c.path !== 'port' && base && base.length === runs.length) figures[`${k}/p50-vs-port`] = figure(runs.map((s, i) => s.p50 / (base[i] as Summary).p50), 'x', 'lower');
  }
  for (const c of streamCases) {
    const runs = streamRuns.get(c) as number[];
    if (runs.length === 0) continue;
    const k = streamKey(c);
    figures[k] = figure(runs, 'msgs/s', 'higher');
    const baseCase = streamCases.find((b) => b.path === 'port' && b.waits?.[0] === 'async' && b.topology === c.topology && b.batch === c.batch);
    const base = baseCase ? streamRuns.get(baseCase) : undefined;
    if (baseCase !== c && base && base.length === runs.length) figures[`${k}/vs-port`] = figure(runs.map((x, i) => x / (base[i] as number)), 'x', 'higher');
  }
  for (const c of lowCases) {
    const runs = lowRuns.get(c) as Array<{ s: Summary; cpu: number }>;
    if (runs.length === 0) continue;
    const k = lowKey(c);
    figures[`${k}/p50`] = figure(runs.map((x) => x.s.p50), 'us', 'lower');
    figures[`${k}/p99`] = figure(runs.map((x) => x.s.p99), 'us', 'lower');
    figures[`${k}/cpu-per-rtt`] = figure(runs.map((x) => x.cpu), 'us', 'lower');
  }
  for (const c of idleCases) {
    const runs = idleRuns.get(c) as number[];
    if (runs.length > 0) figures[idleKey(c)] = figure(runs, '%', 'lower');
  }
  figures['codec/structuredClone'] = figure(codec.structuredCloneUs, 'us', 'lower');
  figures['codec/msgpackr'] = figure(codec.msgpackrUs, 'us', 'lower');

  const tables: Table[] = [];
  tables.push({
    title: 'Round trip, microseconds (waits = pinger/echo: async event loop, block Atomics.wait, spin busy-poll; x port = p50 over port\'s, same topology and condition)',
    head: ['path', 'topology', 'condition', 'waits', 'p50', 'p99', 'p99.9', 'x port'],
    rows: rttCases.map((c) => {
      const k = rttKey(c);
      return [c.path, c.topology, c.condition, waitsText(c.waits), fmtFigure(figures[`${k}/p50`]), fmtFigure(figures[`${k}/p99`]), fmtFigure(figures[`${k}/p999`]), c.path === 'port' ? '1' : fmtFigure(figures[`${k}/p50-vs-port`])];
    }),
  });
  const streamRows: string[][] = [];
  const seen = new Set<string>();
  for (const c of streamCases) {
    const id = `${c.path} ${c.topology} ${waitsText(c.waits)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const at = (batch: number) => streamCases.find((b) => b.topology === c.topology && b.path === c.path && waitsText(b.waits) === waitsText(c.waits) && b.batch === batch);
    const cell = (b: StreamCase | undefined) => (b ? fmtFigure(figures[streamKey(b)]) : '-');
    const ratio = (b: StreamCase | undefined) => (b ? (figures[`${streamKey(b)}/vs-port`] ? fmtFigure(figures[`${streamKey(b)}/vs-port`]) : '1') : '-');
    streamRows.push([c.path, c.topology.replace('<->', '->'), waitsText(c.waits), cell(at(1)), ratio(at(1)), cell(at(config.batch)), ratio(at(config.batch))]);
  }
  tables.push({
    title: `One-way throughput, messages/s (comlink, piscina: calls, ${config.callWindow} in flight; piscina-c16: concurrentTasksPerWorker 16; x port = over port with async ends)`,
    head: ['path', 'direction', 'waits', '1 per post', 'x port', `${config.batch} per post`, 'x port'],
    rows: streamRows,
  });
  tables.push({
    title: `Low load, worker<->worker, one message at a time: round trip (us) and CPU of the whole process per round trip (us), by the pinger's sleep between round trips; idle: both ends waiting ${config.idleMs} ms, % of one core`,
    head: ['path', 'waits', ...LOW_LOAD_GAPS_US.flatMap((g) => [`gap ${g} p50`, `gap ${g} p99`, `gap ${g} CPU/rtt`]), 'idle CPU %'],
    rows: idleCases.map((ic) => [
      ic.path,
      waitsText(ic.waits),
      ...LOW_LOAD_GAPS_US.flatMap((g) => {
        const lc = lowCases.find((c) => c.path === ic.path && c.gapUs === g) as LowLoadCase;
        const k = lowKey(lc);
        return [fmtFigure(figures[`${k}/p50`]), fmtFigure(figures[`${k}/p99`]), fmtFigure(figures[`${k}/cpu-per-rtt`])];
      }),
      fmtFigure(figures[idleKey(ic)]),
    ]),
  });
  tables.push({
    title: 'One small message in one thread, microseconds',
    head: ['codec', 'us'],
    rows: [
      ['structuredClone', fmtFigure(figures['codec/structuredClone'])],
      ['msgpackr pack+unpack', fmtFigure(figures['codec/msgpackr'])],
    ],
  });

  const charts: Chart[] = [];
  const idle = rttCases.filter((c) => c.condition === 'idle');
  charts.push({
    kind: 'bars',
    title: 'Round trip p50, idle ends (us; whiskers: min–max over repeats)',
    unit: 'us',
    bars: idle.filter((c) => figures[`${rttKey(c)}/p50`]).map((c) => {
      const f = figures[`${rttKey(c)}/p50`] as Figure;
      return { label: `${c.path} ${topo(c.topology)}`, value: f.value, min: f.min, max: f.max };
    }),
  });
  charts.push({
    kind: 'bars',
    title: 'Round trip p50 by condition (us): idle, peer spins, both busy',
    unit: 'us',
    bars: rttCases.filter((c) => c.path !== 'comlink' && !c.path.startsWith('piscina') && figures[`${rttKey(c)}/p50`]).map((c) => {
      const f = figures[`${rttKey(c)}/p50`] as Figure;
      return { label: `${c.path} ${topo(c.topology)} ${c.condition}`, value: f.value, min: f.min, max: f.max };
    }),
  });
  for (const batch of [1, config.batch]) {
    charts.push({
      kind: 'bars',
      title: `One-way throughput, ${batch} message${batch === 1 ? '' : 's'} per post (msgs/s)`,
      unit: 'msgs/s',
      bars: streamCases.filter((c) => c.batch === batch && figures[streamKey(c)]).map((c) => {
        const f = figures[streamKey(c)] as Figure;
        return { label: `${c.path} ${topo(c.topology)} ${waitsText(c.waits)}`, value: f.value, min: f.min, max: f.max };
      }),
    });
  }
  for (const t of ['main<->worker', 'worker<->worker'] as const) {
    charts.push({
      kind: 'percentiles',
      title: `Round-trip distribution, ${t}, idle ends (all repeats pooled)`,
      unit: 'us',
      series: idle.filter((c) => c.topology === t && (pooled.get(c) as number[]).length > 0).map((c) => ({ name: c.path, points: percentileCurve(Float64Array.from(pooled.get(c) as number[]).sort()) })),
    });
  }
  return {
    config: { ...config, repeats: ctx.repeats, message: benchMsg(), msgpackBytes: new Packr({ useRecords: false }).pack(benchMsg()).length },
    figures,
    charts,
    tables,
    notes,
  };
}

export const pathsBench: BenchDef = {
  name: 'paths',
  title: 'Message paths',
  description:
    'Round-trip latency (p50/p99/p99.9) and one-way throughput (1 and 64 messages per post) of port, hub, ring (block, async, adaptive, spin), comlink and piscina (concurrentTasksPerWorker 1 and 16), main<->worker and worker<->worker, with idle ends, a spinning peer, and both ends busy; at low load (one message at a time, idle gaps of 0, 50 us and 1 ms) round trips and CPU per round trip of each ring wait mode, and the CPU of an idle link.',
  repeats: { quick: 2, full: 8 },
  steps: (quick, repeats) => {
    const { rtt, stream } = pathCases(pathsConfig(quick).batch);
    const { low, idle } = lowLoadCases();
    return (repeats + 1) * (rtt.length + stream.length + low.length + idle.length);
  },
  run: runPaths,
};

