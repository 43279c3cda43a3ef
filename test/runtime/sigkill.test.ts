/**
 * Kills a whole process running a cluster with SIGKILL in the middle of its
 * writes, then reopens its data directory: no acceptor forgot a promise or
 * an accepted value it had reported durable, and the decided value did not
 * change. The cluster runs in a child process (fixtures/sigkill-child.mjs,
 * on the built dist/) that prints every durable record and decision.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SafetyChecker } from '../../src/check/safety.js';
import { compareBallots } from '../../src/core/ballot.js';
import type { AcceptorRecord, DurableRecord } from '../../src/core/effects.js';
import { membership } from '../../src/core/ids.js';
import type { Value } from '../../src/core/value.js';
import { openLmdbStore } from '../../src/runtime/storage/lmdb.js';

const child = fileURLToPath(new URL('./fixtures/sigkill-child.mjs', import.meta.url));

type Fact =
  | { type: 'durable'; id: string; record: DurableRecord }
  | { type: 'decide'; id: string; ballot: { round: number; proposer: string }; value: Value }
  | { type: 'chosen'; proposer: string; value: Value };

async function load(dir: string, id: string): Promise<DurableRecord | null> {
  const store = await openLmdbStore(dir, { actorId: id });
  try {
    return await store.load();
  } finally {
    await store.close();
  }
}

describe('SIGKILL of a whole process', () => {
  it('loses no promise or accepted value an acceptor reported durable, and the decided value stands', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'synod-sigkill-test-'));
    const proc = spawn(process.execPath, [child, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      let err = '';
      proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
      // Kill it once the acceptors have reported plenty of writes and the learner has decided: rounds are still being written.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the child did not get going within 30 s; stderr: ${err}`)), 30_000);
        void exited.then(() => reject(new Error(`the child exited by itself; stderr: ${err}`)));
        proc.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if ((out.match(/"type":"durable","id":"a/g) ?? []).length >= 60 && out.includes('"type":"decide"')) {
            clearTimeout(timer);
            proc.kill('SIGKILL');
            resolve();
          }
        });
      });
      expect(await exited).toBe('SIGKILL');

      // Only complete lines count: the kill may cut the last one.
      const facts = out.split('\n').slice(0, -1).map((line) => JSON.parse(line) as Fact);
      const checker = new SafetyChecker(membership(2, 3, 1));
      let step = 0;
      const reported = new Map<string, AcceptorRecord>();
      for (const f of facts) {
        if (f.type === 'durable' && f.record.role === 'acceptor') {
          checker.acceptorDurable(f.id, f.record, ++step);
          reported.set(f.id, f.record);
        }
      }
      expect([...reported.keys()].sort()).toEqual(['a1', 'a2', 'a3']);
      for (const [id, before] of reported) {
        const after = (await load(join(dataDir, id), id)) as AcceptorRecord;
        expect(after.role).toBe('acceptor');
        expect(compareBallots(after.promised, before.promised)).toBeGreaterThanOrEqual(0);
        expect(compareBallots(after.accepted?.ballot ?? null, before.accepted?.ballot ?? null)).toBeGreaterThanOrEqual(0);
        checker.acceptorRecovered(id, after, ++step);
      }
      expect(checker.violations).toEqual([]);

      const decisions = facts.filter((f) => f.type === 'decide');
      expect(decisions).toHaveLength(1);
      const decided = decisions[0] as Extract<Fact, { type: 'decide' }>;
      for (const f of facts) if (f.type === 'chosen') expect(f.value).toEqual(decided.value);
      const learner = await load(join(dataDir, 'l1'), 'l1');
      expect(learner?.role === 'learner' && learner.decided?.value).toEqual(decided.value);
      // Every acceptor that accepted at or after the decision holds the decided value, and a majority did.
      let holding = 0;
      for (const id of ['a1', 'a2', 'a3']) {
        const rec = (await load(join(dataDir, id), id)) as AcceptorRecord;
        if (rec.accepted === null || compareBallots(rec.accepted.ballot, decided.ballot) < 0) continue;
        expect(rec.accepted.value).toEqual(decided.value);
        holding++;
      }
      expect(holding).toBeGreaterThanOrEqual(2);
    } finally {
      proc.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
