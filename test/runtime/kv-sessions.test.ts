// Client sessions are bounded: with more client sessions than
// `core.maxSessions`, the learners evict the least recently applied, and an
// operation of an evicted session fails with SYNOD_SESSION_EXPIRED (never
// applied again); its session goes on under a fresh client id, and the
// history stays linearizable.
import { describe, expect, it } from 'vitest';
import { checkLinearizable } from '../../src/check/linearizability.js';
import { SynodError } from '../../src/errors.js';
import { createKvCluster } from '../../src/runtime/kv-cluster.js';

describe('key-value client sessions, bounded', () => {
  it('an evicted session fails its operation with SYNOD_SESSION_EXPIRED and goes on under a fresh id; the history is linearizable', async () => {
    const kv = await createKvCluster({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory', concurrency: 4, history: true, core: { maxSessions: 2 } });
    try {
      const codes: string[] = [];
      let done = 0;
      for (let round = 0; round < 6; round++) {
        // Four at once: every session of the pool is busy, and at most two of them have a session at the learner.
        const outcomes = await Promise.allSettled([0, 1, 2, 3].map((k) => kv.put(`k${k}`, round * 10 + k)));
        for (const o of outcomes) {
          if (o.status === 'fulfilled') done++;
          else codes.push(o.reason instanceof SynodError ? o.reason.code : String(o.reason));
        }
      }
      expect(codes.length).toBeGreaterThan(0);
      expect(new Set(codes)).toEqual(new Set(['SYNOD_SESSION_EXPIRED']));
      expect(done).toBeGreaterThan(0);
      // A session that expired serves again (a read is safe to repeat): every key reads back, through the log.
      const get = async (key: string): Promise<unknown> => {
        for (;;) {
          try {
            return await kv.get(key);
          } catch (err) {
            if (!(err instanceof SynodError && err.code === 'SYNOD_SESSION_EXPIRED')) throw err;
          }
        }
      };
      const read = await Promise.all([0, 1, 2, 3].map((k) => get(`k${k}`)));
      expect(read.every((v) => typeof v === 'number')).toBe(true);
      expect(checkLinearizable(kv.history()).status).toBe('linearizable');
    } finally {
      await kv.close();
    }
  });
});
