// Unit tests of the Multi-Paxos roles ("Paxos Made Simple" §3: one instance
// per slot, a distinguished leader that runs phase 1 once for all slots,
// gap filling with no-ops) and of the key-value state machine.
import { describe, expect, it } from 'vitest';
import { membership } from '../../../src/core/ids.js';
import {
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
  type MpLearnerState,
  type MpProposerState,
} from '../../../src/core/multipaxos/index.js';
import { kvMachine } from '../../../src/machines/kv/index.js';
import { standFor } from './elect.js';

const config = mpConfig(membership(2, 3, 1), { window: 2, batchMax: 2 });
const b = (round: number, proposer = 'p1') => ({ round, proposer });
const cmd = (seq: number, key = 'k', clientId = 'c0'): Command => ({ clientId, seq, op: { f: 'write', key, value: seq } });
const sends = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'send' ? [e] : e.type === 'persist' ? e.then.filter((t) => t.type === 'send') : []));
const recvP = (s: MpProposerState, msg: MpMessage) => stepMpProposer(s, { type: 'receive', msg }, 0.5);

/** Commits `command` alone in the learner's next slot; the answer it gives the client, or null when it gives none. */
function applyCommand(s: MpLearnerState, command: Command): unknown {
  const r = stepMpLearner(s, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot: s.nextSlot, value: [command] }] } });
  const answer = r.effects.find((e) => e.type === 'applied');
  return answer?.type === 'applied' ? answer.result : null;
}

/** p1 elected at ballot 1.p1 with empty promises from a1 and a2. */
function leader(): MpProposerState {
  let s = standFor(initMpProposer('p1', config)).state;
  s = recvP(s, { type: 'promise', from: 'a1', ballot: b(1), entries: [], trimmed: 0 }).state;
  s = recvP(s, { type: 'promise', from: 'a2', ballot: b(1), entries: [], trimmed: 0 }).state;
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
    const start = standFor(initMpProposer('p1', config));
    expect(start.effects[0]).toMatchObject({ type: 'persist', records: [{ kind: 'round', roundMax: 1 }] });
    expect(leader().mode).toBe('leader');
  });

  it('recovery: re-proposes the highest-ballot value of every reported slot and fills gaps with no-ops', () => {
    let s = standFor(initMpProposer('p1', config, 1)).state; // recovered with round 1 used: stands at round 2
    s = recvP(s, { type: 'promise', from: 'a1', ballot: b(2), entries: [{ slot: 0, ballot: b(1, 'p2'), value: [cmd(1)] }, { slot: 3, ballot: b(1, 'p2'), value: [cmd(4)] }], trimmed: 0 }).state;
    const r = recvP(s, { type: 'promise', from: 'a2', ballot: b(2), entries: [{ slot: 0, ballot: b(1, 'p1'), value: [cmd(9)] }], trimmed: 0 });
    const accept = sends(r.effects).find((e) => e.msg.type === 'accept')?.msg;
    // A window (2) at a time: slots 2 and 3 wait for the first two to be chosen.
    expect(accept).toMatchObject({
      type: 'accept',
      ballot: b(2),
      entries: [
        { slot: 0, value: [cmd(1)] }, // 1.p2 > 1.p1
        { slot: 1, value: [] },
      ],
    });
    expect(r.state.nextSlot).toBe(4);
    s = recvP(r.state, { type: 'accepted', from: 'a1', ballot: b(2), slots: [0, 1] }).state;
    const next = recvP(s, { type: 'accepted', from: 'a2', ballot: b(2), slots: [0, 1] });
    expect(sends(next.effects).find((e) => e.msg.type === 'accept')?.msg).toMatchObject({
      entries: [
        { slot: 2, value: [] },
        { slot: 3, value: [cmd(4)] },
      ],
    });
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
    let s = initMpLearner('l1', config, kvMachine);
    s = stepMpLearner(s, { type: 'receive', msg: { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 0 } }).state;
    const gap = stepMpLearner(s, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot: 1, value: [cmd(2)] }] } });
    expect(gap.state.nextSlot).toBe(0);
    expect(sends(gap.effects)[0]?.msg).toEqual({ type: 'catchup', from: 'l1', fromSlot: 0 });
    const fill = stepMpLearner(gap.state, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot: 0, value: [cmd(1)] }] } });
    expect(fill.state.nextSlot).toBe(2);
    expect(fill.effects.filter((e) => e.type === 'appliedSlot').map((e) => (e.type === 'appliedSlot' ? e.slot : -1))).toEqual([0, 1]);
  });

  it('a retried command is applied exactly once, and the retry gets the original answer', () => {
    const kv = initMpLearner('l1', config, kvMachine);
    const cas = { clientId: 'c1', seq: 1, op: { f: 'cas' as const, key: 'k', from: null, to: 1 } };
    expect(applyCommand(kv, cas)).toEqual({ f: 'cas', ok: true });
    expect(applyCommand(kv, cas)).toEqual({ f: 'cas', ok: true }); // would fail if applied twice
    expect(applyCommand(kv, { clientId: 'c1', seq: 2, op: { f: 'read', key: 'k' } })).toEqual({ f: 'read', value: 1 });
    expect(applyCommand(kv, cas)).toBeNull(); // an older duplicate: nobody waits for it
  });

  it('cas swaps only from the current value; reads of absent keys give null', () => {
    const kv = initMpLearner('l1', config, kvMachine);
    expect(applyCommand(kv, { clientId: 'a', seq: 1, op: { f: 'read', key: 'x' } })).toEqual({ f: 'read', value: null });
    expect(applyCommand(kv, { clientId: 'a', seq: 2, op: { f: 'cas', key: 'x', from: 5, to: 6 } })).toEqual({ f: 'cas', ok: false });
    expect(applyCommand(kv, { clientId: 'a', seq: 3, op: { f: 'write', key: 'x', value: { n: 1 } } })).toEqual({ f: 'write' });
    expect(applyCommand(kv, { clientId: 'a', seq: 4, op: { f: 'cas', key: 'x', from: { n: 1 }, to: 7 } })).toEqual({ f: 'cas', ok: true });
  });
});

