// The `synod sim` command as a user runs it: the built CLI in a child process.
// (npm test builds before running vitest.)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('synod sim', () => {
  it('one run prints the seed first, a timeline, the decision and the verdict; exit 0', () => {
    const r = synod('sim', '--seed', '5');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('seed=5');
    expect(r.stdout).toMatch(/timeline:/);
    expect(r.stdout).toMatch(/decided: l1="p\d:\d+" l2="p\d:\d+"/);
    expect(r.stdout).toMatch(/safety: OK/);
  });

  it('--json prints exactly one object with the documented fields, and replays identically', () => {
    const a = synod('sim', '--seed', '11', '--json');
    const b = synod('sim', '--seed', '11', '--json');
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.trim().split('\n')).toHaveLength(1);
    const o = JSON.parse(a.stdout) as Record<string, unknown>;
    expect(Object.keys(o).slice(0, 5)).toEqual(['seed', 'steps', 'decided', 'violations', 'stats']);
    expect(o.seed).toBe(11);
  });

  it('a sweep with a control bug exits 1 and names a seed that replays the violation', () => {
    const r = synod('sim', '--seeds', '1..300', '--bug', 'ignore-accepted', '--json');
    expect(r.status).toBe(1);
    const o = JSON.parse(r.stdout) as { runs: number; violatingRuns: number; firstViolation: { seed: number; replay: string } };
    expect(o.runs).toBe(300);
    expect(o.violatingRuns).toBeGreaterThan(0);
    const replay = o.firstViolation.replay.replace(/^synod /, '').split(' ');
    const again = synod(...replay, '--json');
    expect(again.status).toBe(1);
    expect((JSON.parse(again.stdout) as { violations: unknown[] }).violations.length).toBeGreaterThan(0);
  });

  it('a clean sweep summarises runs, decided share and rates; exit 0', () => {
    const r = synod('sim', '--seeds', '1..50', '--json');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(o).toMatchObject({ runs: 50, violatingRuns: 0, firstViolation: null });
    expect(o.decidedRuns).toBeTypeOf('number');
    expect(o.seedsPerSec).toBeGreaterThan(0);
  });

  it.each([
    [['sim', '--drop', '1.5'], /probability/],
    [['sim', '--seeds', '9..3'], /LAST must be >= FIRST/],
    [['sim', '--bug', 'typo'], /one of amnesia, ignore-accepted, reuse-ballot/],
    [['sim', '--steps', '0'], /from 1/],
    [['sim', '--seed', '1', '--seeds', '1..2'], /not both/],
    [['sim', '--nope'], /unknown option/],
  ])('bad arguments %j exit 2 with a message', (args, message) => {
    const r = synod(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('--help documents every flag', () => {
    const r = synod('sim', '--help');
    expect(r.status).toBe(0);
    for (const flag of ['--seed', '--seeds', '--steps', '--proposers', '--acceptors', '--learners', '--drop', '--dup', '--delay', '--crash', '--partition', '--stagger', '--bug', '--json', '--trace']) {
      expect(r.stdout).toContain(flag);
    }
  });
});
