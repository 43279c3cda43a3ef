// `synod kv-sim` as a user runs it: the verdicts, the history file and the exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLinearizable } from '../../src/check/linearizability.js';
import { parseHistory } from '../../src/check/history.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'synod-kv-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A command line printed by kv-sim as arguments (its paths have no spaces). */
const argsOf = (line: string) => line.replace(/^synod /, '').split(' ');
/** The small stale-read workload the shrinking and sweep tests use. */
const staleRead = ['--ops', '60', '--clients', '3', '--crash', '0.002', '--partition', '0.002', '--bug', 'stale-read'];

describe('synod kv-sim', () => {
  it('a run under leader crashes is linearizable; the JSON report has throughput, latency, leader changes and the verdict', () => {
    const history = join(dir, 'h.jsonl');
    const r = synod('kv-sim', '--seed', '2', '--clients', '10', '--ops', '1000', '--crash-leader', '0.001', '--history', history, '--json');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(o).toMatchObject({ seed: 2, ok: true, ops: 1000, completed: 1000, violations: [], linearizability: { status: 'linearizable' } });
    expect(o.opsPerSec).toBeGreaterThan(0);
    expect(o.latencyP99Ms).toBeGreaterThanOrEqual(o.latencyP50Ms as number);
    expect(o.leaderChanges).toBeGreaterThanOrEqual(1);
    // The history file is Jepsen-format JSON lines that our checker (and Knossos/Porcupine) can read.
    const events = parseHistory(readFileSync(history, 'utf8'));
    expect(events.filter((e) => e.type === 'invoke')).toHaveLength(1000);
    expect(checkLinearizable(events).ok).toBe(true);
  });

  it('the stale-read control is reported non-linearizable: exit 1, and the sweep names a replayable seed', () => {
    const r = synod('kv-sim', '--seeds', '1..3', '--ops', '1000', '--bug', 'stale-read', '--json');
    expect(r.status).toBe(1);
    const o = JSON.parse(r.stdout) as { nonLinearizableRuns: number; firstFailure: { seed: number; replay: string } };
    expect(o.nonLinearizableRuns).toBe(3);
    const again = synod(...o.firstFailure.replay.replace(/^synod /, '').split(' '), '--json');
    expect(again.status).toBe(1);
    expect((JSON.parse(again.stdout) as { linearizability: { status: string } }).linearizability.status).toBe('not-linearizable');
  });

  it('a failing sweep shrinks the first failure: the shrunk schedule is no longer than the original and still fails when replayed', () => {
    const out = join(dir, 'shrunk');
    const r = synod('kv-sim', '--seeds', '1..20', ...staleRead, '--shrink-out', out, '--no-progress');
    expect(r.status).toBe(1);
    const line = (prefix: string) => r.stdout.split('\n').find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? '';
    const seed = Number(/^first failure at seed (\d+)/m.exec(r.stdout)?.[1]);
    expect(line('replay it: ')).toMatch(new RegExp(`^synod kv-sim --seed ${seed} .*--bug stale-read$`));
    const sizes = new RegExp(`^shrunk seed ${seed}: (\\d+) faults, (\\d+) steps -> (\\d+) fault\\(s\\), (\\d+) steps \\(\\d+ runs; 1-minimal`, 'm').exec(r.stdout);
    expect(sizes).not.toBeNull();
    const [original, originalSteps, shrunk, steps] = (sizes as RegExpExecArray).slice(1).map(Number) as [number, number, number, number];
    expect(shrunk).toBeLessThanOrEqual(original);
    expect(steps).toBeLessThanOrEqual(originalSteps);
    const file = line('schedule written to ');
    expect(file).toBe(join(out, `seed-${seed}.json`));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { format: string; seed: number; steps: number; faults: unknown[] };
    expect(saved).toMatchObject({ format: 'synod-fault-schedule', seed, steps });
    expect(saved.faults).toHaveLength(shrunk);
    // The original seed, and the shrunk schedule on its own, both replay the failure.
    const replay = line('replay the shrunk run: ');
    expect(replay).toBe(`synod kv-sim --seed ${seed} --clients 3 --ops 60 --keys 5 --proposers 3 --acceptors 3 --learners 2 --batch 64 --window 32 --compact-every 1000 --bug stale-read --steps ${steps} --schedule ${file}`);
    expect(synod(...argsOf(line('replay it: ')), '--json').status).toBe(1);
    const again = synod(...argsOf(replay), '--json');
    expect(again.status).toBe(1);
    const o = JSON.parse(again.stdout) as { linearizability: { status: string }; schedule: unknown[] };
    expect(o.linearizability.status).toBe('not-linearizable');
    expect(o.schedule).toEqual(saved.faults);
  });

  it('a single failing run with --shrink shrinks it; --no-shrink skips shrinking in a sweep', () => {
    const sweep = JSON.parse(synod('kv-sim', '--seeds', '1..20', ...staleRead, '--json', '--no-shrink').stdout) as { firstFailure: { seed: number; shrunk?: unknown } };
    expect(sweep.firstFailure.shrunk).toBeUndefined();
    const seed = String(sweep.firstFailure.seed);
    const r = synod('kv-sim', '--seed', seed, ...staleRead, '--shrink', '--shrink-out', join(dir, 'one'), '--json');
    expect(r.status).toBe(1);
    const o = JSON.parse(r.stdout) as { schedule: unknown[]; shrunk: { faults: number; originalFaults: number; minimal: boolean; replay: string; linearizability: { status: string } } };
    expect(o.shrunk.originalFaults).toBe(o.schedule.length);
    expect(o.shrunk.faults).toBeLessThanOrEqual(o.shrunk.originalFaults);
    expect(o.shrunk.linearizability.status).toBe('not-linearizable');
    expect(synod(...argsOf(o.shrunk.replay)).status).toBe(1);
  });

  it('--workers 2 sweeps to the same summary as 1 worker', () => {
    const sweep = (workers: string) => {
      const r = synod('kv-sim', '--seeds', '1..16', ...staleRead, '--workers', workers, '--json', '--no-shrink');
      expect(r.status).toBe(1);
      const { elapsedMs: _e, seedsPerSec: _s, workers: w, chunk: _c, ...facts } = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(w).toBe(Number(workers));
      return facts;
    };
    const one = sweep('1');
    expect(one.nonLinearizableRuns).toBeGreaterThan(1);
    expect(sweep('2')).toEqual(one);
  });

  it('--save-schedule records a run and --schedule replays it exactly', () => {
    const file = join(dir, 'kv-schedule.json');
    const a = synod('kv-sim', '--seed', '8', '--ops', '200', '--clients', '4', '--crash', '0.01', '--partition', '0.005', '--crash-leader', '0.005', '--save-schedule', file, '--json');
    expect(a.status).toBe(0);
    const ra = JSON.parse(a.stdout) as { schedule: { kind: string }[] };
    expect(ra.schedule.length).toBeGreaterThan(5);
    expect(ra.schedule.some((f) => f.kind === 'crash')).toBe(true);
    const b = synod('kv-sim', '--seed', '8', '--ops', '200', '--clients', '4', '--schedule', file, '--json');
    expect(JSON.parse(b.stdout)).toEqual(ra);
    // The file's seed is the default seed of a replay.
    expect(JSON.parse(synod('kv-sim', '--ops', '200', '--clients', '4', '--schedule', file, '--json').stdout)).toEqual(ra);
  });

  it.each([
    [['kv-sim', '--seeds', '1..5', '--schedule', 'x.json'], /not a sweep/],
    [['kv-sim', '--seed', '1', '--schedule', 'DECIDE'], /faults\[0\]\.type: expected one of .*commit/],
    [['kv-sim', '--seed', '1', '--schedule', 'UNKNOWN'], /names c99, which is neither an actor nor a client/],
  ])('bad schedules %j exit 2 with a message', (args, message) => {
    writeFileSync(join(dir, 'decide.json'), JSON.stringify({ faults: [{ kind: 'drop', step: 1, from: 'p1', to: 'l1', type: 'decide', nth: 0 }] }));
    writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ faults: [{ kind: 'drop', step: 1, from: 'c99', to: 'p1', type: 'request', nth: 0 }] }));
    const r = synod(...args.map((a) => (a === 'DECIDE' ? join(dir, 'decide.json') : a === 'UNKNOWN' ? join(dir, 'unknown.json') : a)));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    [['kv-sim', '--clients', '0'], /from 1/],
    [['kv-sim', '--clients', '20', '--ops', '10'], /must not exceed/],
    [['kv-sim', '--bug', 'stale'], /one of stale-read/],
    [['kv-sim', '--crash-leader', '2'], /probability/],
  ])('bad arguments %j exit 2', (args, message) => {
    const r = synod(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
