// `learn: 'votes'`: acceptors send their votes, with the values, to the
// learners too, and a learner takes a slot once a majority of its view's
// acceptors voted for it at one ballot with one text ("Paxos Made Simple"
// §2.3). The leader's commits to learners then ride on its heartbeats, and
// its read rounds cover every slot it proposed.
import { describe, expect, it } from 'vitest';
import { membership } from '../../../src/core/ids.js';
import { initMpAcceptor, initMpLearner, initMpProposer, mpConfig, mpLearnerInvariants, stepMpAcceptor, stepMpLearner, stepMpProposer, type Command, type MpConfig, type MpEffect, type MpLearnerState, type MpMessage, type MpProposerState } from '../../../src/core/multipaxos/index.js';
import { validateMpMessage, toWire } from '../../../src/core/multipaxos/wire.js';
import { multiPaxosProtocol } from '../../../src/host/multipaxos.js';
import { kvMachine } from '../../../src/machines/kv/index.js';
import { standFor } from './elect.js';

const members = membership(2, 3, 2);
const votes = mpConfig(members, { window: 4, batchMax: 1, compactEvery: 0, learn: 'votes' });
const b1 = { round: 1, proposer: 'p1' } as const;
const b2 = { round: 2, proposer: 'p2' } as const;
const write = (seq: number, value = seq): Command => ({ clientId: 'c1', seq, op: { f: 'write', key: 'k', value } });
const text = (...commands: Command[]) => JSON.stringify(commands);
const sent = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'send' ? [e] : []));
const ignored = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'ignore' ? [e.reason] : []));
const applied = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'applied' ? [e.command] : []));

