/**
 * Seed sweeps across cores: the seed range is cut into chunks that a piscina
 * pool of worker threads runs in parallel. Every run is deterministic and the
 * chunks are merged by seed, so the summary is the same whatever the number of
 * workers and the chunk size (only the rates differ).
 *
 * A chunk is a few hundred seeds (each seed is a whole run of the simulator,
 * about a millisecond), so handing out tasks and merging their summaries
 * costs next to nothing against the work: the sweep scales with the cores
 * the machine has free.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerFile } from '../util/paths.js';
import type { FirstViolation, SweepOptions, SweepResult } from './sweep.js';
import { DEFAULT_KEEP_FAILING, sweep, withRates } from './sweep.js';

/** Options of a parallel sweep: a sweep's, plus how many worker threads. */
export interface ParallelSweepOptions extends Omit<SweepOptions, 'clock'> {
  /** Worker threads; 1 runs on the calling thread with no pool. Default: the machine's available parallelism. */
  readonly workers?: number;
  /** Seeds per task; by default {@link defaultChunk}. */
  readonly chunk?: number;
}

/**
 * The default seeds per task: about 16 tasks per worker, so progress moves
 * and a slow last chunk does not leave other cores idle for long, but never
 * under 20 seeds (task overhead) nor over 1,000 (progress).
 */
export function defaultChunk(total: number, workers: number): number {
  return Math.min(1000, Math.max(20, Math.ceil(total / (workers * 16))));
}

/** Runs seeds `first..last` over a pool of worker threads and merges the results. */
export async function parallelSweep(opts: ParallelSweepOptions): Promise<SweepResult & { workers: number; chunk: number }> {
  const { workers = availableParallelism(), chunk, onProgress, ...task } = opts;
  const total = task.last - task.first + 1;
  if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  if (chunk !== undefined && (!Number.isSafeInteger(chunk) || chunk < 1)) throw new RangeError(`chunk must be a positive integer, got ${chunk}`);
  if (workers === 1) return { ...sweep({ ...task, ...(onProgress ? { onProgress } : {}), clock: () => performance.now() }), workers: 1, chunk: total };
  const start = performance.now();
  const size = chunk ?? defaultChunk(total, workers);
  const pool = new Piscina({ filename: workerFile('sweep'), minThreads: workers, maxThreads: workers });
  let done = 0;
  try {
    const tasks: Promise<SweepResult>[] = [];
    for (let first = task.first; first <= task.last; first += size) {
      const last = Math.min(task.last, first + size - 1);
      tasks.push(
        (pool.run({ ...task, first, last }) as Promise<SweepResult>).then((r) => {
          done += r.runs;
          onProgress?.(done, total);
          return r;
        }),
      );
    }
    const parts = await Promise.all(tasks);
    const elapsedMs = performance.now() - start;
    return { ...merge(task.first, task.last, parts, task.keepFailing ?? DEFAULT_KEEP_FAILING, elapsedMs), workers, chunk: size };
  } finally {
    await pool.destroy();
  }
}

/** Merges chunk summaries (in any order) into the summary of the whole range. */
export function merge(first: number, last: number, parts: readonly SweepResult[], keepFailing: number, elapsedMs: number): SweepResult {
  const sum = (f: (r: SweepResult) => number) => parts.reduce((s, r) => s + f(r), 0);
  const totalSteps = sum((r) => r.totalSteps);
  const firsts = parts.map((r) => r.firstViolation).filter((v): v is FirstViolation => v !== null);
  const firstViolation = firsts.length === 0 ? null : firsts.reduce((a, b) => (b.seed < a.seed ? b : a));
  const failingSeeds = parts
    .flatMap((r) => r.failingSeeds)
    .sort((a, b) => a - b)
    .slice(0, keepFailing);
  const counts = { first, last, runs: sum((r) => r.runs), decidedRuns: sum((r) => r.decidedRuns), violatingRuns: sum((r) => r.violatingRuns), firstViolation, failingSeeds, totalSteps };
  return withRates(counts, elapsedMs);
}
