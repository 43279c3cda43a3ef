// Sweeps spread over a piscina pool must find exactly what a serial sweep
// finds: the runs are deterministic, only the rates may differ.
import { describe, expect, it } from 'vitest';
import { parallelSweep } from '../../src/sim/parallel.js';
import { sweep } from '../../src/sim/sweep.js';

const opts = { first: 1, last: 240, steps: 2000, proposers: 3, acceptors: 5, learners: 2 } as const;
const facts = (r: { runs: number; decidedRuns: number; violatingRuns: number; totalSteps: number; firstViolation: { seed: number } | null }) => ({
  runs: r.runs,
  decidedRuns: r.decidedRuns,
  violatingRuns: r.violatingRuns,
  totalSteps: r.totalSteps,
  firstSeed: r.firstViolation?.seed ?? null,
});

describe('parallel sweep', () => {
  it('2 workers give the same summary as a serial sweep', async () => {
    const progress: number[] = [];
    const par = await parallelSweep({ ...opts, workers: 2, chunk: 25, onProgress: (done) => progress.push(done) });
    expect(par.workers).toBe(2);
    expect(facts(par)).toEqual(facts(sweep(opts)));
    expect(progress.at(-1)).toBe(240);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('the first violating seed is the lowest one, whichever worker found it', async () => {
    const bugged = { ...opts, bug: 'reuse-ballot' as const };
    const par = await parallelSweep({ ...bugged, workers: 2, chunk: 7 });
    const ser = sweep(bugged);
    expect(par.violatingRuns).toBeGreaterThan(0);
    expect(facts(par)).toEqual(facts(ser));
  });
});
