// The `synod sim` command as a user runs it: the built CLI in a child process.
// (npm test builds before running vitest.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
/** Temporary directories of this file, removed after it: a test run leaves nothing behind. */
const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-sim-cli-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
/** A printed command line as arguments (the commands the CLI prints quote nothing here: temp paths have no spaces). */
const argsOf = (command: string) => command.replace(/^synod /, '').split(' ');

interface Shrunk {
  seed: number;
  originalFaults: number;
  faults: number;
  steps: number;
  runs: number;
  minimal: boolean;
  schedule: { kind: string; step: number }[];
  file: string;
  replay: string;
}

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
    const r = synod('sim', '--seeds', '1..300', '--bug', 'ignore-accepted', '--json', '--shrink-out', tmp());
    expect(r.status).toBe(1);
    const o = JSON.parse(r.stdout) as { runs: number; violatingRuns: number; firstViolation: { seed: number; replay: string } };
    expect(o.runs).toBe(300);
    expect(o.violatingRuns).toBeGreaterThan(0);
    const replay = argsOf(o.firstViolation.replay);
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
    for (const flag of ['--seed', '--seeds', '--steps', '--proposers', '--acceptors', '--learners', '--drop', '--dup', '--delay', '--crash', '--partition', '--stagger', '--bug', '--json', '--trace', '--workers', '--no-progress', '--schedule', '--save-schedule', '--shrink', '--no-shrink', '--shrink-runs', '--shrink-out']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain(join(tmpdir(), 'synod-shrink')); // where shrunk schedules go by default
  });

  it('a failing sweep prints the replay command, the shrunk schedule one fault per line, and a command that replays it', () => {
    const dir = tmp();
    const r = synod('sim', '--seeds', '1..40', '--bug', 'amnesia', '--acceptors', '3', '--drop', '0.1', '--shrink-out', dir, '--no-progress');
    expect(r.status).toBe(1);
    const line = (prefix: string) => r.stdout.split('\n').find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? '';
    // The original seed's command names exactly the flags that differ from their defaults.
    const seed = Number(/first violation at seed (\d+)/.exec(r.stdout)?.[1]);
    expect(line('replay it: ')).toBe(`synod sim --seed ${seed} --acceptors 3 --drop 0.1 --bug amnesia`);
    const shown = r.stdout.split('shrunk schedule (')[1]?.split('violations of the shrunk run:')[0]?.split('\n').slice(1, -1) ?? [];
    expect(shown.length).toBeGreaterThan(0);
    for (const f of shown) expect(f).toMatch(/^ {2}step +\d+ {2}(crash|partition|drop|dup|delay) /);
    const file = join(dir, `seed-${seed}.json`);
    expect(line('schedule written to ')).toBe(file);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { format: string; seed: number; faults: unknown[] };
    expect(saved).toMatchObject({ format: 'synod-fault-schedule', version: 1, seed });
    expect(saved.faults).toHaveLength(shown.length);
    const replay = line('replay the shrunk run: ');
    expect(replay).toMatch(new RegExp(`^synod sim --seed ${seed} --acceptors 3 --bug amnesia --steps \\d+ --schedule ${file}$`));
    // The original seed and the shrunk run both replay their violations.
    expect(synod(...argsOf(line('replay it: '))).status).toBe(1);
    const shrunk = synod(...argsOf(replay), '--json');
    expect(shrunk.status).toBe(1);
    const o = JSON.parse(shrunk.stdout) as { violations: unknown[]; schedule: unknown[] };
    expect(o.violations.length).toBeGreaterThan(0);
    expect(o.schedule).toEqual(saved.faults);
  });

  it('--json of a failing sweep carries the replay command and the shrunk schedule; --no-shrink skips shrinking', () => {
    const dir = tmp();
    const r = synod('sim', '--seeds', '1..40', '--bug', 'reuse-ballot', '--json', '--shrink-out', dir, '--workers', '2');
    expect(r.status).toBe(1);
    const o = JSON.parse(r.stdout) as { firstViolation: { seed: number; replay: string; shrunk: Shrunk }; failingSeeds: { seed: number; replay: string }[]; workers: number };
    expect(o.workers).toBe(2);
    const { seed, replay, shrunk } = o.firstViolation;
    expect(replay).toBe(`synod sim --seed ${seed} --bug reuse-ballot`);
    expect(o.failingSeeds[0]).toEqual({ seed, replay });
    expect(shrunk.faults).toBe(shrunk.schedule.length);
    expect(shrunk.faults).toBeLessThanOrEqual(shrunk.originalFaults);
    expect(shrunk.runs).toBeGreaterThan(0);
    expect(shrunk.file).toBe(join(dir, `seed-${seed}.json`));
    expect((JSON.parse(readFileSync(shrunk.file, 'utf8')) as { faults: unknown[] }).faults).toEqual(shrunk.schedule);
    expect(shrunk.replay).toBe(`synod sim --seed ${seed} --bug reuse-ballot --steps ${shrunk.steps} --schedule ${shrunk.file}`);
    // The same sweep on one worker finds the same seed and shrinks it the same way.
    const one = JSON.parse(synod('sim', '--seeds', '1..40', '--bug', 'reuse-ballot', '--json', '--shrink-out', dir).stdout) as typeof o;
    expect(one.firstViolation.shrunk.schedule).toEqual(shrunk.schedule);

    const skipped = synod('sim', '--seeds', '1..40', '--bug', 'reuse-ballot', '--json', '--no-shrink', '--shrink-out', tmp());
    expect(skipped.status).toBe(1);
    expect((JSON.parse(skipped.stdout) as { firstViolation: { shrunk: unknown } }).firstViolation.shrunk).toBeNull();
  });

  it('--save-schedule records a run and --schedule replays it exactly', () => {
    const file = join(tmp(), 'run.json');
    const a = synod('sim', '--seed', '21', '--drop', '0.2', '--crash', '0.02', '--partition', '0.01', '--save-schedule', file, '--json');
    expect(a.status).toBe(0);
    const b = synod('sim', '--seed', '21', '--schedule', file, '--json');
    expect(b.status).toBe(0);
    const ra = JSON.parse(a.stdout) as { schedule: unknown[] };
    expect(ra.schedule.length).toBeGreaterThan(5);
    expect(JSON.parse(b.stdout)).toEqual(ra);
    // The file's seed is the default seed of a replay.
    expect(JSON.parse(synod('sim', '--schedule', file, '--json').stdout)).toEqual(ra);
  });

  it('a single violating run with --shrink shrinks it', () => {
    const r = synod('sim', '--seed', '3', '--bug', 'amnesia', '--shrink', '--shrink-out', tmp());
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^shrunk seed 3: \d+ faults, \d+ steps -> \d+ fault\(s\), \d+ steps \(\d+ runs; 1-minimal/m);
    expect(r.stdout).toMatch(/^replay the shrunk run: synod sim --seed 3 --bug amnesia --steps \d+ --schedule /m);
  });

  it.each([
    [['sim', '--seeds', '1..5', '--schedule', 'x.json'], /not a sweep/],
    [['sim', '--seed', '1', '--schedule', '/nonexistent/synod.json'], /--schedule \/nonexistent\/synod.json: ENOENT/],
    [['sim', '--seed', '1', '--schedule', 'BAD'], /faults\[0\]\.kind: expected crash, partition, reconfig, drop, dup or delay/],
    [['sim', '--seed', '1', '--schedule', 'UNKNOWN'], /names a7, which is not an actor/],
    [['sim', '--seed', '1', '--schedule', 'RECONFIG'], /only the replicated log does/],
  ])('bad schedules %j exit 2 with a message', (args, message) => {
    const dir = tmp();
    writeFileSync(join(dir, 'reconfig.json'), JSON.stringify({ faults: [{ kind: 'reconfig', step: 1, acceptors: ['a1'], learners: ['l1'] }] }));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ faults: [{ kind: 'explode', step: 1 }] }));
    writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ faults: [{ kind: 'crash', step: 1, actor: 'a7', downFor: 5 }] }));
    const r = synod(...args.map((a) => (a === 'BAD' ? join(dir, 'bad.json') : a === 'UNKNOWN' ? join(dir, 'unknown.json') : a === 'RECONFIG' ? join(dir, 'reconfig.json') : a)));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
