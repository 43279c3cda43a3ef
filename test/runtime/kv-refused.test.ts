/**
 * A reconfiguration the log refuses, on worker threads: one that timed out
 * while the leader was paused takes effect once it resumes, so the next one,
 * planned against the view the cluster still believed newest, is refused by
 * the log's compare-and-set. It rejects with SYNOD_RECONFIG_REFUSED, the
 * cluster takes the newest view, the actors not in it are stopped and
 * retired, and the cluster goes on (and reconfigures again from there).
 */
import { describe, expect, it } from 'vitest';
import { rejection, untilAnswered, withKv } from './fixtures/kv.js';

describe('a reconfiguration the log refuses, on worker threads', () => {
  it('rejects with SYNOD_RECONFIG_REFUSED, takes the newest view, and retires the actors not in it', async () => {
    await withKv({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory', timeoutMs: 2000, retryMs: 200 }, async (kv) => {
      // A short timeoutMs, for the first reconfiguration; everything else is asked again if a busy machine makes it time out.
      await untilAnswered(() => kv.put('x', 1));
      // The only proposer paused: the first reconfiguration waits in its mailbox and times out.
      await kv.pause('p1');
      const first = await rejection(kv.reconfigure({ add: ['a4'], remove: ['a3'] }));
      expect(first.code).toBe('SYNOD_TIMEOUT');
      expect(kv.view().epoch).toBe(0);
      await kv.resume('p1');
      // Planned against view 0, which the log has left behind once the first one is chosen (it was queued first).
      const second = await rejection(untilAnswered(() => kv.reconfigure({ add: ['a5'], remove: ['a2'] })));
      expect(second.code).toBe('SYNOD_RECONFIG_REFUSED');
      expect(second.message).toMatch(/refused the reconfiguration of view 0: the newest view is 1 \(proposers p1; acceptors a1, a2, a4; learners l1\); a3, a5, not in it, were stopped and retired/);
      expect(kv.view()).toMatchObject({ epoch: 1, acceptors: ['a1', 'a2', 'a4'], learners: ['l1'] });
      expect(kv.members).toEqual({ proposers: ['p1'], acceptors: ['a1', 'a2', 'a4'], learners: ['l1'] });
      for (const id of ['a3', 'a5']) expect(kv.status(id)).toBe('stopped');
      expect((await kv.state('l1')).view).toEqual(kv.view());
      // The cluster serves, and reconfigures again from the newest view; the refused one's id stays used.
      await untilAnswered(() => kv.put('x', 2));
      expect(await untilAnswered(() => kv.get('x'))).toBe(2);
      expect((await rejection(kv.reconfigure({ add: ['a5'] }))).message).toMatch(/a5 was removed before/);
      expect(await untilAnswered(() => kv.reconfigure({ add: ['a6'], remove: ['a1'] }))).toMatchObject({ epoch: 2, acceptors: ['a2', 'a4', 'a6'] });
      expect(await untilAnswered(() => kv.get('x'))).toBe(2);
    });
  });
});
