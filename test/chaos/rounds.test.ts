/**
 * Chaos on the real worker-thread cluster with every switch off: a few
 * rounds that between them inject every fault kind must decide and show no
 * violation; and a schedule replayed injects exactly its own faults.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from '../../src/chaos/run.js';
import { CRASH_MODES, generateRound, isFault, type FaultKind } from '../../src/chaos/schedule.js';

const cluster = { proposers: 3, acceptors: 3, learners: 2 };

describe('chaos rounds on the real cluster, every switch off', () => {
  it('every fault kind is injected, rounds decide, and no violation shows', async () => {
    const report = await runChaos({ seed: 11, experiment: null, cluster, roundTimeoutMs: 5000, flushMs: 100, bounds: { rounds: 3 }, keepGoing: false });
    const detail = JSON.stringify({ violations: report.violations, faults: report.faults, perRound: report.perRound }, null, 1);
    expect(report.violations, detail).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.rounds).toBe(3);
    // Two random rounds and one targeted (amnesia-shaped) round, with its switch off.
    expect(report.schedule.rounds.map((r) => r.scenario)).toEqual(['random', 'random', 'amnesia']);
    const kinds: FaultKind[] = [...CRASH_MODES.map((m) => `crash:${m}` as FaultKind), 'restart', 'partition', 'heal', 'link-drop', 'link-dup', 'link-delay'];
    for (const k of kinds) expect(report.faults[k] ?? 0, `${k} injected\n${detail}`).toBeGreaterThan(0);
    // The faults took effect: actors crashed and came back, and the link faults met messages.
    expect(Object.values(report.crashes).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Crash points are armed before the proposals, so the round's traffic makes them fire.
    expect((report.crashes['after-receive'] ?? 0) + (report.crashes['after-persist'] ?? 0), detail).toBeGreaterThan(0);
    expect(report.restarts.count).toBeGreaterThan(0);
    expect(report.restarts.p50Ms).not.toBeNull();
    expect(report.messages.dropped + report.messages.duplicated + report.messages.delayed).toBeGreaterThan(0);
    // Decisions happened, and every learner of a round agreed.
    expect(report.decisions, detail).toBeGreaterThan(0);
    for (const r of report.perRound) if (r.allDecided) expect(new Set(Object.values(r.decided).map((v) => JSON.stringify(v))).size).toBe(1);
  });

  it('a replayed schedule injects exactly the faults it lists', async () => {
    const rounds = [generateRound(4, 0, cluster, null)];
    const report = await runChaos({ seed: 4, experiment: null, cluster, roundTimeoutMs: 5000, flushMs: 100, rounds, bounds: {}, keepGoing: false });
    expect(report.rounds).toBe(1);
    const listed = rounds[0]!.steps.filter(isFault);
    expect(report.perRound[0]!.injected.map((i) => i.step)).toEqual(listed);
    expect(report.schedule.rounds).toEqual(rounds);
    expect(report.violations).toEqual([]);
  });
});
