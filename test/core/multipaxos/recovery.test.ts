// Recovery of the Multi-Paxos log after a change of leader, and trims that
// race with it: a new leader re-proposes what the promises reported a window
// at a time, splits large accepts, re-sends only to acceptors that have not
// voted, and drops slots a trim has put out of reach; an acceptor answers a
// repeated accept without writing it again.
import { describe, expect, it } from 'vitest';
import { membership } from '../../../src/core/ids.js';
import {
  initMpAcceptor,
  initMpLearner,
  initMpProposer,
  mpConfig,
  mpLearnerInvariants,
  mpProposerInvariants,
  stepMpAcceptor,
  stepMpProposer,
  type AcceptedEntry,
  type Command,
  type MpConfig,
  type MpEffect,
  type MpMessage,
  type MpProposerState,
} from '../../../src/core/multipaxos/index.js';
import { kvMachine } from '../../../src/machines/kv/index.js';
import { standFor } from './elect.js';

const b = (round: number, proposer = 'p1') => ({ round, proposer });
const cmd = (seq: number): Command => ({ clientId: 'c0', seq, op: { f: 'write', key: 'k', value: seq } });
const sends = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'send' ? [e] : e.type === 'persist' ? e.then.filter((t) => t.type === 'send') : []));
const accepts = (fx: readonly MpEffect[]) => sends(fx).flatMap((e) => (e.msg.type === 'accept' ? [{ to: e.to, slots: e.msg.entries.map((x) => x.slot), entries: e.msg.entries }] : []));

/** Steps the proposer and checks its invariants after the step, as every host does. */
function step(s: MpProposerState, msg: MpMessage | 'retry'): { state: MpProposerState; effects: MpEffect[] } {
  const r = stepMpProposer(s, msg === 'retry' ? { type: 'timeout', timer: 'retry' } : { type: 'receive', msg }, 0.5);
  mpProposerInvariants(r.state);
  return r;
}

/** p1 elected at 1.p1 by a1 and a2, which report `entries` (a1) and nothing (a2). */
function elect(config: MpConfig, entries: AcceptedEntry[] = [], trimmed = 0): { state: MpProposerState; effects: MpEffect[] } {
  const s = standFor(initMpProposer('p1', config)).state;
  const one = step(s, { type: 'promise', from: 'a1', ballot: b(1), entries, trimmed });
  return step(one.state, { type: 'promise', from: 'a2', ballot: b(1), entries: [], trimmed });
}

/** a1 and a2 accept `slots` at 1.p1. */
function choose(s: MpProposerState, slots: number[]): { state: MpProposerState; effects: MpEffect[] } {
  const one = step(s, { type: 'accepted', from: 'a1', ballot: b(1), slots });
  return step(one.state, { type: 'accepted', from: 'a2', ballot: b(1), slots });
}

