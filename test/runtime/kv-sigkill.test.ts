/**
 * SIGKILL of a loaded key-value store, again and again. A child process
 * (fixtures/kv-sigkill-child.mjs, on the built dist/) opens the store on one
 * data directory, reads every client's key, and then writes as fast as 16
 * clients can; the test kills it with SIGKILL once 2,000 writes were
 * acknowledged, and starts it again on the same directory. Each reopen must
 * serve (read every key and take a write) — after a crash the new leader
 * re-proposes what it finds a window at a time, which once never finished —
 * and must hold every write acknowledged before the kill: a client's key
 * reads at least the last value it was told was written. Nothing here reads
 * a clock: the bound on each reopen is the test's own timeout.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/kv-sigkill-child.mjs', import.meta.url));

type Fact = { type: 'read'; key: string; value: unknown } | { type: 'serving' } | { type: 'ack'; key: string; value: number };

/** Runs the child on `dir`; kills it with SIGKILL after `acks` acknowledged writes (or lets it exit when verifying). */
function run(dir: string, acks: number | 'verify-only'): Promise<Fact[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir, ...(acks === 'verify-only' ? ['verify-only'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    const facts: Fact[] = [];
    let buf = '';
    let err = '';
    let seen = 0;
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const fact = JSON.parse(line) as Fact;
        facts.push(fact);
        if (fact.type === 'ack' && acks !== 'verify-only' && ++seen === acks) proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      if (signal === 'SIGKILL' || (acks === 'verify-only' && code === 0)) resolve(facts);
      else reject(new Error(`child exited with ${code ?? signal}: ${err}`));
    });
  });
}

describe('SIGKILL of a loaded key-value store, reopened each time', () => {
  it('every reopen serves, and holds every write acknowledged before the kill', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synod-kv-sigkill-'));
    try {
      const acked = new Map<string, number>();
      for (let round = 0; round < 4; round++) {
        const facts = await run(dir, round < 3 ? 2000 : 'verify-only');
        // It served: it read every key and took a write before loading.
        expect(facts.some((f) => f.type === 'serving')).toBe(true);
        for (const f of facts) {
          if (f.type === 'read') expect(typeof f.value === 'number' ? f.value : 0).toBeGreaterThanOrEqual(acked.get(f.key) ?? 0);
          if (f.type === 'ack') acked.set(f.key, Math.max(acked.get(f.key) ?? 0, f.value));
        }
        expect(facts.filter((f) => f.type === 'read')).toHaveLength(16);
      }
      expect(acked.size).toBe(16);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
