/**
 * Seed sweeps across cores, for either protocol: the seed range is cut into
 * chunks that a piscina pool of worker threads runs in parallel. Every run is
 * deterministic and the chunks are merged by seed, so the summary is the same
 * whatever the number of workers and the chunk size (only the rates differ).
 *
 * A chunk is a few hundred seeds (each seed is a whole run of the simulator,
 * about a millisecond), so handing out tasks and merging their summaries
 * costs next to nothing against the work: the sweep scales with the cores
 * the machine has free.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerFile } from '../util/paths.js';
import { runChunk, type ChunkTally, type ChunkTask } from './chunks.js';
import { kvSweepResult, type KvSweepOptions, type KvSweepResult } from './kvsweep.js';
import type { SweepOptions, SweepResult } from './sweep.js';
import { DEFAULT_KEEP_FAILING, mergeTallies, synodSweepResult, type SeedTally } from './sweep.js';

/** How a sweep is spread over threads. */
export interface PoolOptions {
  /** Worker threads; 1 runs on the calling thread with no pool. Default: the machine's available parallelism. */
  readonly workers?: number;
  /** Seeds per task; by default {@link defaultChunk}. */
  readonly chunk?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Options of a parallel sweep: a sweep's, plus how many worker threads. */
export interface ParallelSweepOptions extends Omit<SweepOptions, 'clock'>, PoolOptions {}

/** Options of a parallel key-value sweep: a key-value sweep's, plus how many worker threads. */
export interface ParallelKvSweepOptions extends KvSweepOptions, PoolOptions {}

/**
 * The default seeds per task: about 16 tasks per worker, so progress moves
 * and a slow last chunk does not leave other cores idle for long, but never
 * under 20 seeds (task overhead) nor over 1,000 (progress).
 */
export function defaultChunk(total: number, workers: number): number {
  return Math.min(1000, Math.max(20, Math.ceil(total / (workers * 16))));
}

/** What {@link sweepPool} found: the tally of the whole range, and how it was run. */
export interface PoolTally<P extends ChunkTask['protocol']> {
  readonly tally: ChunkTally<P>;
  readonly workers: number;
  readonly chunk: number;
  readonly elapsedMs: number;
}

/** Runs a whole seed range of either protocol over a pool of worker threads (or on this thread) and merges the chunks' tallies. */
export async function sweepPool<P extends ChunkTask['protocol']>(whole: Extract<ChunkTask, { protocol: P }>, pool: PoolOptions): Promise<PoolTally<P>> {
  const { workers = availableParallelism(), chunk, onProgress } = pool;
  const total = whole.last - whole.first + 1;
  if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  if (chunk !== undefined && (!Number.isSafeInteger(chunk) || chunk < 1)) throw new RangeError(`chunk must be a positive integer, got ${chunk}`);
  const start = performance.now();
  if (workers === 1) {
    const tally = runChunk(whole, onProgress) as ChunkTally<P>;
    return { tally, workers: 1, chunk: total, elapsedMs: performance.now() - start };
  }
  const size = chunk ?? defaultChunk(total, workers);
  const threads = new Piscina({ filename: workerFile('sweep'), minThreads: workers, maxThreads: workers });
  let done = 0;
  try {
    const tasks: Promise<ChunkTally<P>>[] = [];
    for (let first = whole.first; first <= whole.last; first += size) {
      const last = Math.min(whole.last, first + size - 1);
      tasks.push(
        (threads.run({ ...whole, first, last }) as Promise<ChunkTally<P>>).then((r) => {
          done += r.runs;
          onProgress?.(done, total);
          return r;
        }),
      );
    }
    const parts = await Promise.all(tasks);
    const tally = mergeTallies<Record<string, number>, unknown>(whole.first, whole.last, parts as readonly SeedTally<Record<string, number>, unknown>[], whole.keepFailing) as ChunkTally<P>;
    return { tally, workers, chunk: size, elapsedMs: performance.now() - start };
  } finally {
    await threads.destroy();
  }
}

/** Runs single-decree seeds `first..last` over a pool of worker threads and merges the results. */
export async function parallelSweep(opts: ParallelSweepOptions): Promise<SweepResult & { workers: number; chunk: number }> {
  const { workers, chunk, onProgress, first, last, keepFailing = DEFAULT_KEEP_FAILING, ...task } = opts;
  const r = await sweepPool({ protocol: 'synod', task, first, last, keepFailing }, { ...(workers !== undefined ? { workers } : {}), ...(chunk !== undefined ? { chunk } : {}), ...(onProgress ? { onProgress } : {}) });
  return { ...synodSweepResult(r.tally, r.elapsedMs), workers: r.workers, chunk: r.chunk };
}

/** Runs and checks key-value seeds `first..last` over a pool of worker threads and merges the results. */
export async function parallelSweepKv(opts: ParallelKvSweepOptions): Promise<KvSweepResult & { workers: number; chunk: number; elapsedMs: number }> {
  const { workers, chunk, onProgress, first, last, keepFailing = DEFAULT_KEEP_FAILING, ...task } = opts;
  const r = await sweepPool({ protocol: 'kv', task, first, last, keepFailing }, { ...(workers !== undefined ? { workers } : {}), ...(chunk !== undefined ? { chunk } : {}), ...(onProgress ? { onProgress } : {}) });
  return { ...kvSweepResult(r.tally), workers: r.workers, chunk: r.chunk, elapsedMs: Math.round(r.elapsedMs) };
}