describe('windowed recovery', () => {
  const config = mpConfig(membership(2, 3, 1), { window: 4 });
  // 40 slots to recover: every third one was accepted at some ballot (two reports for slot 0), the rest are gaps.
  const reported: AcceptedEntry[] = [];
  for (let slot = 0; slot < 40; slot += 3) reported.push({ slot, ballot: b(0, 'p2'), value: [cmd(slot)] });
  reported.push({ slot: 0, ballot: { round: 0, proposer: 'p1' }, value: [cmd(999)] });

  it('puts at most `window` re-proposed slots in flight, and the rest follow in slot order as slots are chosen', () => {
    let r = elect(config, reported);
    expect(r.state.nextSlot).toBe(40);
    const sent: number[] = [];
    const valueOf = new Map<number, unknown>();
    for (let round = 0; round < 20 && r.state.commitIndex < 40; round++) {
      for (const a of accepts(r.effects).filter((x) => x.to === 'a1')) {
        for (const e of a.entries) valueOf.set(e.slot, e.value);
        sent.push(...a.slots);
      }
      expect(r.state.inflight.size).toBeLessThanOrEqual(4);
      r = choose(r.state, [...r.state.inflight.keys()]);
    }
    expect(r.state.commitIndex).toBe(40);
    expect(sent).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // The highest-ballot value reported (0.p2 > 0.p1 for slot 0), a no-op where nothing was reported.
    expect(valueOf.get(0)).toEqual([cmd(0)]);
    expect(valueOf.get(3)).toEqual([cmd(3)]);
    expect(valueOf.get(1)).toEqual([]);
    expect(valueOf.get(38)).toEqual([]);
  });

  it('new commands wait behind recovery and take slots after it', () => {
    const r = elect(config, reported);
    const req = stepMpProposer(r.state, { type: 'request', commands: [cmd(1000)] }, 0.5);
    mpProposerInvariants(req.state);
    expect(accepts(req.effects)).toEqual([]);
    expect(req.state.queue).toHaveLength(1);
  });

  it('control: with the unwindowed-recovery bug every owed slot goes in flight at once, and the checks fail', () => {
    const buggy = mpConfig(membership(2, 3, 1), { window: 4, bugs: { unwindowedRecovery: true } });
    const s = standFor(initMpProposer('p1', buggy)).state;
    const one = stepMpProposer(s, { type: 'receive', msg: { type: 'promise', from: 'a1', ballot: b(1), entries: reported, trimmed: 0 } }, 0.5).state;
    // The election's first heartbeat asserts the window already, within the step; the state (stepped in place) breaks the invariant too.
    expect(() => stepMpProposer(one, { type: 'receive', msg: { type: 'promise', from: 'a2', ballot: b(1), entries: [], trimmed: 0 } }, 0.5)).toThrow(/40 slots in flight, window 4/);
    expect(one.inflight.size).toBe(40);
    expect(() => mpProposerInvariants(one)).toThrow(/40 slots in flight, window 4/);
  });

  it('splits an accept over messages of at most maxAcceptBytes of batches (a bigger slot alone)', () => {
    const big: AcceptedEntry[] = [0, 1, 2, 3].map((slot) => ({ slot, ballot: b(0, 'p2'), value: [{ clientId: 'c0', seq: slot, op: { f: 'write', key: 'k', value: 'x'.repeat(slot === 2 ? 500 : 100) } }] }));
    const r = elect(mpConfig(membership(2, 3, 1), { window: 4, maxAcceptBytes: 400 }), big);
    const toA1 = accepts(r.effects).filter((a) => a.to === 'a1');
    expect(toA1.map((a) => a.slots)).toEqual([[0, 1], [2], [3]]);
    expect(accepts(r.effects).filter((a) => a.to === 'a2').map((a) => a.slots)).toEqual([[0, 1], [2], [3]]);
  });

  it('a retry goes to each acceptor only with the slots it has not voted for', () => {
    let r = elect(config, reported);
    r = step(r.state, { type: 'accepted', from: 'a1', ballot: b(1), slots: [0, 1, 2, 3] });
    r = step(r.state, { type: 'accepted', from: 'a3', ballot: b(1), slots: [1] });
    // Slot 1 is chosen (a1, a3); slot 4 waits for slot 0 (α = window: a slot goes only once every slot α below it is chosen); a1 voted for 0, 2, 3.
    expect([...r.state.inflight.keys()]).toEqual([0, 2, 3]);
    let retry = step(r.state, 'retry');
    let bySlots = Object.fromEntries(accepts(retry.effects).map((a) => [a.to, a.slots]));
    expect(bySlots).toEqual({ a2: [0, 2, 3], a3: [0, 2, 3] });
    // Slot 0 chosen, so the commit index is 2: slots 4 and 5 go, and a retry sends them to a1 too.
    r = step(retry.state, { type: 'accepted', from: 'a3', ballot: b(1), slots: [0] });
    expect([...r.state.inflight.keys()]).toEqual([2, 3, 4, 5]);
    retry = step(r.state, 'retry');
    bySlots = Object.fromEntries(accepts(retry.effects).map((a) => [a.to, a.slots]));
    expect(bySlots).toEqual({ a1: [4, 5], a2: [2, 3, 4, 5], a3: [2, 3, 4, 5] });
    expect(retry.effects).toContainEqual({ type: 'setTimer', timer: 'retry', delay: config.retryMs });
  });
});

