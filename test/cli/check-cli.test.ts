// `synod check FILE`: the verdict, the failing key and prefix, and the exit
// status (0 linearizable, 1 not, 2 unknown or bad input) on hand-written
// histories, a generated one, a history the kv simulator wrote, and bad
// input. Needs dist/ (npm run build).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHistory, randomRegisterHistory } from '../../src/check/history.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const fixture = (name: string) => join(import.meta.dirname, '..', 'check', 'histories', name);
const synod = (args: string[], input?: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, ...(input !== undefined ? { input } : {}) });
const dir = mkdtempSync(join(tmpdir(), 'synod-check-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('synod check', () => {
  it('a linearizable history: exit 0', () => {
    const r = synod(['check', fixture('cas-register.jsonl')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^linearizable \(7 operation\(s\) on 2 key\(s\), \d+ search steps\)\n$/);
  });

  it('control: a cas that wrongly answered false is caught: exit 1, with the key, the prefix and the stuck cas', () => {
    const r = synod(['check', fixture('cas-false.jsonl')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('NOT LINEARIZABLE: key "y"');
    expect(r.stdout).toContain('longest linearizable prefix: 1 operation(s):\n  process 0 write "a" (events 4-5)\n');
    expect(r.stdout).toContain('register after it: "a"\n');
    expect(r.stdout).toContain('  process 1 cas "a" -> "b" answered false (events 6-7)\n');
  });

  it('--json: one object with the failing key, prefix, state and stuck operations', () => {
    const r = synod(['check', fixture('stale-read.jsonl'), '--json']);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; status: string; key: string; state: unknown; prefix: { description: string }[]; stuck: { description: string }[] };
    expect(report).toMatchObject({ ok: false, status: 'not-linearizable', key: 'y', state: 2 });
    expect(report.prefix.map((op) => op.description)).toEqual(['process 1 write 1 (events 2-3)', 'process 1 read -> 1 (events 5-7)', 'process 0 write 2 (events 4-6)']);
    expect(report.stuck.map((op) => op.description)).toEqual(['process 1 read -> 1 (events 8-9)']);
  });

  it('reads standard input with -, and a generated history (with info operations) is linearizable', () => {
    const h = randomRegisterHistory({ seed: 5, ops: 400, clients: 5, keys: 3, concurrency: 4, infoRate: 0.05 });
    const r = synod(['check', '-', '--json'], formatHistory(h));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, status: 'linearizable', keys: 3 });
  });

  it('a limit reached answers unknown: exit 2', () => {
    const file = join(dir, 'hard.jsonl');
    writeFileSync(file, formatHistory(randomRegisterHistory({ seed: 7, ops: 500, clients: 5, keys: 1, concurrency: 5 })));
    const r = synod(['check', file, '--max-configurations', '50']);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('UNKNOWN');
    expect(r.stdout).toContain('the cache limit of 50 configurations was reached');
    const steps = synod(['check', file, '--max-steps', '10', '--json']);
    expect(steps.status).toBe(2);
    expect(JSON.parse(steps.stdout)).toMatchObject({ ok: false, status: 'unknown', key: 0 });
  });

  it('bad input: exit 2 with the line at fault, or the file that cannot be read', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"process":0,"type":"invoke","f":"read","key":"x","value":null}\n{"process":0,"type":"ok","f":"read","key":"x"}\n');
    const r = synod(['check', file]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`synod check: ${file}: history line 2: missing "value" (use null when there is none): {"process":0,"type":"ok","f":"read","key":"x"}\n`);
    const missing = synod(['check', join(dir, 'nope.jsonl')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`synod check: cannot read ${join(dir, 'nope.jsonl')}: no such file\n`);
    const unpaired = synod(['check', '-', '--json'], '{"process":0,"type":"ok","f":"read","key":"x","value":1}\n');
    expect(unpaired.status).toBe(2);
    expect(JSON.parse(unpaired.stdout)).toMatchObject({ ok: false, status: 'bad-input' });
    expect(unpaired.stderr).toContain('completion without a pending invocation');
    expect(synod(['check']).status).toBe(2);
  });

  it('checks the history the kv simulator writes', () => {
    const file = join(dir, 'kv.jsonl');
    const sim = synod(['kv-sim', '--seed', '3', '--ops', '200', '--clients', '4', '--history', file, '--json']);
    expect(sim.status).toBe(0);
    const r = synod(['check', file, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, status: 'linearizable', operations: 200 });
  });
});
