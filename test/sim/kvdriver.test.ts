// The key-value simulator on the shared seeded driver: its faults are
// recorded and replay exactly, a failing run shrinks the way single-decree
// runs do, and a sweep spread over worker threads finds what a serial one
// finds.
import { describe, expect, it } from 'vitest';
import { simulateKv, type KvSimOptions } from '../../src/sim/kvsim.js';
import { checkedKvRun, removableKvFaults, shrinkKv, sweepKv, type KvSweepResult } from '../../src/sim/kvsweep.js';
import { parallelSweepKv } from '../../src/sim/parallel.js';

const faults = { drop: 0.05, dup: 0.05, delay: 0.02, crash: 0.002, partition: 0.002 };
const small = { clients: 3, ops: 60, faults, crashLeader: 0.001 } as const;

/** Everything in a sweep's summary but how it was run. */
const facts = (r: KvSweepResult) => ({ runs: r.runs, ops: r.ops, completed: r.completed, unsafeRuns: r.unsafeRuns, nonLinearizableRuns: r.nonLinearizableRuns, unknownRuns: r.unknownRuns, firstFailure: r.firstFailure, failingRuns: r.failingRuns, failingSeeds: r.failingSeeds, leaderChanges: r.leaderChanges });

describe('key-value runs on the seeded driver', () => {
  it('a recorded schedule replays to the same result; dropping one of its faults changes the run', () => {
    const opts: KvSimOptions = { ...small, seed: 12, ops: 200, clients: 5 };
    const recorded = simulateKv(opts);
    const kinds = new Set(recorded.schedule.map((f) => f.kind));
    expect(recorded.schedule.length).toBeGreaterThan(20);
    for (const k of ['drop', 'dup', 'delay']) expect(kinds.has(k as never), k).toBe(true);
    // Replaying the schedule (the rates are then unused) gives the same run, byte for byte.
    const replayed = simulateKv({ ...opts, faults: { drop: 0, dup: 0, delay: 0, crash: 0, partition: 0 }, crashLeader: 0, schedule: recorded.schedule });
    expect(JSON.stringify(replayed)).toBe(JSON.stringify(recorded));
    // Control: the replay really follows the schedule — without its first fault the run differs.
    const without = simulateKv({ ...opts, schedule: recorded.schedule.slice(1) });
    expect(JSON.stringify(without)).not.toBe(JSON.stringify(recorded));
  });

  it('crashes and partitions are recorded too, and replay', () => {
    const opts: KvSimOptions = { ...small, seed: 3, ops: 300, faults: { ...faults, crash: 0.01, partition: 0.01 }, crashLeader: 0.01 };
    const recorded = simulateKv(opts);
    expect(recorded.schedule.some((f) => f.kind === 'crash')).toBe(true);
    expect(recorded.schedule.some((f) => f.kind === 'partition')).toBe(true);
    expect(JSON.stringify(simulateKv({ ...opts, schedule: recorded.schedule }))).toBe(JSON.stringify(recorded));
  });

  it('a schedule naming an unknown actor is refused', () => {
    expect(() => simulateKv({ ...small, seed: 1, schedule: [{ kind: 'crash', step: 1, actor: 'a9', downFor: 5 }] })).toThrow(/a9/);
  });

  it('stale-read: a failing run shrinks to a schedule no longer than the original that still fails, and is 1-minimal; the unshrunk one is not', () => {
    const bugged = { ...small, bug: 'stale-read' as const };
    const sweep = sweepKv({ ...bugged, first: 1, last: 20 });
    expect(sweep.firstFailure).not.toBeNull();
    const seed = sweep.firstFailure?.seed as number;
    const r = shrinkKv({ ...bugged, seed });
    expect(r.original).toEqual(simulateKv({ ...bugged, seed }).schedule);
    expect(r.schedule.length).toBeLessThanOrEqual(r.original.length);
    expect(r.steps).toBeLessThanOrEqual(r.originalSteps);
    expect(r.linearizability.status).toBe('not-linearizable');
    // Replayed on its own, the shrunk schedule still fails.
    const again = checkedKvRun({ ...bugged, seed, maxSteps: r.steps, schedule: r.schedule });
    expect(again.failed).toBe(true);
    expect(again.linearizability.status).toBe('not-linearizable');
    expect(r.minimal).toBe(true);
    expect(removableKvFaults({ ...bugged, seed, maxSteps: r.steps, schedule: r.schedule })).toEqual([]);
    // Control: the unshrunk schedule fails the same minimality check.
    expect(removableKvFaults({ ...bugged, seed, schedule: r.original }).length).toBeGreaterThan(0);
  });

  it('refuses to shrink a run that passes', () => {
    const sweep = sweepKv({ ...small, first: 1, last: 1 });
    expect(sweep.firstFailure).toBeNull();
    expect(() => shrinkKv({ ...small, seed: 1 })).toThrow(/does not violate/);
  });

  it('a sweep over 2 workers gives the same summary as a serial one, failures included', async () => {
    const bugged = { ...small, bug: 'stale-read' as const, first: 1, last: 24 };
    const serial = sweepKv(bugged);
    expect(serial.failingRuns).toBeGreaterThan(1);
    const progress: number[] = [];
    const par = await parallelSweepKv({ ...bugged, workers: 2, chunk: 5, onProgress: (done) => progress.push(done) });
    expect(par.workers).toBe(2);
    expect(facts(par)).toEqual(facts(serial));
    expect(progress.at(-1)).toBe(24);
    const one = await parallelSweepKv({ ...bugged, workers: 1 });
    expect(facts(one)).toEqual(facts(serial));
  });
});