describe('trims and slots in flight', () => {
  const config = mpConfig(membership(2, 3, 1), { window: 4 });
  const reported: AcceptedEntry[] = [0, 1, 2, 3, 4, 5, 6, 7].map((slot) => ({ slot, ballot: b(0, 'p2'), value: [cmd(slot)] }));

  it('a trim drops the slots in flight and owed below it, and the window refills from there', () => {
    const r = elect(config, reported);
    expect([...r.state.inflight.keys()]).toEqual([0, 1, 2, 3]);
    // An acceptor that the old leader trimmed refuses 0..5 and says so: 0..5 are chosen and applied everywhere.
    const t = step(r.state, { type: 'trim', from: 'a1', upTo: 6 });
    expect(t.state.trimmed).toBe(6);
    expect([...t.state.inflight.keys()].filter((slot) => slot < 6)).toEqual([]);
    expect(accepts(t.effects).find((a) => a.to === 'a1')?.slots).toEqual([6, 7]);
    expect(t.state.commitIndex).toBe(6);
    const done = choose(t.state, [6, 7]);
    expect(done.state.commitIndex).toBe(8);
    expect(done.state.inflight.size).toBe(0);
  });

  it('control: with the old trim (in-flight slots kept) the invariant check fails', () => {
    const buggy = mpConfig(membership(2, 3, 1), { window: 4, bugs: { trimKeepsInflight: true } });
    const r = elect(buggy, reported);
    const t = stepMpProposer(r.state, { type: 'receive', msg: { type: 'trim', from: 'a1', upTo: 6 } }, 0.5);
    expect([...t.state.inflight.keys()]).toEqual([0, 1, 2, 3]);
    expect(() => mpProposerInvariants(t.state)).toThrow(/slot 0 in flight outside \[trimmed 6/);
  });

  it('an acceptor that refuses accepts below its trim point tells the sender where the log starts', () => {
    let a = initMpAcceptor('a1', config);
    a = stepMpAcceptor(a, { type: 'receive', msg: { type: 'prepare', from: 'p1', ballot: b(1), fromSlot: 0 } }).state;
    a = stepMpAcceptor(a, { type: 'receive', msg: { type: 'accept', from: 'p1', ballot: b(1), entries: [0, 1, 2, 3, 4, 5].map((slot) => ({ slot, value: [] })) } }).state;
    a = stepMpAcceptor(a, { type: 'receive', msg: { type: 'trim', from: 'p1', upTo: 6 } }).state;
    const r = stepMpAcceptor(a, { type: 'receive', msg: { type: 'accept', from: 'p1', ballot: b(1), entries: [{ slot: 5, value: [] }, { slot: 6, value: [] }] } });
    expect(sends(r.effects).map((e) => e.msg)).toEqual([
      { type: 'accepted', from: 'a1', ballot: b(1), slots: [6] },
      { type: 'trim', from: 'a1', upTo: 6 },
    ]);
    // and the proposer takes it from an acceptor, not from a learner
    const p = elect(config, reported).state;
    expect(step(p, { type: 'trim', from: 'l1', upTo: 6 }).effects).toEqual([{ type: 'ignore', reason: 'trim from l1, neither proposer nor acceptor' }]);
    expect(step(p, { type: 'trim', from: 'a1', upTo: 6 }).state.trimmed).toBe(6);
  });

  it('after a trim, a follower that sees a gap still asks the leader to catch it up', () => {
    let f = initMpProposer('p2', config);
    f = stepMpProposer(f, { type: 'receive', msg: { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 10 } }, 0.5).state;
    f = stepMpProposer(f, { type: 'timeout', timer: 'catchup' }, 0.5).state;
    f = stepMpProposer(f, { type: 'receive', msg: { type: 'trim', from: 'p1', upTo: 10 } }, 0.5).state;
    expect(f.commitIndex).toBe(10);
    // Slot 12 arrives, 10 and 11 do not: chosen.size (1) is not above commitIndex (10), but there is a gap.
    const r = stepMpProposer(f, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot: 12, value: [] }] } }, 0.5);
    mpProposerInvariants(r.state);
    expect(sends(r.effects).map((e) => e.msg)).toEqual([{ type: 'catchup', from: 'p2', fromSlot: 10 }]);
  });
});

describe('an acceptor answering a repeated accept', () => {
  const config = mpConfig(membership(2, 3, 1));
  const accept = (ballot = b(1), value = [cmd(1)]): MpMessage => ({ type: 'accept', from: ballot.proposer, ballot, entries: [{ slot: 0, value }] });

  it('answers again without a record when it holds the slot at that ballot with that value', () => {
    const first = stepMpAcceptor(initMpAcceptor('a1', config), { type: 'receive', msg: accept() });
    expect(first.effects[0]).toMatchObject({ type: 'persist', records: [{ kind: 'promised' }, { kind: 'accepted', slot: 0 }] });
    // Another batch object with the same commands, as a retry decoded from the wire would be.
    const again = stepMpAcceptor(first.state, { type: 'receive', msg: accept(b(1), [cmd(1)]) });
    expect(again.effects).toEqual([{ type: 'persist', records: [], then: [{ type: 'send', to: 'p1', msg: { type: 'accepted', from: 'a1', ballot: b(1), slots: [0] } }] }]);
  });

  it('writes when the ballot or the value differs', () => {
    const first = stepMpAcceptor(initMpAcceptor('a1', config), { type: 'receive', msg: accept() }).state;
    expect(stepMpAcceptor(first, { type: 'receive', msg: accept(b(2)) }).effects[0]).toMatchObject({ records: [{ kind: 'promised' }, { kind: 'accepted', ballot: b(2) }] });
    const other = stepMpAcceptor(initMpAcceptor('a1', config), { type: 'receive', msg: accept() }).state;
    expect(stepMpAcceptor(other, { type: 'receive', msg: accept(b(1), [cmd(2)]) }).effects[0]).toMatchObject({ records: [{ kind: 'accepted', value: [cmd(2)] }] });
  });
});

describe('learner invariants', () => {
  it('control: a pending slot at or below the next slot fails the check', () => {
    const s = initMpLearner('l1', mpConfig(membership(1, 1, 1)), kvMachine);
    s.nextSlot = 5;
    s.pending.set(7, []);
    expect(() => mpLearnerInvariants(s)).not.toThrow();
    s.pending.set(3, []);
    expect(() => mpLearnerInvariants(s)).toThrow(/pending slot 3 not above the next slot 5/);
  });
});
