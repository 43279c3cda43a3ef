/**
 * Well-formed but wrong messages from members, against live worker threads
 * and LMDB (the protocol cases step by step are the transcripts
 * test/transcripts/hostile-member.txt and mp-hostile-member.txt):
 * - a single-decree ballot with a field it does not have (`undefined`, a
 *   bigint, a 20 MB string) is dropped before anything is persisted, so the
 *   acceptor restarts;
 * - a trim to 2^53-1 from a proposer that is not the leader, or from an
 *   acceptor, changes nothing: acknowledged writes stay readable, also
 *   after every acceptor restarted;
 * - an accept for slot 2^53-2 from a proposer no acceptor promised on a
 *   prepare is not accepted, so the next leader's recovery ends and the store
 *   serves again.
 */
import { describe, expect, it } from 'vitest';
import type { SynodError } from '../../src/errors.js';
import { createKvCluster, type KvCluster, type KvClusterOptions } from '../../src/runtime/kv-cluster.js';
import { withCluster } from './fixtures/helpers.js';

/** Retries an operation that timed out (a busy machine, a change of leader), a bounded number of times. */
async function answered<T>(op: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await op();
    } catch (err) {
      if ((err as SynodError).code !== 'SYNOD_TIMEOUT' || i >= attempts) throw err;
    }
  }
}

async function withKv<T>(options: KvClusterOptions, body: (kv: KvCluster) => Promise<T>): Promise<T> {
  const kv = await createKvCluster(options);
  const violations: unknown[] = [];
  kv.on('violation', (v) => violations.push(v));
  try {
    return await body(kv);
  } finally {
    await kv.close();
    expect(violations).toEqual([]);
  }
}

const MAX = Number.MAX_SAFE_INTEGER;

describe('hostile members', () => {
  it('single-decree: a ballot with an extra field is dropped before it is persisted; the acceptor restarts and the cluster decides', async () => {
    await withCluster({ proposers: 1, acceptors: 3, learners: 1 }, async (cluster) => {
      for (const junk of [undefined, 10n, 'x'.repeat(20 * 1024 * 1024)]) {
        await cluster.inject('a1', { type: 'prepare', from: 'p1', ballot: { round: 7, proposer: 'p1', junk } }, 'p1');
      }
      const a1 = await cluster.state('a1');
      expect(a1.counters.dropped.malformed).toBe(3);
      expect(a1.counters.persisted).toBe(0);
      await cluster.restart('a1');
      expect(await cluster.propose('after')).toBe('after');
      // A majority decides: a1 may step p1's prepare after the decision, so its promise is waited for.
      await expect.poll(async () => (await cluster.state('a1')).describe).toMatch(/promised=\d+\.p1/);
    });
  });

  it('key-value: a trim to 2^53-1 from a non-leader or an acceptor wipes nothing, also across restarts', async () => {
    await withKv({ proposers: 2, acceptors: 3, learners: 1, timeoutMs: 20_000 }, async (kv) => {
      await answered(() => kv.put('k', 'v1'));
      const leader = kv.leader();
      expect(leader).not.toBeNull();
      const other = leader === 'p1' ? 'p2' : 'p1';
      for (const a of ['a1', 'a2', 'a3']) await kv.inject(a, { type: 'trim', from: other, upTo: MAX }, other);
      await kv.inject(leader as string, { type: 'trim', from: other, upTo: MAX }, other);
      await kv.inject(leader as string, { type: 'trim', from: 'a2', upTo: MAX }, 'a2');
      for (const a of ['a1', 'a2', 'a3']) await kv.restart(a);
      expect(await answered(() => kv.get('k'))).toBe('v1');
      await answered(() => kv.put('k', 'v2'));
      expect(await answered(() => kv.get('k'))).toBe('v2');
      for (const a of ['a1', 'a2', 'a3']) expect((await kv.state(a)).describe).not.toMatch(/9007199254740991/);
    });
  });

  it('key-value: an accept for slot 2^53-2 from a proposer that holds no promise is refused; the next leader recovers and serves', async () => {
    await withKv({ proposers: 2, acceptors: 3, learners: 1, timeoutMs: 20_000 }, async (kv) => {
      await answered(() => kv.put('k', 'v1'));
      const leader = kv.leader() as string;
      const other = leader === 'p1' ? 'p2' : 'p1';
      // A ballot above the leader's, so that the acceptors take it (that is Paxos) and the leader is deposed.
      const ballot = { round: 1000, proposer: other };
      const entries = [{ slot: MAX - 1, value: '[]' }];
      for (const a of ['a1', 'a2', 'a3']) await kv.inject(a, { type: 'accept', from: other, ballot, entries }, other);
      for (const a of ['a1', 'a2', 'a3']) await expect.poll(async () => (await kv.state(a)).describe).toMatch(/promised=1000\./);
      for (const a of ['a1', 'a2', 'a3']) expect((await kv.state(a)).describe).not.toMatch(/9007199254740990/);
      await answered(() => kv.put('k', 'v2'));
      expect(await answered(() => kv.get('k'))).toBe('v2');
    });
  });
});
