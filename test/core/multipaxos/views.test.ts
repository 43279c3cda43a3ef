// Views: the replicated log changes its acceptors and learners through the
// log ("Paxos Made Simple" §3, with α = the window). These tests hold the
// rules of core/multipaxos/views.ts, and the proposer's side of them: it
// proposes only slots whose view it knows, decides each slot with its own
// view's majority, and gathers a new view's promises before deciding there.
import { describe, expect, it } from 'vitest';
import { membership, type Membership } from '../../../src/core/ids.js';
import { initMpActor } from '../../../src/core/multipaxos/actor.js';
import { initMpLearner, initMpProposer, mpConfig, mpProposerInvariants, stepMpLearner, stepMpProposer, type Command, type MpEffect, type MpMessage, type MpProposerState } from '../../../src/core/multipaxos/index.js';
import { afterBatch, afterCommand, initialViews, reconfigProblem, viewAt, viewsProblem } from '../../../src/core/multipaxos/views.js';
import { validateMpMessage } from '../../../src/core/multipaxos/wire.js';
import { kvMachine } from '../../../src/machines/kv/index.js';
import { standFor } from './elect.js';

const m0 = membership(2, 3, 2);
const m1: Membership = { proposers: ['p1', 'p2'], acceptors: ['a1', 'a2', 'a4'], learners: ['l1', 'l2'] };
const reconfig = (epoch: number, members: Membership, seq = 1): Command => ({ clientId: 'adm', seq, op: {}, reconfig: { epoch, members } });
const write = (seq: number): Command => ({ clientId: 'c1', seq, op: { f: 'write', key: 'k', value: seq } });
const b = (round: number, proposer = 'p1') => ({ round, proposer });
const sends = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'send' ? [e] : e.type === 'persist' ? e.then.filter((t) => t.type === 'send') : []));
const accepts = (fx: readonly MpEffect[]) => sends(fx).flatMap((e) => (e.msg.type === 'accept' ? [{ to: e.to, slots: e.msg.entries.map((x) => x.slot) }] : []));

describe('the rules of views', () => {
  it('a reconfiguration of the newest view makes the next one, deciding α slots after the slot it was chosen at', () => {
    const v = initialViews(m0);
    const next = afterCommand(v, 7, reconfig(0, m1), 4);
    expect(next?.map((x) => [x.epoch, x.from])).toEqual([[0, 0], [1, 11]]);
    expect(viewAt(next ?? [], 10).epoch).toBe(0);
    expect(viewAt(next ?? [], 11).members).toEqual(m1);
  });

  it('is a compare-and-set: a repeated or stale one changes nothing, so every replica agrees', () => {
    const once = afterBatch(initialViews(m0), 3, [reconfig(0, m1)], 4);
    expect(afterBatch(once, 5, [reconfig(0, m1, 2)], 4)).toBe(once);
    expect(afterCommand(once, 5, reconfig(3, m0), 4)).toBeNull();
    expect(afterCommand(once, 5, write(1), 4)).toBeNull();
  });

  it('refuses views that would lose the state, leave a role empty or move an actor to another role, and says why', () => {
    expect(reconfigProblem(m0, m1)).toBeNull();
    expect(reconfigProblem(m0, { ...m1, learners: ['l3'] })).toMatch(/keep at least one learner/);
    // The proposers may change: removed, added, replaced; never emptied.
    expect(reconfigProblem(m0, { ...m1, proposers: ['p1'] })).toBeNull();
    expect(reconfigProblem(m0, { ...m1, proposers: ['p3'] })).toBeNull();
    expect(reconfigProblem(m0, { ...m1, proposers: [] })).toMatch(/at least one member/);
    // An actor has one role for life: an acceptor or learner of the view cannot become a proposer, nor the reverse.
    expect(reconfigProblem(m0, { ...m1, proposers: ['a3'] })).toMatch(/a3 is one of the acceptors and cannot become one of the proposers/);
    expect(reconfigProblem(m0, { ...m1, acceptors: ['a1', 'a2', 'p2'], proposers: ['p1'] })).toMatch(/p2 is one of the proposers/);
    expect(reconfigProblem(m0, { ...m1, acceptors: [] })).toMatch(/at least one member/);
    expect(reconfigProblem(m0, { ...m1, acceptors: ['a1', 'l1'] })).toMatch(/named twice/);
    expect(afterCommand(initialViews(m0), 0, reconfig(0, { ...m1, learners: ['l3'] }), 4)).toBeNull();
  });

  it('checks views from the wire: consecutive epochs, increasing starts', () => {
    const good = afterBatch(initialViews(m0), 3, [reconfig(0, m1)], 4);
    expect(viewsProblem(good)).toBeNull();
    expect(viewsProblem([good[1], good[0]])).toMatch(/not consecutive/);
    expect(viewsProblem([])).toMatch(/non-empty/);
    expect(viewsProblem([{ epoch: 0, from: 0, members: { proposers: 'p1' } }])).toMatch(/bad proposers/);
  });

  it('a malformed reconfiguration command is refused on the wire; a good one passes', () => {
    const accept = (value: unknown) => validateMpMessage({ type: 'accept', from: 'p1', ballot: b(1), entries: [{ slot: 0, value: JSON.stringify([value]) }] }, kvMachine);
    expect(accept(reconfig(0, m1)).ok).toBe(true);
    expect(accept({ ...reconfig(0, m1), op: { f: 'read', key: 'k' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/carries an op/) });
    expect(accept({ ...reconfig(0, m1), reconfig: { epoch: -1, members: m1 } })).toMatchObject({ ok: false });
    expect(accept({ ...reconfig(0, m1), reconfig: { epoch: 0, members: { ...m1, extra: [] } } })).toMatchObject({ ok: false });
  });
});

describe('a learner applies reconfigurations', () => {
  it('answers with the newest view and whether this command made it, touching no session and no state machine', () => {
    let s = initMpLearner('l1', mpConfig(m0, { window: 4 }), kvMachine);
    const step = (slot: number, c: Command) => stepMpLearner(s, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot, value: [c] }] } });
    let r = step(0, reconfig(0, m1));
    s = r.state;
    expect(r.effects.find((e) => e.type === 'applied')).toMatchObject({ result: { done: true, epoch: 1, from: 4, acceptors: ['a1', 'a2', 'a4'] } });
    r = step(1, reconfig(0, m1, 2));
    expect(r.effects.find((e) => e.type === 'applied')).toMatchObject({ result: { done: false, epoch: 1 } });
    expect(r.state.sessions.size).toBe(0);
    expect(r.state.views).toHaveLength(2);
  });
});