describe('multi-paxos log compaction', () => {
  const compact = mpConfig(membership(2, 3, 2), { compactEvery: 2, batchMax: 1 });
  const commit = (slots: number[]) => ({ type: 'receive' as const, msg: { type: 'commit' as const, from: 'p1', entries: slots.map((slot) => ({ slot, value: [cmd(slot + 1)] })) } });

  it('a learner snapshots every compactEvery slots, and tells the leader only once the snapshot is durable', () => {
    let s = initMpLearner('l1', compact, kvMachine);
    s = stepMpLearner(s, { type: 'receive', msg: { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 0 } }).state;
    const r = stepMpLearner(s, commit([0, 1]));
    const persist = r.effects.find((e) => e.type === 'persist');
    expect(persist).toMatchObject({ type: 'persist', records: [{ kind: 'snapshot', upTo: 2, data: [['k', 2]] }] });
    expect(r.effects.filter((e) => e.type === 'send')).toEqual([]); // the report rides on the write
    expect(persist?.type === 'persist' && persist.then).toEqual([{ type: 'send', to: 'p1', msg: { type: 'applied', from: 'l1', upTo: 2 } }]);
  });

  it('a restarted learner comes back from its latest snapshot, sessions included', () => {
    const s = initMpLearner('l1', compact, kvMachine, [
      { kind: 'snapshot', upTo: 2, data: [['k', 1]], sessions: [] },
      { kind: 'snapshot', upTo: 4, data: [['k', 3]], sessions: [['c0', { seq: 3, result: { f: 'write' } }]] },
    ]);
    expect(s.nextSlot).toBe(4);
    expect(applyCommand(s, cmd(3))).toEqual({ f: 'write' }); // seq 3 was applied before the snapshot: not again
    expect(applyCommand(s, { clientId: 'c9', seq: 1, op: { f: 'read', key: 'k' } })).toEqual({ f: 'read', value: 3 });
  });

  it('the leader trims once every learner has snapshotted, and acceptors never accept below the trim point', () => {
    let s = standFor(initMpProposer('p1', compact)).state;
    s = recvP(s, { type: 'promise', from: 'a1', ballot: b(1), entries: [], trimmed: 0 }).state;
    s = recvP(s, { type: 'promise', from: 'a2', ballot: b(1), entries: [], trimmed: 0 }).state;
    s = stepMpProposer(s, { type: 'request', commands: [cmd(1), cmd(2)] }, 0.5).state;
    s = recvP(s, { type: 'accepted', from: 'a1', ballot: b(1), slots: [0, 1] }).state;
    s = recvP(s, { type: 'accepted', from: 'a2', ballot: b(1), slots: [0, 1] }).state;
    expect(s.commitIndex).toBe(2);
    const one = recvP(s, { type: 'applied', from: 'l1', upTo: 2 });
    expect(sends(one.effects)).toEqual([]); // l2 has not snapshotted yet
    const all = recvP(one.state, { type: 'applied', from: 'l2', upTo: 2 });
    expect(sends(all.effects).map((e) => `${e.to} ${e.msg.type}`)).toEqual(['a1 trim', 'a2 trim', 'a3 trim', 'p2 trim']);
    expect(all.state.trimmed).toBe(2);
    expect(all.state.chosen.has(0)).toBe(false);

    let a = initMpAcceptor('a1', config);
    a = stepMpAcceptor(a, { type: 'receive', msg: { type: 'prepare', from: 'p1', ballot: b(1), fromSlot: 0 } }).state;
    a = stepMpAcceptor(a, { type: 'receive', msg: { type: 'accept', from: 'p1', ballot: b(1), entries: [0, 1, 2, 3, 4].map((slot) => ({ slot, value: [] })) } }).state;
    a = stepMpAcceptor(a, { type: 'receive', msg: { type: 'trim', from: 'p1', upTo: 5 } }).state;
    const below = stepMpAcceptor(a, { type: 'receive', msg: { type: 'accept', from: 'p1', ballot: b(1), entries: [{ slot: 4, value: [] }, { slot: 5, value: [] }] } });
    expect(sends(below.effects)[0]?.msg).toMatchObject({ type: 'accepted', slots: [5] });
    const promise = stepMpAcceptor(below.state, { type: 'receive', msg: { type: 'prepare', from: 'p2', ballot: b(2, 'p2'), fromSlot: 0 } });
    expect(sends(promise.effects)[0]?.msg).toMatchObject({ type: 'promise', trimmed: 5 });
    expect(initMpAcceptor('a1', config, [{ kind: 'accepted', slot: 1, ballot: b(1), value: [] }, { kind: 'trim', upTo: 3 }]).log.size).toBe(0);
  });

  it('a learner asking for slots below the trim point is sent a peer learner\'s snapshot', () => {
    const s: MpProposerState = { ...leader(), trimmed: 10, commitIndex: 12 };
    s.learnerApplied.set('l2', 10);
    const r = recvP(s, { type: 'catchup', from: 'l1', fromSlot: 0 });
    expect(sends(r.effects)).toEqual([{ type: 'send', to: 'l2', msg: { type: 'snapshot-request', from: 'p1', learner: 'l1' } }]);
    const peer = stepMpLearner({ ...initMpLearner('l2', compact, kvMachine), nextSlot: 10 }, { type: 'receive', msg: { type: 'snapshot-request', from: 'p1', learner: 'l1' } });
    const snap = sends(peer.effects)[0]?.msg;
    expect(snap).toMatchObject({ type: 'snapshot', from: 'l2', upTo: 10 });
    const installed = stepMpLearner(initMpLearner('l1', compact, kvMachine), { type: 'receive', msg: snap as MpMessage });
    expect(installed.state.nextSlot).toBe(10);
    expect(installed.effects[0]).toEqual({ type: 'installedSnapshot', upTo: 10 });
  });
});
