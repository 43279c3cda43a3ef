// Shrinking failing runs: a control-bug run shrinks to a schedule that still
// violates safety, is no longer than the original and is 1-minimal — checked
// independently by removing each remaining fault in turn. The unshrunk
// schedule must FAIL that same minimality check, or the check proves nothing.
import { describe, expect, it } from 'vitest';
import { removableFaults, shrink } from '../../src/sim/shrink.js';
import { simulate, type BugName, type FaultSchedule } from '../../src/sim/simulator.js';
import { sweep } from '../../src/sim/sweep.js';

const cluster = { proposers: 3, acceptors: 5, learners: 2, steps: 2000 };

/** The lowest seed in 1..200 on which `bug` violates safety. */
function failingSeed(bug: BugName): number {
  const r = sweep({ ...cluster, first: 1, last: 200, bug });
  expect(r.firstViolation).not.toBeNull();
  return r.firstViolation?.seed as number;
}

const violates = (seed: number, bug: BugName, steps: number, schedule: FaultSchedule) => simulate({ ...cluster, seed, bug, steps, schedule }).violations.length > 0;

describe('shrinking a failing run', () => {
  for (const bug of ['amnesia', 'reuse-ballot'] as const) {
    it(`${bug}: the shrunk schedule still violates, is no longer, and is 1-minimal; the unshrunk one is not`, () => {
      const seed = failingSeed(bug);
      const r = shrink({ ...cluster, seed, bug }, { maxRuns: 2000 });
      // The original is the seed's own run.
      const original = simulate({ ...cluster, seed, bug, stopOnViolation: true });
      expect(r.original).toEqual(original.schedule);
      expect(r.originalSteps).toBe(original.steps);
      expect(r.runs).toBeLessThanOrEqual(2000);

      // (a) still violates when replayed — also without stopping at the violation.
      expect(violates(seed, bug, r.steps, r.schedule)).toBe(true);
      expect(simulate({ ...cluster, seed, bug, steps: r.steps, schedule: r.schedule }).violations).toEqual(r.violations);
      // (b) no longer than the original, and the step bound no higher.
      expect(r.schedule.length).toBeLessThanOrEqual(r.original.length);
      expect(r.steps).toBeLessThanOrEqual(r.originalSteps);
      // (c) 1-minimal: removing any single fault makes the run safe.
      expect(r.minimal).toBe(true);
      expect(removableFaults({ ...cluster, seed, bug, steps: r.steps, schedule: r.schedule })).toEqual([]);

      // Control: an "identity shrinker" (the input unchanged) fails the same minimality check.
      const identity = { schedule: r.original, steps: r.originalSteps };
      expect(violates(seed, bug, identity.steps, identity.schedule)).toBe(true);
      expect(removableFaults({ ...cluster, seed, bug, steps: identity.steps, schedule: identity.schedule }).length).toBeGreaterThan(0);
      // And shrinking really shrank here.
      expect(r.schedule.length).toBeLessThan(r.original.length);
    });
  }

  it('amnesia needs a crash: the shrunk schedule keeps one, with a shortened downtime', () => {
    const seed = failingSeed('amnesia');
    const r = shrink({ ...cluster, seed, bug: 'amnesia' });
    const crashes = r.schedule.filter((f) => f.kind === 'crash');
    expect(crashes.length).toBeGreaterThan(0);
    const originalDowntimes = r.original.filter((f) => f.kind === 'crash').map((f) => (f.kind === 'crash' ? f.downFor : 0));
    for (const c of crashes) if (c.kind === 'crash') expect(c.downFor).toBeLessThanOrEqual(Math.max(...originalDowntimes));
  });

  it('is deterministic, and starts from a given schedule as well as from the seed', () => {
    const seed = failingSeed('amnesia');
    const a = shrink({ ...cluster, seed, bug: 'amnesia' });
    expect(shrink({ ...cluster, seed, bug: 'amnesia' })).toEqual(a);
    const fromSchedule = shrink({ ...cluster, seed, bug: 'amnesia', schedule: a.original });
    expect(fromSchedule.schedule).toEqual(a.schedule);
    expect(fromSchedule.steps).toBe(a.steps);
  });

  it('respects the run budget: what it returns still violates, but is not claimed minimal', () => {
    const seed = failingSeed('reuse-ballot');
    const r = shrink({ ...cluster, seed, bug: 'reuse-ballot' }, { maxRuns: 4 });
    expect(r.runs).toBe(4);
    expect(r.minimal).toBe(false);
    expect(violates(seed, 'reuse-ballot', r.steps, r.schedule)).toBe(true);
    expect(r.schedule.length).toBeLessThanOrEqual(r.original.length);
  });

  it('refuses a run that is safe', () => {
    expect(() => shrink({ ...cluster, seed: 1 })).toThrow(/does not violate/);
  });
});
