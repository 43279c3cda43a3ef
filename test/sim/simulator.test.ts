// The deterministic simulator: same seed, same run; a long fault-heavy sweep
// stays safe; and the control bugs MUST be caught — a checker that cannot
// catch them checks nothing.
import { describe, expect, it } from 'vitest';
import { simulate, sweep, BUGS } from '../../src/sim/index.js';
import { Prng } from '../../src/sim/prng.js';

const cluster = { proposers: 3, acceptors: 5, learners: 2 };

describe('simulator', () => {
  it('replays a seed byte for byte', () => {
    const trace = (seed: number) => {
      const lines: string[] = [];
      const r = simulate({ ...cluster, seed, steps: 2000, trace: (l) => lines.push(l) });
      return JSON.stringify(r) + lines.join('\n');
    };
    expect(trace(42)).toBe(trace(42));
    expect(trace(42)).not.toBe(trace(43));
  });

  it('the PRNG is deterministic and uniform enough', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(() => new Prng(1.5)).toThrow(RangeError);
  });

  it('a crash loses pending writes and the replies riding on them', () => {
    const r = simulate({ ...cluster, seed: 3, steps: 2000, faults: { crash: 0.05 } });
    expect(r.stats.crashes).toBeGreaterThan(10);
    expect(r.stats.lostWrites).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
  });

  it('sweep: 1,000 seeds x 2,000 steps with mixed faults, zero violations, well over a third decide', () => {
    const faults = { drop: 0.2, dup: 0.1, delay: 0.05, crash: 0.02, partition: 0.01 };
    const r = sweep({ ...cluster, first: 1, last: 1000, steps: 2000, faults });
    expect(r.runs).toBe(1000);
    expect(r.violatingRuns).toBe(0);
    expect(r.firstViolation).toBeNull();
    expect(r.decidedRuns / r.runs).toBeGreaterThan(0.5);
    expect(r.totalSteps).toBeGreaterThan(1000 * 1900); // runs really use their steps
  });

  for (const bug of BUGS) {
    it(`control bug ${bug} is caught within 2,000 seeds`, () => {
      const r = sweep({ ...cluster, first: 1, last: 2000, steps: 2000, bug });
      expect(r.violatingRuns).toBeGreaterThan(0);
      expect(r.firstViolation?.violations.length).toBeGreaterThan(0);
      // The same seed without the bug is safe: the violation is the bug's doing.
      const seed = r.firstViolation?.seed as number;
      expect(simulate({ ...cluster, seed, steps: 2000 }).violations).toEqual([]);
      expect(simulate({ ...cluster, seed, steps: 2000, bug }).violations.length).toBeGreaterThan(0);
    });
  }

  it('the amnesia bug breaks the acceptor rules; the proposer bugs break agreement', () => {
    const kinds = (bug: (typeof BUGS)[number]) => new Set(sweep({ ...cluster, first: 1, last: 200, steps: 2000, bug }).firstViolation?.violations.map((v) => v.kind));
    expect(kinds('amnesia').has('promise-regressed')).toBe(true);
    expect(kinds('ignore-accepted').has('chosen-conflict')).toBe(true);
    expect(kinds('reuse-ballot').has('chosen-conflict')).toBe(true);
  });
});
