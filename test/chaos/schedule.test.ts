/**
 * Chaos schedules: generated from a seed (the same seed, the same schedule;
 * every fault kind within two random rounds) and read back from JSON with
 * clear errors for bad files.
 */
import { describe, expect, it } from 'vitest';
import { CRASH_MODES, faultKindsOf, generateKvSteps, generateRound, parseSchedule, scenarioOf, ScheduleError, singleSchedule, validateSchedule, type Step } from '../../src/chaos/schedule.js';

const shape = { proposers: 3, acceptors: 3, learners: 2 };

describe('chaos schedules', () => {
  it('the same seed gives the same rounds; another seed another', () => {
    expect(generateRound(7, 4, shape, null)).toEqual(generateRound(7, 4, shape, null));
    expect(generateRound(7, 0, shape, null)).not.toEqual(generateRound(8, 0, shape, null));
  });

  it('two random rounds inject every fault kind; every proposer proposes a distinct value', () => {
    const rounds = [0, 1].map((i) => generateRound(3, i, shape, null));
    expect(rounds.map((r) => r.scenario)).toEqual(['random', 'random']);
    const kinds = new Set(rounds.flatMap((r) => r.steps.flatMap((s) => faultKindsOf(s))));
    for (const k of [...CRASH_MODES.map((m) => `crash:${m}`), 'restart', 'partition', 'heal', 'link-drop', 'link-dup', 'link-delay']) expect(kinds).toContain(k);
    for (const r of rounds) {
      const proposals = r.steps.filter((s): s is Extract<Step, { op: 'propose' }> => s.op === 'propose');
      expect(proposals.map((p) => p.proposer).sort()).toEqual(['p1', 'p2', 'p3']);
      expect(new Set(proposals.map((p) => p.value)).size).toBe(3);
    }
  });

  it('without an experiment every third round runs a targeted schedule; with one, every round does', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => scenarioOf(i, null))).toEqual(['random', 'random', 'amnesia', 'random', 'random', 'no-fsync', 'random', 'random', 'reuse-ballot']);
    expect(generateRound(1, 0, shape, 'reuse-ballot').scenario).toBe('reuse-ballot');
    const amnesia = generateRound(1, 0, shape, 'amnesia').steps;
    // Every acceptor is crashed after the decision, and a second proposal follows the restarts.
    expect(amnesia.filter((s) => s.op === 'crash').map((s) => (s as { actor: string }).actor).sort()).toEqual(['a1', 'a2', 'a3']);
    expect(amnesia.filter((s) => s.op === 'propose')).toHaveLength(2);
  });

  it('a written schedule reads back equal', () => {
    const s = singleSchedule(5, null, shape, 4000, [generateRound(5, 0, shape, null), generateRound(5, 2, shape, null)]);
    expect(parseSchedule(JSON.stringify(s))).toEqual(s);
    const kv = { format: 'synod-chaos-schedule', version: 1, protocol: 'kv', seed: 1, cluster: shape, clients: 4, keys: 2, steps: generateKvSteps(1, 2000, shape) };
    expect(validateSchedule(kv)).toEqual(kv);
    const modes = new Set(kv.steps.filter((s) => s.op === 'crash').map((s) => (s as { how: string }).how));
    expect([...modes].sort()).toEqual([...CRASH_MODES].sort());
  });

  it('kv scripts partition one actor and make a proposer\'s links lossy, and undo each soon after', () => {
    const steps = generateKvSteps(3, 20_000, shape);
    const partitions = steps.flatMap((s, i) => (s.op === 'partition' ? [i] : []));
    const lossy = steps.filter((s) => s.op === 'link' && s.drop > 0);
    expect(partitions.length).toBeGreaterThan(0);
    expect(lossy.length).toBeGreaterThan(0);
    for (const i of partitions) {
      const p = steps[i] as { sides: [string[], string[]] };
      expect(p.sides[0]).toHaveLength(1);
      expect(steps[i + 1]?.op).toBe('wait');
      expect(steps[i + 2]?.op).toBe('heal');
    }
    // Every lossy link is cleared again.
    const cleared = steps.filter((s) => s.op === 'link' && s.drop === 0 && s.dup === 0 && s.delay === 0);
    expect(cleared).toHaveLength(lossy.length);
    const kv = { format: 'synod-chaos-schedule', version: 1, protocol: 'kv', seed: 3, cluster: shape, clients: 4, keys: 2, steps };
    expect(validateSchedule(kv)).toEqual(kv);
  });

  it('bad files fail with errors that say where and what', () => {
    expect(() => parseSchedule('{nope')).toThrow(ScheduleError);
    expect(() => parseSchedule('{nope')).toThrow(/not valid JSON/);
    const base = { format: 'synod-chaos-schedule', version: 1, protocol: 'single', cluster: shape, rounds: [{ steps: [] as unknown[] }] };
    expect(() => validateSchedule({ ...base, rounds: [{ steps: [{ op: 'crash', actor: 'a1', how: 'gently' }] }] })).toThrow(/rounds\.0\.steps\.0\.how/);
    expect(() => validateSchedule({ ...base, rounds: [{ steps: [{ op: 'crash', actor: 'a7', how: 'exit' }] }] })).toThrow(/rounds\.0\.steps\.0\.actor: a7 is not an actor/);
    expect(() => validateSchedule({ ...base, rounds: [{ steps: [{ op: 'propose', proposer: 'a1', value: 1 }] }] })).toThrow(/a1 is not a proposer/);
    expect(() => validateSchedule({ ...base, rounds: [{ steps: [{ op: 'link', from: 'p1', to: 'a1', drop: 2, dup: 0, delay: 0, delayMs: 5 }] }] })).toThrow(/drop/);
    expect(() => validateSchedule({ ...base, rounds: [] })).toThrow(/rounds/);
    expect(() => validateSchedule({ ...base, protocol: 'multi' })).toThrow(/protocol/);
    expect(() => validateSchedule({ ...base, extra: 1 })).toThrow(/extra/);
  });
});
