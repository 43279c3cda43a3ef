// Unit tests of the acceptor, one per rule of "Paxos Made Simple" (section 2.2
// and 2.5) and of the seeds' guard against a proposer "at infinity".
import { describe, expect, it } from 'vitest';
import { coreConfig, initAcceptor, membership, stepAcceptor, acceptorInvariants, type AcceptorState, type Effect, type Message } from '../../src/core/index.js';

const config = coreConfig(membership(2, 3, 2), { maxRoundJump: 100 });
const b = (round: number, proposer = 'p1') => ({ round, proposer });
const recv = (s: AcceptorState, msg: Message) => stepAcceptor(s, { type: 'receive', msg });
const sends = (effects: readonly Effect[]) => effects.filter((e) => e.type === 'send');

describe('acceptor', () => {
  it('P1a: promises a prepare numbered higher than any it has promised, and the promise leaves only with the persist', () => {
    const r = recv(initAcceptor('a1', config), { type: 'prepare', from: 'p1', ballot: b(1) });
    expect(r.state.promised).toEqual(b(1));
    expect(sends(r.effects)).toEqual([]); // nothing leaves before the write is durable
    expect(r.effects).toHaveLength(1);
    const persist = r.effects[0];
    expect(persist?.type).toBe('persist');
    if (persist?.type !== 'persist') return;
    expect(persist.record).toEqual({ role: 'acceptor', promised: b(1), accepted: null });
    expect(persist.then).toEqual([{ type: 'send', to: 'p1', msg: { type: 'promise', from: 'a1', ballot: b(1), accepted: null } }]);
  });

  it('phase 1b: the promise reports the highest-numbered proposal accepted', () => {
    const s: AcceptorState = { ...initAcceptor('a1', config), promised: b(3), accepted: { ballot: b(3), value: 'x' } };
    const r = recv(s, { type: 'prepare', from: 'p2', ballot: b(4, 'p2') });
    const persist = r.effects[0];
    if (persist?.type !== 'persist') throw new Error('expected persist');
    expect(persist.then[0]).toMatchObject({ msg: { type: 'promise', accepted: { ballot: b(3), value: 'x' } } });
  });

  it('promise iff n >= promised: a lower prepare gets a nack carrying the promised ballot, an equal one (its owner retrying) the promise again', () => {
    const s: AcceptorState = { ...initAcceptor('a1', config), promised: b(5, 'p2') };
    const again = recv(s, { type: 'prepare', from: 'p2', ballot: b(5, 'p2') });
    expect(again.effects[0]).toMatchObject({ type: 'persist', then: [{ type: 'send', to: 'p2', msg: { type: 'promise', ballot: b(5, 'p2') } }] });
    for (const ballot of [b(5, 'p1'), b(4, 'p2')]) {
      const r = recv(s, { type: 'prepare', from: ballot.proposer, ballot });
      expect(r.state).toBe(s);
      expect(r.effects).toEqual([{ type: 'send', to: ballot.proposer, msg: { type: 'nack', from: 'a1', ballot, promised: b(5, 'p2') } }]);
    }
  });

  it('P1a: accepts a proposal numbered n unless it promised a higher number (accept iff n >= promised)', () => {
    const s: AcceptorState = { ...initAcceptor('a1', config), promised: b(5) };
    const equal = recv(s, { type: 'accept', from: 'p1', ballot: b(5), value: 'v' });
    expect(equal.state.accepted).toEqual({ ballot: b(5), value: 'v' });
    const higher = recv(s, { type: 'accept', from: 'p2', ballot: b(6, 'p2'), value: 'w' });
    expect(higher.state.accepted).toEqual({ ballot: b(6, 'p2'), value: 'w' });
    expect(higher.state.promised).toEqual(b(6, 'p2')); // accepting n also promises n
    const lower = recv(s, { type: 'accept', from: 'p1', ballot: b(4), value: 'z' });
    expect(lower.state).toBe(s);
    expect(lower.effects[0]).toMatchObject({ type: 'send', msg: { type: 'nack', promised: b(5) } });
  });

  it('2.3: the accepted reply goes to the proposer and to every learner, only after the write', () => {
    const r = recv(initAcceptor('a1', config), { type: 'accept', from: 'p1', ballot: b(1), value: 'v' });
    expect(sends(r.effects)).toEqual([]);
    const persist = r.effects[0];
    if (persist?.type !== 'persist') throw new Error('expected persist');
    expect(persist.then.map((e) => (e.type === 'send' ? e.to : e.type))).toEqual(['p1', 'l1', 'l2']);
  });

  it('guard: refuses ballots of non-members, ballots not owned by the sender, and rounds that jump too far', () => {
    const s = initAcceptor('a1', config);
    const cases: Array<[Message, RegExp]> = [
      [{ type: 'prepare', from: 'p9', ballot: b(1, 'p9') }, /not a proposer/],
      [{ type: 'prepare', from: 'p2', ballot: b(1, 'p1') }, /does not own/],
      [{ type: 'prepare', from: 'p1', ballot: b(101) }, /jumps more than 100/],
      [{ type: 'accept', from: 'p1', ballot: b(Number.MAX_SAFE_INTEGER), value: 1 }, /jumps/],
      [{ type: 'prepare', from: 'p1', ballot: b(Number.POSITIVE_INFINITY) }, /safe integer/],
    ];
    for (const [msg, reason] of cases) {
      const r = recv(s, msg);
      expect(r.state).toBe(s);
      expect(r.effects).toHaveLength(1);
      expect(r.effects[0]?.type).toBe('ignore');
      expect(r.effects[0]?.type === 'ignore' && r.effects[0].reason).toMatch(reason);
    }
    // A round within the jump bound is fine.
    expect(recv(s, { type: 'prepare', from: 'p1', ballot: b(100) }).state.promised).toEqual(b(100));
  });

  it('a hostile ballot cannot wedge the cluster: an honest proposer can always still get above the promise', () => {
    let s = initAcceptor('a1', config);
    s = recv(s, { type: 'prepare', from: 'p2', ballot: b(100, 'p2') }).state; // as far as one jump goes
    const next = recv(s, { type: 'prepare', from: 'p1', ballot: b(101, 'p1') });
    expect(next.state.promised).toEqual(b(101, 'p1'));
  });

  it('invariant: accepted ballot never above the promise', () => {
    const bad: AcceptorState = { ...initAcceptor('a1', config), promised: b(1), accepted: { ballot: b(2), value: 'x' } };
    expect(() => acceptorInvariants(bad)).toThrow(/above promised/);
    expect(() => acceptorInvariants({ ...bad, promised: b(2) })).not.toThrow();
  });

  it('ignores messages that are not for acceptors', () => {
    const s = initAcceptor('a1', config);
    const r = recv(s, { type: 'promise', from: 'a2', ballot: b(1), accepted: null });
    expect(r.effects).toEqual([{ type: 'ignore', reason: 'acceptor does not take promise' }]);
  });
});
