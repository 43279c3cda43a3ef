// The kv simulator's cas-false control: a cas that swapped answers false to
// its client. The linearizability checker must catch it (a later read sees
// the value the cas put, or a cas from it swaps), and the same seeds without
// the bug must pass, so what fails is the bug, not the runs.
import { describe, expect, it } from 'vitest';
import { simulateKv } from '../../src/sim/kvsim.js';
import { sweepKv } from '../../src/sim/kvsweep.js';

const faults = { drop: 0.05, dup: 0.05, delay: 0.02, crash: 0.0005, partition: 0.0005 };
const runs = { first: 1, last: 10, clients: 5, ops: 300, faults };

describe('kv simulator control: cas-false', () => {
  it('a cas that swapped but answered false is reported non-linearizable on every seed', () => {
    const r = sweepKv({ ...runs, bug: 'cas-false' });
    expect(r.runs).toBe(10);
    expect(r.nonLinearizableRuns).toBe(10);
    expect(r.unsafeRuns).toBe(0); // the log stays safe: the bug is in the answer
    expect(r.firstFailure).not.toBeNull();
  });

  it('the same seeds without the bug are linearizable, cas answers of false included', () => {
    const r = sweepKv(runs);
    expect(r.nonLinearizableRuns).toBe(0);
    expect(r.unknownRuns).toBe(0);
    expect(r.firstFailure).toBeNull();
    // Those histories do hold cas answers of false, checked as ok operations.
    expect(simulateKv({ ...runs, seed: 1 }).history.some((e) => e.type === 'ok' && e.f === 'cas' && e.swapped === false)).toBe(true);
  });
});
