/**
 * The parts a thread plays in the message-path benchmark, written once
 * against the transport interface so the main thread and the workers run the
 * same code on every transport: `ping` (round trips), `echo`, `source` and
 * `sink` (one-way throughput). Also the comlink and piscina counterparts,
 * which are request/response and so have their own loops. And the commands
 * and replies between the main thread and a bench worker, defined here
 * rather than in the worker entry so the benchmark never imports a worker
 * module (it starts workers by file path only).
 */
import type { MessagePort } from 'node:worker_threads';
import type { TransportEnd, TransportEndpoint, WaitMode } from '../../src/runtime/transports/index.js';

/** The message every path carries: the shape and size of a Paxos accept (79 bytes as msgpack). */
export interface BenchMsg {
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly ballot: { readonly round: number; readonly proposer: string };
  readonly value: string;
  readonly seq: number;
}

/** A fresh bench message. */
export function benchMsg(seq = 1): BenchMsg {
  return { type: 'accept', from: 'p1', to: 'a3', ballot: { round: 12, proposer: 'p1' }, value: 'value-123', seq };
}

/** How many round trips to time, after how many untimed ones. */
export interface PingPlan {
  readonly count: number;
  readonly warmup: number;
  /**
   * Microseconds the pinger sleeps (`Atomics.wait` with a timeout: no CPU)
   * between an answer and the next ping, so the ends go idle in between.
   * Worker threads only (the main thread cannot `Atomics.wait`). Default 0.
   */
  readonly gapUs?: number;
}

/** What {@link ping} measured. */
export interface PingResult {
  /** Each timed round trip, microseconds. */
  readonly samples: Float64Array;
  /** CPU time (user + system) of the whole process over the timed round trips, microseconds. */
  readonly cpuUs: number;
}

/**
 * Times `count` sequential round trips (after `warmup` untimed ones) and
 * returns each in microseconds. The peer must echo. Resolves once the
 * handler has detached, so a `block`/`spin` end's loop has ended.
 */
export function ping(ep: TransportEndpoint<BenchMsg>, plan: PingPlan): Promise<PingResult> {
  const samples = new Float64Array(plan.count);
  const msg = benchMsg();
  const gapMs = (plan.gapUs ?? 0) / 1000;
  const nap = gapMs > 0 ? new Int32Array(new SharedArrayBuffer(4)) : null;
  let i = -plan.warmup;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  return new Promise((resolve) => {
    ep.onMessage(() => {
      const t = performance.now();
      if (i >= 0) samples[i] = (t - t0) * 1000;
      i++;
      if (i === 0) cpu0 = process.cpuUsage();
      if (i >= plan.count) {
        const cpu = process.cpuUsage(cpu0);
        ep.onMessage(null);
        resolve({ samples, cpuUs: cpu.user + cpu.system });
        return;
      }
      if (nap !== null) Atomics.wait(nap, 0, 0, gapMs);
      t0 = performance.now();
      ep.send(msg);
    });
    t0 = performance.now();
    ep.send(msg);
  });
}

/** Sends every message straight back, until the link closes. */
export function echo(ep: TransportEndpoint<BenchMsg>): void {
  ep.onMessage((m) => ep.send(m));
}

/** How much a source sends. */
export interface StreamPlan {
  /** Messages in all. */
  readonly count: number;
  /** Messages per post: 1 uses `send`, more uses `sendBatch`. */
  readonly batch: number;
}

/** Messages an async source sends per event-loop turn, so its own end can pump. */
const CHUNK = 1024;

/**
 * Sends `count` messages one way as fast as the path takes them, then waits
 * for the sink's acknowledgement; returns the elapsed milliseconds. An
 * `async` end sends in chunks, yielding between them; a `block` or `spin`
 * end sends everything at once (its sends wait for room), then waits.
 */
