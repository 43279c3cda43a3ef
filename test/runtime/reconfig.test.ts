/**
 * The reconfiguration pieces that need no threads (src/runtime/reconfig.ts):
 * whether an answer says the log made a reconfiguration, and the channel
 * that takes reconfigurations to the leader, driven by hand.
 */
import { describe, expect, it } from 'vitest';
import { AdminChannel, reconfigMade } from '../../src/runtime/reconfig.js';
import type { ReconfigAnswer } from '../../src/runtime/mpwire.js';
import type { Command } from '../../src/core/multipaxos/types.js';

const r = { epoch: 2, members: { proposers: ['p1'], acceptors: ['a1', 'a4'], learners: ['l1'] } };
const answer = (done: boolean, epoch: number, acceptors: string[], seq = 1): ReconfigAnswer => ({ clientId: 'c.admin', seq, slot: 10, done, view: { epoch, from: 40, proposers: ['p1'], acceptors, learners: ['l1'] } });
const view = (epoch: number, acceptors: string[], proposers = ['p1']) => ({ epoch, from: 40, proposers, acceptors, learners: ['l1'] });

describe('reconfigMade', () => {
  it('is true when the log made it now, or made it before (a re-sent one, answered with the view it made), and false otherwise', () => {
    expect(reconfigMade(r, true, view(3, ['a1', 'a4']))).toBe(true);
    expect(reconfigMade(r, false, view(3, ['a1', 'a4']))).toBe(true);
    // Another view came first: a different membership (other acceptors, or other proposers), or a later view.
    expect(reconfigMade(r, false, view(3, ['a1', 'a5']))).toBe(false);
    expect(reconfigMade(r, false, view(3, ['a1', 'a4'], ['p2']))).toBe(false);
    expect(reconfigMade(r, false, view(4, ['a1', 'a4']))).toBe(false);
    expect(reconfigMade(r, false, view(2, ['a1', 'a2']))).toBe(false);
  });
});

describe('AdminChannel', () => {
  function rig() {
    const posts: Array<[string, Command]> = [];
    let leader: string | null = null;
    const channel = new AdminChannel({ route: (avoid) => (leader !== null && leader !== avoid ? leader : avoid === 'p1' ? 'p2' : 'p1'), serving: () => true, post: (id, c) => void posts.push([id, c]) }, { retryMs: 60_000, timeoutMs: 120_000 });
    return { channel, posts, lead: (id: string) => (leader = id) };
  }

  it('sends to the leader, follows a reject to the leader it names, goes elsewhere when its proposer goes down, and settles with the matching answer only', async () => {
    const { channel, posts, lead } = rig();
    lead('p2');
    const settled = channel.send('c.admin', r);
    expect(posts.map(([id, c]) => `${id} ${c.clientId}#${c.seq} v${c.reconfig?.epoch}`)).toEqual(['p2 c.admin#1 v2']);
    channel.rejected('p2', ['c.admin', 1], 'p3');
    channel.rejected('p1', ['c.admin', 1], 'p2'); // not where it went: ignored
    expect(posts.map(([id]) => id)).toEqual(['p2', 'p3']);
    channel.down('p3');
    expect(posts.map(([id]) => id)).toEqual(['p2', 'p3', 'p2']);
    channel.answered([answer(true, 3, ['a1', 'a4'], 2)]); // another seq: not this command's
    channel.answered([answer(true, 3, ['a1', 'a4'], 1)]);
    await expect(settled).resolves.toMatchObject({ seq: 1, done: true });
    // The next command has the next seq; close rejects it.
    const next = channel.send('c.admin', r);
    expect(posts.at(-1)?.[1].seq).toBe(2);
    channel.close(new Error('closed'));
    await expect(next).rejects.toThrow('closed');
  });
});
