// `synod run`, the main job, as a user runs it: a real cluster on worker
// threads with LMDB, crashes in the middle, and the verdict.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('refuses an unknown transport and a trace file of unknown format, naming the flag that fixes it, with exit code 2', () => {
    const bad = synod('run', '--transport', 'pigeon');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('port, hub, ring');
    const file = synod('run', '--trace', 'out.txt');
    expect(file.status).toBe(2);
    expect(file.stderr).toContain('.html');
    expect(file.stderr).toContain('--trace-format');
    const alone = synod('run', '--trace-format', 'json');
    expect(alone.status).toBe(2);
    expect(alone.stderr).toMatch(/--trace-format goes with --trace/);
  });

  it('--json prints one JSON object whether or not the cluster decides within --timeout; its exit status follows ok, and a reason says why not', () => {
    // Whether 100 ms is enough depends on the machine, so both outcomes are accepted; what may never happen is a stack trace instead of the report.
    const dir = mkdtempSync(join(tmpdir(), 'synod-run-timeout-'));
    dirs.push(dir);
    const file = join(dir, 'run.txt');
    const r = synod('run', '--timeout', '100', '--json', '--trace', file, '--trace-format', 'json');
    const o = JSON.parse(r.stdout) as RunReport & { reason: string | null; answers: Record<string, unknown> };
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(o.ok ? 0 : 1);
    if (o.ok) expect(o.reason).toBe(null);
    else expect(o.reason).toMatch(/within 100 ms/);
    expect(Object.keys(o.answers)).toEqual(['p1', 'p2', 'p3']);
    // --trace-format wrote JSON into a .txt file.
    expect((JSON.parse(readFileSync(file, 'utf8')) as { format: string }).format).toBe('synod-trace');
  });

  it('an unusable --data-dir (a file, or a path through a file) is one line on stderr and exit 2, before anything starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-run-baddir-'));
    dirs.push(dir);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    for (const bad of [file, join(file, 'below')]) {
      for (const json of [[], ['--json']]) {
        const r = synod('run', '--data-dir', bad, ...json);
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/^synod run: --data-dir .* (is not a directory|cannot be used: a part of the path is not a directory)\n$/);
        expect(r.stdout).toBe('');
      }
    }
  });

  it('a cluster that cannot start (two of three acceptors\' stores are files) is one line in text mode and a JSON report with --json; exit 1, no library advice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-run-nostart-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a1'), 'in the way of the acceptor a1');
    writeFileSync(join(dir, 'a2'), 'in the way of the acceptor a2');
    const text = synod('run', '--data-dir', dir, '--learners', '2', '--acceptors', '3', '--proposers', '1');
    expect(text.status).toBe(1);
    const errLines = text.stderr.trim().split('\n');
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toMatch(/^synod: the cluster did not start: .*a1/);
    expect(text.stderr).not.toContain('cluster.restart');
    const json = synod('run', '--data-dir', dir, '--learners', '2', '--acceptors', '3', '--proposers', '1', '--json');
    expect(json.status).toBe(1);
    const o = JSON.parse(json.stdout) as { ok: boolean; reason: string };
    expect(o.ok).toBe(false);
    expect(o.reason).toMatch(/^the cluster did not start: .*a1/);
    expect(o.reason).not.toContain('cluster.restart');
  });

  it('a cluster with one actor that cannot start (a learner\'s store is a file) starts without it, names it, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-run-degraded-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'l2'), 'in the way of the learner l2');
    const json = synod('run', '--data-dir', dir, '--learners', '2', '--acceptors', '3', '--proposers', '1', '--json');
    expect(json.status).toBe(1);
    const o = JSON.parse(json.stdout) as { ok: boolean; reason: string };
    expect(o.ok).toBe(false);
    expect(o.reason).toMatch(/l2 failed to start/);
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