describe('the proposer and views', () => {
  const config = mpConfig(m0, { window: 2, batchMax: 1, compactEvery: 0 });
  const step = (s: MpProposerState, msg: MpMessage) => {
    const r = stepMpProposer(s, { type: 'receive', msg }, 0.5);
    mpProposerInvariants(r.state);
    return r;
  };
  /** p1 leading view 0 with a1 and a2's promises. */
  function leader(): MpProposerState {
    let s = standFor(initMpProposer('p1', config)).state;
    s = step(s, { type: 'promise', from: 'a1', ballot: b(1), entries: [], trimmed: 0 }).state;
    return step(s, { type: 'promise', from: 'a2', ballot: b(1), entries: [], trimmed: 0 }).state;
  }

  it('proposes a slot only once every slot α below it is chosen', () => {
    let s = leader();
    const r = stepMpProposer(s, { type: 'request', commands: [write(1), write(2), write(3)] }, 0.5);
    s = r.state;
    expect(accepts(r.effects).filter((a) => a.to === 'a1').flatMap((a) => a.slots)).toEqual([0, 1]);
    // Slot 1 chosen first: slot 2 still waits for slot 0 (2 - α = 0).
    s = step(s, { type: 'accepted', from: 'a1', ballot: b(1), slots: [1] }).state;
    const after = step(s, { type: 'accepted', from: 'a2', ballot: b(1), slots: [1] });
    expect(accepts(after.effects)).toEqual([]);
    const one = step(after.state, { type: 'accepted', from: 'a1', ballot: b(1), slots: [0] });
    expect(one.state.commitIndex).toBe(0);
    const more = step(one.state, { type: 'accepted', from: 'a2', ballot: b(1), slots: [0] });
    expect(more.state.commitIndex).toBe(2);
    expect(accepts(more.effects).filter((a) => a.to === 'a1').flatMap((a) => a.slots)).toEqual([2]);
  });

  it('once a view is chosen, asks its new acceptors to promise, fills the gap with no-ops, and decides from its start with its own majority', () => {
    let s = leader();
    let r = stepMpProposer(s, { type: 'request', commands: [reconfig(0, m1)] }, 0.5);
    s = r.state;
    expect(accepts(r.effects).map((a) => a.to)).toEqual(['a1', 'a2', 'a3']);
    s = step(s, { type: 'accepted', from: 'a1', ballot: b(1), slots: [0] }).state;
    r = step(s, { type: 'accepted', from: 'a2', ballot: b(1), slots: [0] });
    s = r.state;
    // View 1 decides from 0 + α = 2: a4 is asked to promise from the commit index (1; every slot below is chosen), and slot 1 gets a no-op in view 0.
    expect(sends(r.effects).filter((e) => e.msg.type === 'prepare').map((e) => [e.to, e.msg.type === 'prepare' ? e.msg.fromSlot : -1])).toEqual([['a4', 1]]);
    expect(accepts(r.effects).map((a) => [a.to, a.slots])).toEqual([['a1', [1]], ['a2', [1]], ['a3', [1]]]);
    // Slot 1 chosen, yet slot 2 (view 1) waits for a majority of view 1 to promise: a1, a2 did, so it goes to a1, a2, a4.
    s = step(s, { type: 'accepted', from: 'a1', ballot: b(1), slots: [1] }).state;
    s = step(s, { type: 'accepted', from: 'a3', ballot: b(1), slots: [1] }).state;
    r = stepMpProposer(s, { type: 'request', commands: [write(1)] }, 0.5);
    s = r.state;
    expect(accepts(r.effects).map((a) => [a.to, a.slots])).toEqual([['a1', [2]], ['a2', [2]], ['a4', [2]]]);
    // a3 is not of view 1: its vote does not count there; a1 and a4 make a majority of view 1.
    s = step(s, { type: 'accepted', from: 'a3', ballot: b(1), slots: [2] }).state;
    s = step(s, { type: 'accepted', from: 'a1', ballot: b(1), slots: [2] }).state;
    expect(s.commitIndex).toBe(2);
    s = step(s, { type: 'accepted', from: 'a4', ballot: b(1), slots: [2] }).state;
    expect(s.commitIndex).toBe(3);
  });

  it('persists the views when its commit index reaches a new one (a log that never compacts), and a restart starts there', () => {
    let s = leader();
    s = stepMpProposer(s, { type: 'request', commands: [reconfig(0, m1)] }, 0.5).state;
    s = step(s, { type: 'accepted', from: 'a1', ballot: b(1), slots: [0] }).state;
    s = step(s, { type: 'accepted', from: 'a2', ballot: b(1), slots: [0] }).state;
    s = step(s, { type: 'accepted', from: 'a1', ballot: b(1), slots: [1] }).state;
    const r = step(s, { type: 'accepted', from: 'a2', ballot: b(1), slots: [1] });
    const records = r.effects.flatMap((e) => (e.type === 'persist' ? e.records : []));
    expect(records).toEqual([{ kind: 'views', base: 2, views: [{ epoch: 1, from: 2, members: m1 }] }]);
    const restarted = initMpActor('proposer', 'p1', config, kvMachine, [{ kind: 'round', roundMax: 1 }, ...records]);
    expect(restarted.role === 'proposer' && [restarted.commitIndex, restarted.trimmed, restarted.views.length]).toEqual([2, 2, 1]);
    // It stands for election with view 1's acceptors.
    const stand = stepMpProposer(restarted as MpProposerState, { type: 'timeout', timer: 'election' }, 0.5);
    expect(sends(stand.effects).map((e) => e.to)).toEqual(['a1', 'a2', 'a4']);
  });

  it('with compaction, persists the views only once the trim point reaches the new view (every slot below is in every snapshot)', () => {
    const compacting = mpConfig(m0, { window: 2, batchMax: 1, compactEvery: 2 });
    let s = standFor(initMpProposer('p1', compacting)).state;
    for (const a of ['a1', 'a2']) s = step(s, { type: 'promise', from: a, ballot: b(1), entries: [], trimmed: 0 }).state;
    s = stepMpProposer(s, { type: 'request', commands: [reconfig(0, m1)] }, 0.5).state;
    for (const slot of [0, 1]) for (const a of ['a1', 'a2']) s = step(s, { type: 'accepted', from: a, ballot: b(1), slots: [slot] }).state;
    expect(s.commitIndex).toBe(2);
    expect(s.savedEpoch).toBe(0);
    // Every learner snapshotted up to 2, where view 1 begins: the log is trimmed there, and the views saved.
    s = step(s, { type: 'applied', from: 'l1', upTo: 2 }).state;
    const r = step(s, { type: 'applied', from: 'l2', upTo: 2 });
    expect(r.effects.flatMap((e) => (e.type === 'persist' ? e.records : []))).toEqual([{ kind: 'views', base: 2, views: [{ epoch: 1, from: 2, members: m1 }] }]);
    expect(sends(r.effects).filter((e) => e.msg.type === 'trim').map((e) => e.to)).toEqual(['a1', 'a2', 'a4', 'p2']);
  });

  it('control: with view-before-chosen, the new view decides the very next slot, before the reconfiguration is chosen', () => {
    const buggy = mpConfig(m0, { window: 2, batchMax: 1, compactEvery: 0, bugs: { viewBeforeChosen: true } });
    let s = standFor(initMpProposer('p1', buggy)).state;
    s = stepMpProposer(s, { type: 'receive', msg: { type: 'promise', from: 'a1', ballot: b(1), entries: [], trimmed: 0 } }, 0.5).state;
    s = stepMpProposer(s, { type: 'receive', msg: { type: 'promise', from: 'a2', ballot: b(1), entries: [], trimmed: 0 } }, 0.5).state;
    const r = stepMpProposer(s, { type: 'request', commands: [reconfig(0, m1), write(1)] }, 0.5);
    // Slot 1 goes to view 1's acceptors though slot 0 (the reconfiguration) is not chosen: the rule above fails.
    expect(accepts(r.effects).filter((a) => a.slots.includes(1)).map((a) => a.to)).toEqual(['a1', 'a2', 'a4']);
    expect(r.state.views).toHaveLength(2);
  });
});
