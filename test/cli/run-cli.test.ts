// `synod run`, the main job, as a user runs it: a real cluster on worker
// threads with LMDB, crashes in the middle, and the verdict.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface RunReport {
  ok: boolean;
  decided: Record<string, unknown>;
  crashes: Array<{ id: string; how: string }>;
  restarts: Array<{ id: string; recoveryMs: number }>;
  actors: Record<string, { role: string; threadId: number }>;
  mainThreadId: number;
  violations: unknown[];
}

describe('synod run', () => {
  it('decides one value on every learner across an acceptor and a proposer crash; every actor on its own thread', () => {
    const r = synod('run', '--json');
    expect(r.status, `stderr: ${r.stderr}\nstdout: ${r.stdout}`).toBe(0);
    const o = JSON.parse(r.stdout) as RunReport;
    expect(o.ok).toBe(true);
    expect(o.violations).toEqual([]);
    expect(Object.keys(o.decided)).toEqual(['l1', 'l2']);
    expect(new Set(Object.values(o.decided)).size).toBe(1);
    expect(o.crashes.map((c) => c.id).sort()).toEqual(['a1', 'p2']);
    expect(o.restarts.map((c) => c.id).sort()).toEqual(['a1', 'p2']);
    const threads = Object.values(o.actors).map((a) => a.threadId);
    expect(threads).toHaveLength(10);
    expect(new Set(threads).size).toBe(10);
    expect(threads).not.toContain(o.mainThreadId);
  });

  it('runs on the ring transport and writes a trace with the crashes, restarts and decisions in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-run-trace-'));
    dirs.push(dir);
    const file = join(dir, 'run.json');
    const r = synod('run', '--json', '--transport', 'ring', '--trace', file);
    expect(r.status, `stderr: ${r.stderr}\nstdout: ${r.stdout}`).toBe(0);
    expect((JSON.parse(r.stdout) as RunReport).ok).toBe(true);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { format: string; source: { transport: string }; events: Array<{ actor: string; kind: string }> };
    expect(trace.format).toBe('synod-trace');
    expect(trace.source.transport).toBe('ring');
    const kinds = new Set(trace.events.map((e) => e.kind));
    for (const k of ['send', 'receive', 'persist', 'durable', 'crash', 'restart', 'decide']) expect(kinds).toContain(k);
    expect(trace.events.filter((e) => e.kind === 'crash').map((e) => e.actor).sort()).toEqual(['a1', 'p2']);
  });

  it('refuses an unknown transport and a trace file of unknown format, with exit code 2', () => {
    const bad = synod('run', '--transport', 'pigeon');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('port, hub, ring');
    const file = synod('run', '--trace', 'out.txt');
    expect(file.status).toBe(2);
    expect(file.stderr).toContain('.html');
  });

  it('a second run on the same data directory recovers and reports the same decided value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-run-test-'));
    dirs.push(dir);
    const first = JSON.parse(synod('run', '--json', '--data-dir', dir).stdout) as RunReport;
    const second = synod('run', '--json', '--data-dir', dir, '--no-faults');
    expect(second.status).toBe(0);
    const again = JSON.parse(second.stdout) as RunReport;
    expect(again.decided).toEqual(first.decided);
  });

  it('prints a readable timeline and the verdict', () => {
    const r = synod('run', '--proposers', '2', '--acceptors', '3', '--learners', '1');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/p1 proposes "p1:red"/);
    expect(r.stdout).toMatch(/a1 crashed \(after-persist\)/);
    expect(r.stdout).toMatch(/a1 restarted on thread \d+, serving again [\d.]+ ms after it went down/);
    expect(r.stdout).toMatch(/l1 decided/);
    expect(r.stdout).toMatch(/safety: OK/);
  });

  it.each([
    [['run', '--acceptors', '0'], /from 1/],
    [['run', '--crash-how', 'gently'], /one of exception, exit, terminate, after-receive, after-persist/],
  ])('bad arguments %j exit 2', (args, message) => {
    const r = synod(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