/** Feeds votes to a learner, checking its invariants after every step, and returns every effect. */
function feed(s: MpLearnerState, ...msgs: MpMessage[]): { state: MpLearnerState; effects: MpEffect[] } {
  const effects: MpEffect[] = [];
  for (const msg of msgs) {
    const r = stepMpLearner(s, { type: 'receive', msg });
    mpLearnerInvariants(r.state);
    s = r.state as MpLearnerState;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}
const vote = (from: string, ballot: typeof b1 | typeof b2, ...entries: Array<[number, string]>): MpMessage => ({ type: 'vote', from, ballot, entries: entries.map(([slot, value]) => ({ slot, value })) });

describe("learners learn from the acceptors' votes", () => {
  it('an acceptor sends its vote with the value to every learner, after the write, besides its accepted to the leader', () => {
    const a = initMpAcceptor('a1', votes);
    const r = stepMpAcceptor(a, { type: 'receive', msg: { type: 'accept', from: 'p1', ballot: b1, entries: [{ slot: 0, value: [write(1)] }] } });
    expect(r.effects).toHaveLength(1);
    const persist = r.effects[0];
    expect(persist?.type).toBe('persist');
    const then = persist?.type === 'persist' ? persist.then : [];
    expect(sent(then).map((e) => [e.to, e.msg.type])).toEqual([['p1', 'accepted'], ['l1', 'vote'], ['l2', 'vote']]);
    expect(sent(then)[1]?.msg).toEqual({ type: 'vote', from: 'a1', ballot: b1, entries: [{ slot: 0, value: text(write(1)) }] });
  });

  it('with learners that learn from commits, an acceptor sends no votes', () => {
    const r = stepMpAcceptor(initMpAcceptor('a1', { ...votes, learn: 'commit' }), { type: 'receive', msg: { type: 'accept', from: 'p1', ballot: b1, entries: [{ slot: 0, value: [write(1)] }] } });
    const then = r.effects[0]?.type === 'persist' ? r.effects[0].then : [];
    expect(sent(then).map((e) => e.to)).toEqual(['p1']);
  });

  it('a learner applies a slot once a majority voted for it, not before, and the third vote changes nothing', () => {
    const l = initMpLearner('l1', votes, kvMachine);
    const one = feed(l, vote('a1', b1, [0, text(write(1))]));
    expect(one.state.nextSlot).toBe(0);
    expect(applied(one.effects)).toEqual([]);
    const two = feed(one.state, vote('a3', b1, [0, text(write(1))]));
    expect(two.state.nextSlot).toBe(1);
    expect(applied(two.effects)).toEqual([write(1)]);
    const three = feed(two.state, vote('a2', b1, [0, text(write(1))]));
    expect(applied(three.effects)).toEqual([]);
    expect(three.state.votes.size).toBe(0);
  });

  it('votes count only at one ballot, for one text, from acceptors of the view', () => {
    const l = initMpLearner('l1', votes, kvMachine);
    // Two acceptors, two ballots: no majority at either.
    const split = feed(l, vote('a1', b1, [0, text(write(1))]), vote('a2', b2, [0, text(write(1))]));
    expect(split.state.nextSlot).toBe(0);
    // A vote at the older ballot after a newer one is not counted.
    const old = feed(split.state, vote('a3', b1, [0, text(write(1))]));
    expect(old.state.nextSlot).toBe(0);
    expect(ignored(old.effects)).toEqual(['vote from a3 at 1.p1: 1 slot(s) not counted (at or past 4, not its view\'s acceptor, an older ballot, or another value)']);
    // Another text at the same ballot (a lying acceptor) is not counted either.
    const other = feed(old.state, vote('a3', b2, [0, text(write(1, 99))]));
    expect(other.state.nextSlot).toBe(0);
    // Nor is a vote from someone who is not an acceptor, even at that ballot with that text.
    const stranger = feed(other.state, vote('p2', b2, [0, text(write(1))]), vote('l2', b2, [0, text(write(1))]));
    expect(stranger.state.nextSlot).toBe(0);
    // The second acceptor at b2, with the same text: a majority.
    const done = feed(stranger.state, vote('a1', b2, [0, text(write(1))]));
    expect(done.state.nextSlot).toBe(1);
    expect(applied(done.effects)).toEqual([write(1)]);
  });

  it('slots chosen out of order wait for the gap, which asks for no catch-up', () => {
    const l = initMpLearner('l1', votes, kvMachine);
    const ahead = feed(l, vote('a1', b1, [1, text(write(2))]), vote('a2', b1, [1, text(write(2))]));
    expect(ahead.state.nextSlot).toBe(0);
    expect(ahead.state.pending.has(1)).toBe(true);
    expect(sent(ahead.effects)).toEqual([]);
    const filled = feed(ahead.state, vote('a2', b1, [0, text(write(1))]), vote('a3', b1, [0, text(write(1))]));
    expect(filled.state.nextSlot).toBe(2);
    expect(applied(filled.effects)).toEqual([write(1), write(2)]);
  });

  it('a vote at or past α from the next slot, whose view may not be known yet, is left to the commits', () => {
    const l = initMpLearner('l1', votes, kvMachine);
    const far = feed(l, vote('a1', b1, [4, text(write(5))]), vote('a2', b1, [4, text(write(5))]));
    expect(far.state.votes.size).toBe(0);
    expect(far.state.pending.size).toBe(0);
  });

  it('a majority for text that is no batch takes nothing, with the reason', () => {
    const r = feed(initMpLearner('l1', votes, kvMachine), vote('a1', b1, [0, '[1]']), vote('a2', b1, [0, '[1]']));
    expect(r.state.nextSlot).toBe(0);
    expect(ignored(r.effects)).toEqual(['votes for slot 0: a command is not an object']);
  });

  it('a learner of a log that learns from commits ignores votes, with the reason', () => {
    const r = feed(initMpLearner('l1', { ...votes, learn: 'commit' }, kvMachine), vote('a1', b1, [0, text(write(1))]), vote('a2', b1, [0, text(write(1))]));
    expect(r.state.nextSlot).toBe(0);
    expect(ignored(r.effects)).toEqual(['vote from a1: this log\'s learners learn from commits', 'vote from a2: this log\'s learners learn from commits']);
  });

  it('control: with the vote-without-quorum bug one vote is enough', () => {
    const buggy: MpConfig = { ...votes, bugs: { ...votes.bugs, voteWithoutQuorum: true } };
    const r = feed(initMpLearner('l1', buggy, kvMachine), vote('a1', b1, [0, text(write(1))]));
    expect(r.state.nextSlot).toBe(1);
  });

  it('a vote crosses the wire as text, exactly, like a commit', () => {
    const msg: MpMessage = { type: 'vote', from: 'a1', ballot: b1, entries: [{ slot: 0, value: [write(1)] }] };
    const wire = JSON.parse(JSON.stringify(toWire(msg))) as unknown;
    expect(wire).toEqual({ type: 'vote', from: 'a1', ballot: b1, entries: [{ slot: 0, value: text(write(1)) }] });
    expect(validateMpMessage(wire, kvMachine)).toEqual({ ok: true, msg: { type: 'vote', from: 'a1', ballot: b1, entries: [{ slot: 0, value: text(write(1)) }] } });
    expect(validateMpMessage({ ...(wire as object), extra: 1 }, kvMachine).ok).toBe(false);
    expect(validateMpMessage({ ...(wire as object), entries: [{ slot: 0, value: [write(1)] }] }, kvMachine)).toEqual({ ok: false, reason: 'vote: slot 0: a batch is not JSON text' });
  });

  it("the leader's commits are lazy for learners too, and only with votes", () => {
    const protocol = multiPaxosProtocol(kvMachine);
    const leader = initMpProposer('p1', votes, 0, kvMachine);
    const commit: MpMessage = { type: 'commit', from: 'p1', entries: [] };
    expect(protocol.lazy(leader, votes, 'l1', commit)).toBe(true);
    expect(protocol.lazy(leader, { ...votes, learn: 'commit' }, 'l1', commit)).toBe(false);
    expect(protocol.lazy(leader, { ...votes, learn: 'commit' }, 'p2', commit)).toBe(true);
  });

  it("a leader's read round waits for every slot it proposed, not only those it knows chosen", () => {
    let s: MpProposerState = standFor(initMpProposer('p1', votes, 0, kvMachine)).state;
    for (const a of ['a1', 'a2', 'a3']) s = stepMpProposer(s, { type: 'receive', msg: { type: 'promise', from: a, ballot: b1, entries: [], trimmed: 0 } }, 0.5).state as MpProposerState;
    s = stepMpProposer(s, { type: 'request', commands: [write(1)] }, 0.5).state as MpProposerState;
    expect(s.commitIndex).toBe(0);
    const read: Command = { clientId: 'c1', seq: 2, op: { f: 'read', key: 'k' } };
    s = stepMpProposer(s, { type: 'request', commands: [read] }, 0.5).state as MpProposerState;
    expect([...s.readRounds.values()].map((r) => r.index)).toEqual([1]);
    // The same leader with learners that learn from commits reads at its commit index.
    let c: MpProposerState = standFor(initMpProposer('p1', { ...votes, learn: 'commit' }, 0, kvMachine)).state;
    for (const a of ['a1', 'a2', 'a3']) c = stepMpProposer(c, { type: 'receive', msg: { type: 'promise', from: a, ballot: b1, entries: [], trimmed: 0 } }, 0.5).state as MpProposerState;
    c = stepMpProposer(c, { type: 'request', commands: [write(1)] }, 0.5).state as MpProposerState;
    c = stepMpProposer(c, { type: 'request', commands: [read] }, 0.5).state as MpProposerState;
    expect([...c.readRounds.values()].map((r) => r.index)).toEqual([0]);
  });
});