export function source(ep: TransportEndpoint<BenchMsg>, plan: StreamPlan): Promise<number> {
  const msgs = Array.from({ length: plan.batch }, (_, i) => benchMsg(i));
  const one = msgs[0] as BenchMsg;
  const posts = Math.ceil(plan.count / plan.batch);
  const postsPerChunk = Math.max(1, Math.floor(CHUNK / plan.batch));
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sent = 0;
    const sendSome = (n: number) => {
      const end = Math.min(posts, sent + n);
      if (plan.batch === 1) for (; sent < end; sent++) ep.send(one);
      else for (; sent < end; sent++) ep.sendBatch(msgs);
    };
    const awaitAck = () =>
      ep.onMessage(() => {
        ep.onMessage(null);
        resolve(performance.now() - t0);
      });
    if (ep.wait !== 'async') {
      sendSome(posts);
      awaitAck();
      return;
    }
    awaitAck();
    const chunk = () => {
      sendSome(postsPerChunk);
      if (sent < posts) setImmediate(chunk);
    };
    chunk();
  });
}

/** Counts `count` messages, then acknowledges with one message and detaches. */
export function sink(ep: TransportEndpoint<BenchMsg>, count: number): Promise<void> {
  let got = 0;
  return new Promise((resolve) => {
    ep.onMessage(() => {
      if (++got < count) return;
      ep.send(benchMsg(-1));
      ep.onMessage(null);
      resolve();
    });
  });
}

/** What a comlink or piscina peer answers. */
export interface CallTarget {
  /** Returns its argument. */
  echo(msg: BenchMsg): BenchMsg | Promise<BenchMsg>;
  /** Returns how many messages it got. */
  take(msgs: BenchMsg | BenchMsg[]): number | Promise<number>;
}

/** Times `count` sequential awaited calls (after `warmup`), in microseconds. */
export async function pingCalls(call: (msg: BenchMsg) => Promise<unknown>, plan: PingPlan): Promise<Float64Array> {
  const samples = new Float64Array(plan.count);
  const msg = benchMsg();
  for (let i = -plan.warmup; i < plan.count; i++) {
    const t0 = performance.now();
    await call(msg);
    const t = performance.now();
    if (i >= 0) samples[i] = (t - t0) * 1000;
  }
  return samples;
}

/**
 * Carries `count` messages in calls of `batch` messages each, keeping up to
 * `window` calls in flight; returns the elapsed milliseconds.
 */
export function streamCalls(take: (msgs: BenchMsg | BenchMsg[]) => Promise<unknown>, plan: StreamPlan & { readonly window: number }): Promise<number> {
  const arg = plan.batch === 1 ? benchMsg() : Array.from({ length: plan.batch }, (_, i) => benchMsg(i));
  const calls = Math.ceil(plan.count / plan.batch);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let started = 0;
    let done = 0;
    const next = () => {
      if (done === calls) return resolve(performance.now() - t0);
      if (started < calls) {
        started++;
        take(arg).then(() => {
          done++;
          next();
        }, reject);
      }
    };
    for (let i = 0; i < Math.min(plan.window, calls); i++) next();
  });
}

/** What the benchmark's main thread asks of a bench worker (workers/transport-bench.ts). */
export type BenchCommand =
  | { readonly cmd: 'echo'; readonly id: number; readonly end: TransportEnd; readonly wait: WaitMode }
  | {
      readonly cmd: 'ping';
      readonly id: number;
      readonly end: TransportEnd;
      readonly wait: WaitMode;
      readonly plan: PingPlan;
      /** Keep the end open and waiting (a handler that ignores everything) after answering, until the link closes. */
      readonly hold?: boolean;
    }
  | { readonly cmd: 'source'; readonly id: number; readonly end: TransportEnd; readonly wait: WaitMode; readonly plan: StreamPlan }
  | { readonly cmd: 'sink'; readonly id: number; readonly end: TransportEnd; readonly wait: WaitMode; readonly count: number }
  | { readonly cmd: 'comlink-expose'; readonly id: number; readonly port: MessagePort }
  | { readonly cmd: 'comlink-ping'; readonly id: number; readonly port: MessagePort; readonly plan: PingPlan }
  | { readonly cmd: 'comlink-stream'; readonly id: number; readonly port: MessagePort; readonly plan: StreamPlan & { readonly window: number } }
  | { readonly cmd: 'exit' };

/** A bench worker's answer to the command with this `id`. */
export interface BenchReply {
  readonly id: number;
  readonly samples?: Float64Array;
  /** CPU microseconds of the process over the timed round trips (`ping`). */
  readonly cpuUs?: number;
  readonly elapsedMs?: number;
  readonly error?: string;
}
