// Sweeps spread over a piscina pool must find exactly what a serial sweep
// finds: the runs are deterministic, only the rates may differ. (That two
// workers beat one is a benchmark: bench/sim-scaling.ts, `synod bench --only sim-scaling`.)
import { describe, expect, it } from 'vitest';
import { defaultChunk, parallelSweep } from '../../src/sim/parallel.js';
import { sweep, type SweepResult } from '../../src/sim/sweep.js';

const opts = { first: 1, last: 240, steps: 2000, proposers: 3, acceptors: 5, learners: 2 } as const;
/** Everything in a summary but the rates and timings. */
const facts = (r: SweepResult) => ({
  first: r.first,
  last: r.last,
  runs: r.runs,
  decidedRuns: r.decidedRuns,
  violatingRuns: r.violatingRuns,
  totalSteps: r.totalSteps,
  firstViolation: r.firstViolation,
  failingSeeds: r.failingSeeds,
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
    expect(par.failingSeeds.length).toBeGreaterThan(1);
    expect(facts(par)).toEqual(facts(ser));
  });

  it('the summary is identical for any number of workers and any chunk size', async () => {
    const bugged = { ...opts, last: 120, bug: 'amnesia' as const, faults: { crash: 0.002 }, keepFailing: 5 };
    const serial = facts(sweep(bugged));
    expect(serial.violatingRuns).toBeGreaterThan(5);
    expect(serial.failingSeeds).toHaveLength(5);
    for (const [workers, chunk] of [
      [1, undefined],
      [2, undefined],
      [3, 11],
      [2, 120],
      [4, 3],
    ] as const) {
      const par = await parallelSweep({ ...bugged, workers, ...(chunk ? { chunk } : {}) });
      expect(facts(par), `workers=${workers} chunk=${chunk}`).toEqual(serial);
    }
  });

  it('default chunks keep task overhead small and every worker busy', () => {
    expect(defaultChunk(20_000, 2)).toBe(625);
    expect(defaultChunk(100_000, 2)).toBe(1000);
    expect(defaultChunk(50, 2)).toBe(20);
  });

});
