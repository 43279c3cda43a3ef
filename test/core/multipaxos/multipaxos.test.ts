// Unit tests of the Multi-Paxos roles ("Paxos Made Simple" §3: one instance
// per slot, a distinguished leader that runs phase 1 once for all slots,
// gap filling with no-ops) and of the key-value state machine.
import { describe, expect, it } from 'vitest';
import { membership } from '../../../src/core/ids.js';
import {
  applyCommand,
  emptyKv,
  initMpAcceptor,
  initMpLearner,
  initMpProposer,
  mpConfig,
  stepMpAcceptor,
  stepMpLearner,
  stepMpProposer,
  type Command,
  type MpEffect,
  type MpMessage,
  type MpProposerState,
} from '../../../src/core/multipaxos/index.js';

const config = mpConfig(membership(2, 3, 1), { window: 2, batchMax: 2 });
const b = (round: number, proposer = 'p1') => ({ round, proposer });
const cmd = (seq: number, key = 'k', clientId = 'c0'): Command => ({ clientId, seq, op: { f: 'write', key, value: seq } });
const sends = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'send' ? [e] : e.type === 'persist' ? e.then.filter((t) => t.type === 'send') : []));
const recvP = (s: MpProposerState, msg: MpMessage) => stepMpProposer(s, { type: 'receive', msg }, 0.5);

/** p1 elected at ballot 1.p1 with empty promises from a1 and a2. */
function leader(): MpProposerState {
  let s = stepMpProposer(initMpProposer('p1', config), { type: 'timeout', timer: 'election' }, 0.5).state;
  s = recvP(s, { type: 'promise', from: 'a1', ballot: b(1), entries: [] }).state;
  s = recvP(s, { type: 'promise', from: 'a2', ballot: b(1), entries: [] }).state;
  return s;
}

describe('multi-paxos acceptor', () => {
  it('one promise covers every slot; the promise reports accepted entries from fromSlot on, after a durable write', () => {
    let s = initMpAcceptor('a1', config);
    s = stepMpAcceptor(s, { type: 'receive', msg: { type: 'accept', from: 'p1', ballot: b(1), entries: [{ slot: 0, value: [] }, { slot: 5, value: [cmd(1)] }] } }).state;
    const r = stepMpAcceptor(s, { type: 'receive', msg: { type: 'prepare', from: 'p2', ballot: b(2, 'p2'), fromSlot: 1 } });
    expect(sends(r.effects)).toHaveLength(1);
    expect(r.effects[0]?.type).toBe('persist');
    expect(sends(r.effects)[0]?.msg).toMatchObject({ type: 'promise', entries: [{ slot: 5, ballot: b(1) }] });
    const stale = stepMpAcceptor(r.state, { type: 'receive', msg: { type: 'accept', from: 'p1', ballot: b(1), entries: [{ slot: 6, value: [] }] } });
    expect(sends(stale.effects)[0]?.msg).toMatchObject({ type: 'nack', promised: b(2, 'p2') });
  });

  it('recovers promise and per-slot entries from its records, the latest ballot per slot winning', () => {
    const s = initMpAcceptor('a1', config, [
      { kind: 'promised', ballot: b(3) },
      { kind: 'accepted', slot: 0, ballot: b(2), value: [cmd(1)] },
      { kind: 'accepted', slot: 0, ballot: b(3), value: [cmd(2)] },
    ]);
    expect(s.promised).toEqual(b(3));
    expect(s.log.get(0)?.value).toEqual([cmd(2)]);
  });
});

