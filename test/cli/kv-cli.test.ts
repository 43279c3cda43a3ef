// `synod kv` on a real cluster: the leader's worker is killed under load, the
// log goes on under a new leader, and the history checks linearizable.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHistory } from '../../src/check/history.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'synod-kv-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('synod kv', () => {
  it('kills the leader under load; a new leader takes over; the history is linearizable', () => {
    const history = join(dir, 'kv.jsonl');
    const r = synod('kv', '--ops', '1500', '--clients', '8', '--crash-leader', '--history', history, '--json');
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout) as { ok: boolean; leaderCrashes: string[]; leaderChanges: number; violations: unknown[]; linearizability: { status: string }; opsPerSec: number };
    expect(o.ok).toBe(true);
    expect(o.leaderCrashes).toHaveLength(1);
    expect(o.leaderChanges).toBeGreaterThanOrEqual(1);
    expect(o.violations).toEqual([]);
    expect(o.linearizability.status).toBe('linearizable');
    const events = parseHistory(readFileSync(history, 'utf8'));
    expect(events.filter((e) => e.type === 'invoke')).toHaveLength(1500);
    expect(events.filter((e) => e.type === 'ok' || e.type === 'fail')).toHaveLength(1500);
  });

  it('--transport hub carries the same workload; the report names the transport and the library\'s default batch', () => {
    const r = synod('kv', '--ops', '200', '--clients', '4', '--transport', 'hub', '--json');
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { ok: boolean; transport: string; batch: number };
    expect(o).toMatchObject({ ok: true, transport: 'hub', batch: 256 });
  });

  it('--replace a2 replaces an acceptor under load: the new view, the write unavailability, a linearizable history', () => {
    const r = synod('kv', '--ops', '900', '--clients', '6', '--replace', 'a2', '--json');
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { ok: boolean; view: unknown; reconfiguration: { removed: string; added: string; view: unknown; ms: number; longestWriteGapMs: number } };
    expect(o.ok).toBe(true);
    expect(o.view).toMatchObject({ epoch: 1, acceptors: ['a1', 'a3', 'a4'], learners: ['l1', 'l2'] });
    expect(o.reconfiguration).toMatchObject({ removed: 'a2', added: 'a4', view: o.view });
    expect(o.reconfiguration.ms).toBeGreaterThan(0);
    const text = synod('kv', '--ops', '300', '--clients', '3', '--replace', 'a1');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^view 1 \(from slot \d+\): proposers p1, p2, p3; acceptors a2, a3, a4; learners l1, l2$/m);
    expect(text.stdout).toMatch(/^replacement: a1 -> a4 in [\d.]+ ms; write unavailability: the longest gap between acknowledged writes during it was /m);
    for (const bad of ['p1', 'a4', 'x']) {
      const b = synod('kv', '--replace', bad);
      expect(b.status).toBe(2);
      expect(b.stderr).toMatch(/^synod kv: --replace/);
    }
  });

  it('--help names the transports and the defaults it shares with the library', () => {
    const r = synod('kv', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--transport <kind>.*port, hub, ring/);
    expect(r.stdout).toMatch(/--batch <n>[^]*default: 256/);
  });

  it('an unusable --data-dir is one line and exit 2', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = synod('kv', '--data-dir', file, '--ops', '10');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`synod kv: --data-dir ${file} is not a directory\n`);
    expect(r.stdout).toBe('');
  });

  it('a --data-dir made with other counts, or reconfigured, is one line and exit 2', () => {
    const data = join(dir, 'data');
    expect(synod('kv', '--data-dir', data, '--ops', '300', '--clients', '3', '--learners', '1', '--replace', 'a2').status).toBe(0);
    const other = synod('kv', '--data-dir', data, '--ops', '10', '--learners', '2');
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/^synod kv: data directory .* holds a cluster created with 3 proposers, 3 acceptors and 1 learners, not 3 proposers, 3 acceptors and 2 learners; reopen it with the counts it was created with \(its members now are those of view 1: acceptors a1, a3, a4; learners l1\)\n$/);
    const reconfigured = synod('kv', '--data-dir', data, '--ops', '10', '--learners', '1');
    expect(reconfigured.status).toBe(2);
    expect(reconfigured.stderr).toMatch(/^synod kv: data directory .* was reconfigured \(view 1\).*give it another --data-dir\)\n$/);
  });

  it('bad arguments exit 2', () => {
    const r = synod('kv', '--storage', 'paper');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/one of lmdb, memory/);
    const t = synod('kv', '--transport', 'pigeon');
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/one of port, hub, ring/);
  });
});
