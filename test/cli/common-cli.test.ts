// What every subcommand shares, as a user meets it: a reader that goes away
// (`synod ... | head`), progress on stderr without a terminal, and output
// files in a directory that does not exist.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'synod-common-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the CLI with stdout on a pipe whose reader closes after the first
 * chunk, as `| head -1` does. The commands chosen print far more than a pipe
 * holds (64 KiB), so the CLI must meet the closed pipe: no timing decides it.
 */
function closedEarly(args: string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; firstChunk: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let firstChunk = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', (d: Buffer) => {
      firstChunk = d.toString();
      child.stdout.destroy();
    });
    child.on('close', (status, signal) => resolve({ status, signal, stderr, firstChunk }));
  });
}

describe('a reader that goes away', () => {
  // The handler is one for every subcommand (main.ts); this one prints half a megabyte.
  it('synod sim --trace | head: exits 0 quietly, no EPIPE stack', async () => {
    const r = await closedEarly(['sim', '--seed', '1', '--trace', '--steps', '5000']);
    expect(r.firstChunk.length).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
  });
});

describe('progress without a terminal', () => {
  it('a sweep prints a start line on stderr, leaving stdout to the JSON report; --no-progress prints nothing', () => {
    const r = synod('sim', '--seeds', '1..3', '--json');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^synod sim: 3 seeds to go; progress every 5 s on stderr\n/);
    expect(r.stderr).not.toContain('\x1b[');
    expect(JSON.parse(r.stdout)).toMatchObject({ runs: 3 });
    const quiet = synod('sim', '--seeds', '1..3', '--json', '--no-progress');
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('kv-sim sweeps report progress the same way', () => {
    const r = synod('kv-sim', '--seeds', '1..2', '--ops', '20', '--clients', '2', '--json');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^synod kv-sim: 2 seeds to go; progress every 5 s on stderr\n/);
    expect(JSON.parse(r.stdout)).toMatchObject({ runs: 2 });
  });
});

describe('output files', () => {
  const missing = join(dir, 'no-such-dir');
  it.each([
    [['trace', '--out', join(missing, 't.json')]],
    [['kv-sim', '--history', join(missing, 'h.jsonl')]],
    [['sim', '--save-schedule', join(missing, 's.json')]],
    [['run', '--trace', join(missing, 'r.json')]],
    [['kv', '--history', join(missing, 'h.jsonl')]],
  ])('%j: a missing directory is refused before any work, in one line (exit 2), and not created', (args) => {
    const r = synod(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`the directory ${missing} does not exist`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(existsSync(missing)).toBe(false);
  });

  it('a directory given where a file is wanted is refused (exit 2)', () => {
    const r = synod('trace', '--out', dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('it is a directory, not a file');
  });
});
