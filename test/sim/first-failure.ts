// The lowest failing seed of a key-value control sweep, shared by the
// control tests: seeds 1..2,000, 25 at a time on 2 workers, stopping at the
// first chunk that fails.
import type { KvFailure, KvSweepOptions } from '../../src/sim/kvsweep.js';
import { parallelSweepKv } from '../../src/sim/parallel.js';

/** The lowest failing seed in 1..2,000 and its failure, or null if every seed passes. */
export async function firstFailure(opts: Omit<KvSweepOptions, 'first' | 'last'>): Promise<KvFailure | null> {
  for (let first = 1; first <= 2000; first += 25) {
    const s = await parallelSweepKv({ ...opts, first, last: first + 24, workers: 2, keepFailing: 1 });
    if (s.firstFailure) return s.firstFailure;
  }
  return null;
}
