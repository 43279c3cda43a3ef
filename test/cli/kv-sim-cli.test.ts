// `synod kv-sim` as a user runs it: the verdicts, the history file and the exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLinearizable } from '../../src/check/linearizability.js';
import { parseHistory } from '../../src/check/history.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'synod-kv-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
