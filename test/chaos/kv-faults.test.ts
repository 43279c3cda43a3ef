// The kv chaos faults beyond single actors: systems (which actors a system
// crash takes down) and replacements through the log, as generated from a
// seed and as read from a schedule file. The runs are in
// test/cli/chaos-cli.test.ts.
import { describe, expect, it } from 'vitest';
import { generateKvSteps, kvSystems, validateSchedule, type KvStep } from '../../src/chaos/schedule.js';

const shape = { proposers: 3, acceptors: 3, learners: 2 };
const kvFile = (steps: unknown[]) => ({ format: 'synod-chaos-schedule', version: 1, protocol: 'kv', seed: null, cluster: shape, clients: 2, keys: 2, steps });

/** The actors a step names (none for waits, heals, system crashes). */
function named(step: KvStep): string[] {
  switch (step.op) {
    case 'crash':
    case 'restart':
    case 'pause':
    case 'resume':
      return [step.actor];
    case 'partition':
      return [...step.sides[0], ...step.sides[1]];
    case 'link':
      return [step.from, step.to];
    case 'replace':
      return [step.actor];
    default:
      return [];
  }
}

describe('kv chaos: systems and replacements', () => {
  it('places actor K of each role on system sK', () => {
    expect(kvSystems(shape)).toEqual({ s1: ['p1', 'a1', 'l1'], s2: ['p2', 'a2', 'l2'], s3: ['p3', 'a3'] });
    expect(kvSystems({ proposers: 1, acceptors: 2, learners: 1 })).toEqual({ s1: ['p1', 'a1', 'l1'], s2: ['a2'] });
  });

  it('generated scripts crash systems and replace acceptors, learners and proposers by fresh ids, and later faults name the current members only', () => {
    const steps = generateKvSteps(3, 30_000, shape);
    const replaces = steps.filter((s) => s.op === 'replace');
    expect(steps.some((s) => s.op === 'crash-system')).toBe(true);
    expect(replaces.some((s) => s.actor.startsWith('a'))).toBe(true);
    expect(replaces.some((s) => s.actor.startsWith('l'))).toBe(true);
    expect(replaces.some((s) => s.actor.startsWith('p'))).toBe(true);
    const members = new Set(['p1', 'p2', 'p3', 'a1', 'a2', 'a3', 'l1', 'l2']);
    const used = new Set(members);
    for (const step of steps) {
      for (const id of named(step)) if (id !== 'leader') expect(members.has(id), `${JSON.stringify(step)} names ${id}, not a member then`).toBe(true);
      if (step.op !== 'replace') continue;
      expect(used.has(step.by)).toBe(false);
      expect(step.by[0]).toBe(step.actor[0]);
      // A learner is replaced only while there are two or more (a new view keeps one of the old).
      if (step.actor.startsWith('l')) expect([...members].filter((id) => id.startsWith('l')).length).toBeGreaterThanOrEqual(2);
      members.delete(step.actor);
      members.add(step.by);
      used.add(step.by);
    }
    expect(validateSchedule(kvFile(steps))).toEqual(kvFile(steps));
  });

  it('leaves them out when asked, and keeps the rest of the script', () => {
    const steps = generateKvSteps(3, 30_000, shape, { reconfig: false, systemCrashes: false });
    expect(steps.some((s) => s.op === 'replace' || s.op === 'crash-system')).toBe(false);
    expect(steps.some((s) => s.op === 'crash')).toBe(true);
    expect(generateKvSteps(3, 30_000, shape, { reconfig: false }).some((s) => s.op === 'crash-system')).toBe(true);
    expect(generateKvSteps(3, 30_000, shape, { systemCrashes: false }).some((s) => s.op === 'replace')).toBe(true);
  });

  it('a schedule file may name an actor a replacement brought in, after it; a replacement must bring in a new id of the same role, and a system crash name a system', () => {
    const good = kvFile([{ op: 'replace', actor: 'a1', by: 'a7' }, { op: 'crash', actor: 'a7', how: 'exit' }, { op: 'replace', actor: 'a7', by: 'a8' }, { op: 'crash-system', system: 's3', how: 'terminate' }]);
    expect(validateSchedule(good)).toEqual(good);
    expect(() => validateSchedule(kvFile([{ op: 'crash', actor: 'a7', how: 'exit' }, { op: 'replace', actor: 'a1', by: 'a7' }]))).toThrow(/steps\.0\.actor: a7 is not an actor/);
    expect(() => validateSchedule(kvFile([{ op: 'replace', actor: 'a1', by: 'a3' }]))).toThrow(/steps\.0\.by: a3 is an actor already/);
    expect(() => validateSchedule(kvFile([{ op: 'replace', actor: 'a1', by: 'a4' }, { op: 'replace', actor: 'a2', by: 'a4' }]))).toThrow(/steps\.1\.by: a4 is an actor already/);
    expect(() => validateSchedule(kvFile([{ op: 'replace', actor: 'a1', by: 'l4' }]))).toThrow(/steps\.0\.by: l4 does not have the role of a1/);
    const proposer = kvFile([{ op: 'replace', actor: 'p1', by: 'p4' }, { op: 'pause', actor: 'p4' }]);
    expect(validateSchedule(proposer)).toEqual(proposer);
    expect(() => validateSchedule(kvFile([{ op: 'replace', actor: 'p1', by: 'a4' }]))).toThrow(/steps\.0\.by: a4 does not have the role of p1 \(a proposer is replaced by a proposer/);
    expect(() => validateSchedule(kvFile([{ op: 'replace', actor: 'x1', by: 'x4' }]))).toThrow(/steps\.0\.actor: a proposer, acceptor or learner id/);
    expect(() => validateSchedule(kvFile([{ op: 'crash-system', system: 's9', how: 'exit' }]))).toThrow(/steps\.0\.system: no system s9; the systems are s1, s2, s3/);
    expect(() => validateSchedule(kvFile([{ op: 'crash-system', system: 's1', how: 'after-persist' }]))).toThrow(/steps\.0\.how/);
  });
});
