// The deterministic simulator: same seed, same run; a long fault-heavy sweep
// stays safe; and the control bugs MUST be caught — a checker that cannot
// catch them checks nothing.
import { describe, expect, it } from 'vitest';
import { simulate, sweep, BUGS } from '../../src/sim/index.js';
import { Prng } from '../../src/util/prng.js';

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

  it('a replayed seed reproduces its run exactly: timeline, stats, verdict, faults', () => {
    for (const seed of [1, 42, 977]) {
      const heavy = { drop: 0.2, dup: 0.1, delay: 0.05, crash: 0.02, partition: 0.01 };
      expect(simulate({ ...cluster, seed, steps: 2000, faults: heavy })).toEqual(simulate({ ...cluster, seed, steps: 2000, faults: heavy }));
    }
    const bugged = simulate({ ...cluster, seed: 3, steps: 2000, bug: 'amnesia' });
    expect(bugged.violations.length).toBeGreaterThan(0);
    expect(simulate({ ...cluster, seed: 3, steps: 2000, bug: 'amnesia' })).toEqual(bugged);
  });

  it('a run records every fault it injected, and replaying that schedule reproduces the run exactly', () => {
    const heavy = { drop: 0.2, dup: 0.1, delay: 0.05, crash: 0.02, partition: 0.01 };
    for (const [seed, faults, bug] of [
      [5, heavy, null],
      [8, {}, null],
      [3, {}, 'amnesia'],
      [2, {}, 'reuse-ballot'],
    ] as const) {
      const original = simulate({ ...cluster, seed, steps: 2000, faults, bug });
      const kinds = new Set(original.schedule.map((f) => f.kind));
      if (faults === heavy) expect([...kinds].sort()).toEqual(['crash', 'delay', 'drop', 'dup', 'partition']);
      // The record accounts for the faults the stats saw.
      expect(original.schedule.filter((f) => f.kind === 'crash')).toHaveLength(original.stats.crashes);
      expect(original.schedule.filter((f) => f.kind === 'partition')).toHaveLength(original.stats.partitions);
      expect(original.schedule.filter((f) => f.kind === 'dup')).toHaveLength(original.stats.duplicated);
      // The fault probabilities are unused when replaying: the schedule alone decides.
      const replayed = simulate({ ...cluster, seed, steps: 2000, faults: { drop: 1, crash: 1 }, bug, schedule: original.schedule });
      expect(replayed).toEqual(original);
    }
  });

  it('faults come from their own stream: deciding them does not move the rest of the run', () => {
    // Rates so low that no fault fires, but every message and step still draws its fault decisions.
    const tiny = { drop: 1e-9, dup: 1e-9, delay: 1e-9, crash: 1e-9, partition: 1e-9 };
    const none = { drop: 0, dup: 0, delay: 0, crash: 0, partition: 0 };
    for (const seed of [12, 13]) {
      const drawn = simulate({ ...cluster, seed, steps: 2000, faults: tiny });
      expect(drawn.schedule).toEqual([]);
      expect(drawn).toEqual(simulate({ ...cluster, seed, steps: 2000, faults: none }));
      expect(drawn).toEqual(simulate({ ...cluster, seed, steps: 2000, schedule: [] }));
    }
    const clean = simulate({ ...cluster, seed: 12, steps: 2000, schedule: [] });
    expect(clean.stats).toMatchObject({ crashes: 0, partitions: 0, duplicated: 0, dropped: 0 });
  });

  it('a hand-written schedule is replayed as written; faults that cannot happen are skipped', () => {
    const r = simulate({
      ...cluster,
      seed: 4,
      steps: 400,
      schedule: [
        { kind: 'crash', step: 30, actor: 'a1', downFor: 50 },
        { kind: 'crash', step: 31, actor: 'a1', downFor: 50 }, // a1 is still down: skipped
        { kind: 'partition', step: 60, side: ['p1', 'a1', 'a2'], healAfter: 40 },
        { kind: 'drop', step: 999_999, from: 'p1', to: 'a1', type: 'prepare', nth: 0 }, // never sent
      ],
    });
    expect(r.stats).toMatchObject({ crashes: 1, restarts: 1, partitions: 1 });
    expect(r.schedule.map((f) => f.kind)).toEqual(['crash', 'partition']);
    expect(r.timeline.some((e) => e.text === 'a1 crashed' && e.step >= 30)).toBe(true);
    expect(r.timeline.some((e) => e.text.startsWith('partition {p1,a1,a2}'))).toBe(true);
    expect(() => simulate({ ...cluster, seed: 4, steps: 10, schedule: [{ kind: 'crash', step: 1, actor: 'a9', downFor: 5 }] })).toThrow(/a9/);
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

  it('sweep: 1,000 seeds x 2,000 steps with mixed faults and the liveness phase, zero violations, well over a third decide', () => {
    const faults = { drop: 0.2, dup: 0.1, delay: 0.05, crash: 0.02, partition: 0.01 };
    const r = sweep({ ...cluster, first: 1, last: 1000, steps: 2000, faults, liveness: true });
    expect(r.runs).toBe(1000);
    expect(r.violatingRuns).toBe(0);
    expect(r.firstViolation).toBeNull();
    expect(r.livenessRuns).toBe(0);
    expect(r.decidedRuns / r.runs).toBeGreaterThan(0.5);
    expect(r.totalSteps).toBeGreaterThan(1000 * 1900); // runs really use their steps
  });

  for (const bug of BUGS) {
    it(`control bug ${bug} is caught within 2,000 seeds`, () => {
      // Every sweep checks liveness too; only no-retry needs it (it stops progress and breaks no safety rule).
      // 250 seeds at a time, stopping at the first range that fails.
      let r = sweep({ ...cluster, first: 1, last: 250, steps: 2000, bug, liveness: true });
      while (r.violatingRuns === 0 && r.last < 2000) r = sweep({ ...cluster, first: r.last + 1, last: r.last + 250, steps: 2000, bug, liveness: true });
      expect(r.violatingRuns).toBeGreaterThan(0);
      expect(r.firstViolation?.violations.length).toBeGreaterThan(0);
      // The same seed without the bug is safe and live: the violation is the bug's doing.
      const seed = r.firstViolation?.seed as number;
      expect(simulate({ ...cluster, seed, steps: 2000, liveness: true }).violations).toEqual([]);
      expect(simulate({ ...cluster, seed, steps: 2000, bug, liveness: true }).violations.length).toBeGreaterThan(0);
      if (bug === 'no-retry') {
        expect(r.firstViolation?.violations.map((v) => v.kind)).toEqual(['liveness']);
        expect(r.livenessRuns).toBe(r.violatingRuns);
        // Only the liveness phase sees it.
        expect(simulate({ ...cluster, seed, steps: 2000, bug }).violations).toEqual([]);
      }
    });
  }

  it('the amnesia bug breaks the acceptor rules; the proposer bugs break agreement', () => {
    const kinds = (bug: (typeof BUGS)[number]) => new Set(sweep({ ...cluster, first: 1, last: 200, steps: 2000, bug }).firstViolation?.violations.map((v) => v.kind));
    expect(kinds('amnesia').has('promise-regressed')).toBe(true);
    expect(kinds('ignore-accepted').has('chosen-conflict')).toBe(true);
    expect(kinds('reuse-ballot').has('chosen-conflict')).toBe(true);
  });
});
