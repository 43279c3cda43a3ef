/**
 * Seed sweeps across cores: the seed range is cut into chunks that a piscina
 * pool of worker threads runs in parallel. Every run is deterministic, so the
 * summary is the same whatever the number of workers (only the rates differ).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerFile } from '../util/paths.js';
import type { FirstViolation, SweepOptions, SweepResult } from './sweep.js';
import { sweep } from './sweep.js';

/** Options of a parallel sweep: a sweep's, plus how many worker threads. */
export interface ParallelSweepOptions extends Omit<SweepOptions, 'clock'> {
  /** Worker threads; 1 runs on the calling thread with no pool. Default: the machine's available parallelism. */
  readonly workers?: number;
  /** Seeds per task; by default about 20 tasks per worker so progress stays smooth and cores stay busy. */
  readonly chunk?: number;
}

/** Runs seeds `first..last` over a pool of worker threads and merges the results. */
export async function parallelSweep(opts: ParallelSweepOptions): Promise<SweepResult & { workers: number }> {
  const { workers = availableParallelism(), chunk, onProgress, ...task } = opts;
  const start = performance.now();
  if (workers <= 1) return { ...sweep({ ...task, ...(onProgress ? { onProgress } : {}), clock: () => performance.now() }), workers: 1 };
  const total = task.last - task.first + 1;
  const size = chunk ?? Math.max(10, Math.ceil(total / (workers * 20)));
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
    const sum = (f: (r: SweepResult) => number) => parts.reduce((s, r) => s + f(r), 0);
    const totalSteps = sum((r) => r.totalSteps);
    const firsts = parts.map((r) => r.firstViolation).filter((v): v is FirstViolation => v !== null);
    const firstViolation = firsts.length === 0 ? null : firsts.reduce((a, b) => (b.seed < a.seed ? b : a));
    return {
      first: task.first,
      last: task.last,
      runs: sum((r) => r.runs),
      decidedRuns: sum((r) => r.decidedRuns),
      violatingRuns: sum((r) => r.violatingRuns),
      firstViolation,
      totalSteps,
      elapsedMs: Math.round(elapsedMs),
      seedsPerSec: Math.round((total * 1000) / elapsedMs),
      stepsPerSec: Math.round((totalSteps * 1000) / elapsedMs),
      workers,
    };
  } finally {
    await pool.destroy();
  }
}