describe('multi-paxos proposer', () => {
  it('persists its round before preparing, and becomes leader with a majority of promises', () => {
    const start = stepMpProposer(initMpProposer('p1', config), { type: 'timeout', timer: 'election' }, 0.5);
    expect(start.effects[0]).toMatchObject({ type: 'persist', records: [{ kind: 'round', roundMax: 1 }] });
    expect(leader().mode).toBe('leader');
  });

  it('recovery: re-proposes the highest-ballot value of every reported slot and fills gaps with no-ops', () => {
    let s = stepMpProposer(initMpProposer('p1', config), { type: 'timeout', timer: 'election' }, 0.5).state;
    s = stepMpProposer({ ...s }, { type: 'timeout', timer: 'election' }, 0.5).state; // now at round 2
    s = recvP(s, { type: 'promise', from: 'a1', ballot: b(2), entries: [{ slot: 0, ballot: b(1, 'p2'), value: [cmd(1)] }, { slot: 3, ballot: b(1, 'p2'), value: [cmd(4)] }] }).state;
    const r = recvP(s, { type: 'promise', from: 'a2', ballot: b(2), entries: [{ slot: 0, ballot: b(1, 'p1'), value: [cmd(9)] }] });
    const accept = sends(r.effects).find((e) => e.msg.type === 'accept')?.msg;
    expect(accept).toMatchObject({
      type: 'accept',
      ballot: b(2),
      entries: [
        { slot: 0, value: [cmd(1)] }, // 1.p2 > 1.p1
        { slot: 1, value: [] },
        { slot: 2, value: [] },
        { slot: 3, value: [cmd(4)] },
      ],
    });
    expect(r.state.nextSlot).toBe(4);
  });

  it('batches commands per slot and keeps at most `window` slots in flight', () => {
    const r = stepMpProposer(leader(), { type: 'request', commands: [cmd(1), cmd(2), cmd(3), cmd(4), cmd(5)] }, 0.5);
    expect([...r.state.inflight.keys()]).toEqual([0, 1]);
    expect(r.state.inflight.get(0)?.value).toHaveLength(2);
    expect(r.state.queue).toHaveLength(1);
  });

  it('a slot accepted by a majority is chosen, sent to learners, and frees the window', () => {
    let s = stepMpProposer(leader(), { type: 'request', commands: [cmd(1), cmd(2), cmd(3), cmd(4), cmd(5)] }, 0.5).state;
    s = recvP(s, { type: 'accepted', from: 'a1', ballot: b(1), slots: [0] }).state;
    const r = recvP(s, { type: 'accepted', from: 'a3', ballot: b(1), slots: [0] });
    expect(r.state.commitIndex).toBe(1);
    expect(sends(r.effects).filter((e) => e.msg.type === 'commit').map((e) => e.to)).toEqual(['l1', 'p2']);
    expect([...r.state.inflight.keys()]).toEqual([1, 2]);
  });

  it('a non-leader rejects requests with its guess of the leader; a higher nack makes the leader step down and hand back its commands', () => {
    expect(stepMpProposer(initMpProposer('p2', config), { type: 'request', commands: [cmd(1)] }, 0.5).effects[0]).toMatchObject({ type: 'reject', leader: null });
    const s = stepMpProposer(leader(), { type: 'request', commands: [cmd(1)] }, 0.5).state;
    const r = recvP(s, { type: 'nack', from: 'a1', ballot: b(1), promised: b(5, 'p2') });
    expect(r.state.mode).toBe('follower');
    expect(r.effects).toContainEqual({ type: 'reject', commands: [cmd(1)], leader: 'p2' });
  });
});

describe('multi-paxos learner and key-value store', () => {
  it('applies slots strictly in order, asking the leader to fill a gap', () => {
    let s = initMpLearner('l1', config);
    s = stepMpLearner(s, { type: 'receive', msg: { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 0 } }).state;
    const gap = stepMpLearner(s, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot: 1, value: [cmd(2)] }] } });
    expect(gap.state.nextSlot).toBe(0);
    expect(sends(gap.effects)[0]?.msg).toEqual({ type: 'catchup', from: 'l1', fromSlot: 0 });
    const fill = stepMpLearner(gap.state, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot: 0, value: [cmd(1)] }] } });
    expect(fill.state.nextSlot).toBe(2);
    expect(fill.effects.filter((e) => e.type === 'appliedSlot').map((e) => (e.type === 'appliedSlot' ? e.slot : -1))).toEqual([0, 1]);
  });

  it('a retried command is applied exactly once, and the retry gets the original answer', () => {
    const kv = emptyKv();
    const cas = { clientId: 'c1', seq: 1, op: { f: 'cas' as const, key: 'k', from: null, to: 1 } };
    expect(applyCommand(kv, cas)).toEqual({ f: 'cas', ok: true });
    expect(applyCommand(kv, cas)).toEqual({ f: 'cas', ok: true }); // would fail if applied twice
    expect(applyCommand(kv, { clientId: 'c1', seq: 2, op: { f: 'read', key: 'k' } })).toEqual({ f: 'read', value: 1 });
    expect(applyCommand(kv, cas)).toBeNull(); // an older duplicate: nobody waits for it
  });

  it('cas swaps only from the current value; reads of absent keys give null', () => {
    const kv = emptyKv();
    expect(applyCommand(kv, { clientId: 'a', seq: 1, op: { f: 'read', key: 'x' } })).toEqual({ f: 'read', value: null });
    expect(applyCommand(kv, { clientId: 'a', seq: 2, op: { f: 'cas', key: 'x', from: 5, to: 6 } })).toEqual({ f: 'cas', ok: false });
    expect(applyCommand(kv, { clientId: 'a', seq: 3, op: { f: 'write', key: 'x', value: { n: 1 } } })).toEqual({ f: 'write' });
    expect(applyCommand(kv, { clientId: 'a', seq: 4, op: { f: 'cas', key: 'x', from: { n: 1 }, to: 7 } })).toEqual({ f: 'cas', ok: true });
  });
});
