/**
 * Hostile input into a live actor's mailbox, through the same path as real
 * traffic: malformed messages, bad ballots, unknown and spoofed senders,
 * oversized values, and a flood past the mailbox limit. All of it is dropped
 * and counted, nothing crashes, and the cluster still decides safely.
 */
import { describe, expect, it } from 'vitest';
import { withCluster } from './fixtures/helpers.js';

const small = { proposers: 2, acceptors: 3, learners: 1 } as const;
const ballot = (round: unknown, proposer: unknown = 'p1') => ({ round, proposer });

describe('hostile input', () => {
  it('drops and counts malformed, spoofed and oversized messages; the cluster stays up and decides safely', async () => {
    await withCluster({ ...small, maxValueBytes: 1024 }, async (cluster) => {
      let crashes = 0;
      cluster.on('crash', () => crashes++);
      const malformed: unknown[] = [
        null,
        42,
        'prepare',
        [],
        {},
        { type: 'prepare' },
        { type: 'bogus', from: 'p1', ballot: ballot(1) },
        { type: 'prepare', from: 'p1', ballot: ballot(Number.NaN) },
        { type: 'prepare', from: 'p1', ballot: ballot(Number.POSITIVE_INFINITY) },
        { type: 'prepare', from: 'p1', ballot: ballot(-1) },
        { type: 'prepare', from: 'p1', ballot: ballot(0) },
        { type: 'prepare', from: 'p1', ballot: ballot(1.5) },
        { type: 'prepare', from: 'p1', ballot: ballot('1') },
        { type: 'prepare', from: 'p1', ballot: ballot(2 ** 53) },
        { type: 'prepare', from: 'p1', ballot: ballot(1, '') },
        { type: 'accept', from: 'p1', ballot: ballot(1), value: Number.NaN },
        { type: 'accept', from: 'p1', ballot: ballot(1), value: new Date(0) },
        { type: 'accept', from: 'p1', ballot: ballot(1) },
        { type: 'promise', from: 'a2', ballot: ballot(1), accepted: { ballot: ballot(-3), value: 'x' } },
      ];
      for (const raw of malformed) await cluster.inject('a1', raw, 'p1');
      // Unknown senders: a stranger's link, and a member spoofing another member on its link.
      await cluster.inject('a1', { type: 'prepare', from: 'x9', ballot: ballot(1, 'x9') }, 'x9');
      await cluster.inject('a1', { type: 'prepare', from: 'p2', ballot: ballot(1, 'p2') }, 'p1');
      await cluster.inject('l1', { type: 'decide', from: 'p1', ballot: ballot(1), value: 'forged' });
      // Oversized values, in an accept and in a promise's accepted proposal.
      const big = 'x'.repeat(100 * 1024);
      await cluster.inject('a1', { type: 'accept', from: 'p1', ballot: ballot(1), value: big }, 'p1');
      await cluster.inject('p1', { type: 'promise', from: 'a2', ballot: ballot(1), accepted: { ballot: ballot(1), value: [big] } }, 'a2');
      // Well-formed but refused by the core's guards: a ballot far past anything promised, a ballot owned by someone else.
      await cluster.inject('a1', { type: 'prepare', from: 'p1', ballot: ballot(2 ** 53 - 1) }, 'p1');
      await cluster.inject('a1', { type: 'accept', from: 'p1', ballot: ballot(1, 'p2'), value: 'stolen' }, 'p1');

      // Validation happens on arrival; the core steps what passes it in the actor's next turn.
      await expect.poll(async () => (await cluster.state('a1')).counters.ignored).toBe(2);
      const a1 = await cluster.state('a1');
      expect(a1.counters.dropped.malformed).toBe(malformed.length);
      expect(a1.counters.dropped.unknownSender).toBe(2);
      expect(a1.counters.dropped.oversized).toBe(1);
      expect(a1.counters.persisted).toBe(0);
      expect(a1.describe).toBe('a1 acceptor promised=none accepted=none');
      expect((await cluster.state('l1')).counters.dropped.unknownSender).toBe(1);
      expect((await cluster.state('p1')).counters.dropped.oversized).toBe(1);

      expect(await cluster.propose('honest')).toBe('honest');
      await expect.poll(() => cluster.decisions.get('l1')?.value).toBe('honest');
      expect(crashes).toBe(0);
      expect(cluster.checker.finish(0)).toEqual([]);
    });
  });

  it('drops the newest messages of a flood past the mailbox limit, counts them, and recovers', async () => {
    await withCluster({ ...small, mailboxLimit: 20 }, async (cluster) => {
      await cluster.pause('a1');
      for (let round = 1; round <= 50; round++) await cluster.inject('a1', { type: 'prepare', from: 'p1', ballot: ballot(round) }, 'p1');
      const paused = await cluster.state('a1');
      expect(paused.mailbox).toEqual({ length: 20, limit: 20 });
      expect(paused.counters.dropped.overflow).toBe(30);
      await cluster.resume('a1');
      // The twenty oldest were kept, in order: the last one stepped is round 20.
      await expect.poll(async () => (await cluster.state('a1')).describe).toBe('a1 acceptor promised=20.p1 accepted=none');
      expect(await cluster.propose('after the flood')).toBe('after the flood');
      expect(cluster.checker.finish(0)).toEqual([]);
    });
  });
});
