// Changing the proposers through the log: the chain of trust of
// core/multipaxos/views.ts. An actor takes as proposers those of its
// configuration and of every view it knows; views reach it from the log or
// from a proposer it trusts; a removed proposer finishes its views, steps
// down, and stands for no election; an actor that hears from a proposer it
// does not know asks the proposers it trusts.
import { describe, expect, it } from 'vitest';
import { membership, type Membership } from '../../../src/core/ids.js';
import { initMpAcceptor, initMpLearner, initMpProposer, mpAcceptorInvariants, mpConfig, mpProposerInvariants, stepMpAcceptor, stepMpLearner, stepMpProposer, type Command, type MpEffect, type MpMessage, type MpProposerState, type MpRecord } from '../../../src/core/multipaxos/index.js';
import { announcesViews, initialViews, mergeViews, reconfigProblem, trustedProposers, type View } from '../../../src/core/multipaxos/views.js';
import { validateMpMessage } from '../../../src/core/multipaxos/wire.js';
import { kvMachine } from '../../../src/machines/kv/index.js';
import { standFor } from './elect.js';

const m0 = membership(2, 3, 1);
/** View 1: p2 stays, p3 joins, p1 leaves. */
const m1: Membership = { ...m0, proposers: ['p2', 'p3'] };
const v0: View = { epoch: 0, from: 0, members: m0 };
const v1: View = { epoch: 1, from: 2, members: m1 };
const reconfig = (epoch: number, members: Membership): Command => ({ clientId: 'adm', seq: 1, op: {}, reconfig: { epoch, members } });
const write = (seq: number): Command => ({ clientId: 'c1', seq, op: { f: 'write', key: 'k', value: seq } });
const b = (round: number, proposer = 'p1') => ({ round, proposer });
const sends = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'send' ? [e] : e.type === 'persist' ? e.then.filter((t) => t.type === 'send') : []));
const records = (fx: readonly MpEffect[]): MpRecord[] => fx.flatMap((e) => (e.type === 'persist' ? [...e.records] : []));
const ignored = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'ignore' ? [e.reason] : []));

describe('the trust rules of views', () => {
  it('trusts the configured proposers and those of every view given, each once', () => {
    expect(trustedProposers(['p1', 'p2'], undefined)).toEqual(['p1', 'p2']);
    expect(trustedProposers(['p1', 'p2'], [v0, v1])).toEqual(['p1', 'p2', 'p3']);
    expect(trustedProposers(['p1'], [v1], [{ ...v1, epoch: 2, from: 5, members: { ...m1, proposers: ['p4'] } }])).toEqual(['p1', 'p2', 'p3', 'p4']);
  });

  it('announces views only while they name proposers other than the configured ones', () => {
    expect(announcesViews(m0.proposers, [v0])).toBe(false);
    expect(announcesViews(m0.proposers, [v0, v1])).toBe(true);
    expect(announcesViews(m1.proposers, [v1])).toBe(false);
  });

  it('merges only newer views, which must start past the newest known', () => {
    expect(mergeViews(undefined, [v0, v1])).toEqual([v0, v1]);
    expect(mergeViews([v0], [v0, v1])).toEqual([v0, v1]);
    expect(mergeViews([v0, v1], [v0])).toBeNull();
    expect(mergeViews([v0, v1], [v1])).toBeNull();
    // A view 1 that starts where view 0 does is not from the same log.
    expect(mergeViews([{ ...v0, from: 3 }], [{ ...v1, from: 3 }])).toBeNull();
    // A gap: the incoming views alone.
    const v2: View = { epoch: 2, from: 9, members: m0 };
    expect(mergeViews([v0], [v2])).toEqual([v2]);
  });

  it('lets the proposers change, never emptied, and keeps every actor in its role', () => {
    expect(reconfigProblem(m0, m1)).toBeNull();
    expect(reconfigProblem(m0, { ...m0, proposers: [] })).toMatch(/at least one member/);
    expect(reconfigProblem(m0, { ...m0, proposers: ['l1'], learners: ['l1', 'l2'] })).toMatch(/named twice/);
    expect(reconfigProblem(m0, { ...m0, proposers: ['l1'], learners: ['l2'] })).toMatch(/l1 is one of the learners/);
  });

  it('a heartbeat carries views on the wire, checked like any', () => {
    const hb = { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 2 };
    expect(validateMpMessage({ ...hb, views: [v0, v1] }, kvMachine)).toMatchObject({ ok: true, msg: { views: [v0, v1] } });
    expect(validateMpMessage({ ...hb, views: [v1, v0] }, kvMachine)).toMatchObject({ ok: false, reason: expect.stringMatching(/heartbeat: views/) });
    expect(validateMpMessage(hb, kvMachine)).toMatchObject({ ok: true });
  });
});

describe('the acceptor', () => {
  const config = mpConfig(m0, { window: 2 });
  const step = (s: ReturnType<typeof initMpAcceptor>, msg: MpMessage) => {
    const r = stepMpAcceptor(s, { type: 'receive', msg });
    mpAcceptorInvariants(r.state);
    return r;
  };
  const promised = () => step(initMpAcceptor('a1', config), { type: 'prepare', from: 'p1', ballot: b(1), fromSlot: 0 }).state;

  it('takes views from the heartbeat of a proposer it trusts at its promise, persists them, and trusts their proposers', () => {
    const r = step(promised(), { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 2, views: [v0, v1] });
    expect(records(r.effects)).toEqual([{ kind: 'trim', upTo: 0, views: [v0, v1] }]);
    expect(sends(r.effects).map((e) => e.msg.type)).toEqual(['accepted']);
    expect(r.state.trusted).toEqual(['p1', 'p2', 'p3']);
    // p3's prepare now passes.
    expect(sends(step(r.state, { type: 'prepare', from: 'p3', ballot: b(2, 'p3'), fromSlot: 2 }).effects).map((e) => e.msg.type)).toEqual(['promise']);
    // A restart keeps them: the trim record at the same point is read back.
    const restarted = initMpAcceptor('a1', config, [{ kind: 'promised', ballot: b(1) }, ...records(r.effects)]);
    expect(restarted.trusted).toEqual(['p1', 'p2', 'p3']);
  });

  it('takes views that no longer name the leader sending them (a removed leader, still finishing its views)', () => {
    // Found by a kv-sim sweep (seed 161 of --profile reconfig): the acceptor asserted that the sender of the views
    // was among the proposers they make it trust, which a removed leader's are not.
    const told = step(promised(), { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 2, views: [v0, v1] }).state;
    const fromP3 = step(told, { type: 'prepare', from: 'p3', ballot: b(2, 'p3'), fromSlot: 2 }).state;
    // Views from p3's trim point, past a view 2 this acceptor never heard of: they replace its own, and do not name p3.
    const v3: View = { epoch: 3, from: 9, members: { ...m0, proposers: ['p4'] } };
    const r = step(fromP3, { type: 'heartbeat', from: 'p3', ballot: b(2, 'p3'), commitIndex: 9, views: [v3] });
    expect(r.state.views).toEqual([v3]);
    expect(r.state.trusted).toEqual(['p1', 'p2', 'p4']);
    expect(sends(r.effects).map((e) => e.msg.type)).toEqual(['accepted']);
  });

  it('ignores views from a proposer it does not trust, or on a heartbeat below its promise', () => {
    const a = promised();
    const foreign = step(a, { type: 'heartbeat', from: 'p3', ballot: b(5, 'p3'), commitIndex: 2, views: [v0, v1] });
    expect(foreign.state.trusted).toEqual(['p1', 'p2']);
    expect(records(foreign.effects)).toEqual([]);
    const a2 = step(initMpAcceptor('a1', config), { type: 'prepare', from: 'p2', ballot: b(3, 'p2'), fromSlot: 0 }).state;
    const stale = step(a2, { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 2, views: [v0, v1] });
    expect(sends(stale.effects).map((e) => e.msg.type)).toEqual(['nack']);
    expect(stale.state.views).toBeUndefined();
  });

  it('asks the proposers it trusts for the views on a ballot from one it does not know, once per period', () => {
    const a = promised();
    const r = step(a, { type: 'prevote', from: 'p3', ballot: b(2, 'p3') });
    expect(ignored(r.effects)).toEqual(['prevote 2.p3: ballot owner p3 is not a proposer']);
    expect(sends(r.effects).map((e) => [e.to, e.msg.type])).toEqual([['p1', 'catchup'], ['p2', 'catchup']]);
    expect(sends(step(r.state, { type: 'prepare', from: 'p3', ballot: b(2, 'p3'), fromSlot: 0 }).effects)).toEqual([]);
    // Not for a known acceptor's or learner's ballot (never a proposer), nor for a ballot its sender does not own.
    expect(sends(step(promised(), { type: 'prevote', from: 'a2', ballot: b(2, 'a2') }).effects)).toEqual([]);
    expect(sends(step(promised(), { type: 'prevote', from: 'p9', ballot: b(2, 'p3') }).effects)).toEqual([]);
    // The next period, it asks again.
    const later = stepMpAcceptor(r.state, { type: 'timeout', timer: 'election' }).state;
    expect(sends(step(later, { type: 'prevote', from: 'p3', ballot: b(2, 'p3') }).effects)).toHaveLength(2);
  });

  it('takes newer views on a trim from any proposer it trusts, without moving its trim point', () => {
    const a = promised();
    const r = step(a, { type: 'trim', from: 'p2', upTo: 7, views: [v0, v1] });
    expect(r.state.trimmed).toBe(0);
    expect(records(r.effects)).toEqual([{ kind: 'trim', upTo: 0, views: [v0, v1] }]);
    expect(r.state.trusted).toContain('p3');
    // Nothing new: ignored, as before.
    expect(ignored(step(r.state, { type: 'trim', from: 'p2', upTo: 7, views: [v0, v1] }).effects)).toEqual(['trim to 7 from p2: not the owner of the promise 1.p1']);
    // From a learner: ignored whatever it carries.
    expect(ignored(step(a, { type: 'trim', from: 'l1', upTo: 0, views: [v0, v1] }).effects)).toEqual(['trim from non-proposer l1']);
  });
});

describe('the learner', () => {
  const config = mpConfig(m0, { window: 2 });
  const recv = (s: ReturnType<typeof initMpLearner>, msg: MpMessage) => stepMpLearner(s, { type: 'receive', msg });

  it('trusts the proposers of the views it applies, and of those a trusted leader announces', () => {
    const l = initMpLearner('l1', config, kvMachine);
    expect(ignored(recv(l, { type: 'commit', from: 'p3', entries: [{ slot: 0, value: [write(1)] }] }).effects)).toEqual(['commit from non-proposer p3']);
    const applied = recv(initMpLearner('l1', config, kvMachine), { type: 'commit', from: 'p1', entries: [{ slot: 0, value: [reconfig(0, m1)] }] }).state;
    expect(recv(applied, { type: 'commit', from: 'p3', entries: [{ slot: 1, value: [write(1)] }] }).state.nextSlot).toBe(2);
    const told = recv(initMpLearner('l1', config, kvMachine), { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 0, views: [v0, v1] }).state;
    expect(told.announced).toEqual([v0, v1]);
    expect(told.views).toHaveLength(1);
    expect(recv(told, { type: 'heartbeat', from: 'p3', ballot: b(2, 'p3'), commitIndex: 0 }).state.leader).toBe('p3');
  });

  it('asks the proposers it trusts to catch it up when a proposer it does not know says the log is ahead', () => {
    const l = initMpLearner('l1', config, kvMachine);
    const r = recv(l, { type: 'heartbeat', from: 'p3', ballot: b(2, 'p3'), commitIndex: 5 });
    expect(r.state.leader).toBeNull();
    expect(r.state.knownCommit).toBe(0);
    expect(sends(r.effects).map((e) => [e.to, e.msg])).toEqual([
      ['p1', { type: 'catchup', from: 'l1', fromSlot: 0 }],
      ['p2', { type: 'catchup', from: 'l1', fromSlot: 0 }],
    ]);
    // Not when it is not ahead, nor for a known acceptor.
    expect(sends(recv(l, { type: 'heartbeat', from: 'p3', ballot: b(2, 'p3'), commitIndex: 0 }).effects)).toEqual([]);
    expect(sends(recv(initMpLearner('l1', config, kvMachine), { type: 'heartbeat', from: 'a1', ballot: b(2, 'a1'), commitIndex: 5 }).effects)).toEqual([]);
  });
});

describe('the proposer', () => {
  const config = mpConfig(m0, { window: 2, batchMax: 1, compactEvery: 0 });
  const step = (s: MpProposerState, msg: MpMessage) => {
    const r = stepMpProposer(s, { type: 'receive', msg }, 0.5);
    mpProposerInvariants(r.state);
    return r;
  };
  const timeout = (s: MpProposerState, timer: 'election' | 'heartbeat' | 'catchup') => {
    const r = stepMpProposer(s, { type: 'timeout', timer }, 0.5);
    mpProposerInvariants(r.state);
    return r;
  };
  /** p1 leading view 0 with every acceptor's promise. */
  function leader(): MpProposerState {
    let s = standFor(initMpProposer('p1', config)).state;
    for (const a of ['a1', 'a2', 'a3']) s = step(s, { type: 'promise', from: a, ballot: b(1), entries: [], trimmed: 0 }).state;
    return s;
  }
  /** p1 leading with view 1 (without p1) chosen at slot 0 and slot 1 chosen: its last view is done. */
  function removedLeader(): MpProposerState {
    let s = stepMpProposer(leader(), { type: 'request', commands: [reconfig(0, m1)] }, 0.5).state;
    for (const slot of [0, 1]) for (const a of ['a1', 'a2']) s = step(s, { type: 'accepted', from: a, ballot: b(1), slots: [slot] }).state;
    return s;
  }

  it('a removed leader proposes nothing in a view that does not name it, and steps down a quorum check after it is done', () => {
    let s = removedLeader();
    expect(s.commitIndex).toBe(2);
    const r = stepMpProposer(s, { type: 'request', commands: [write(1)] }, 0.5);
    expect(sends(r.effects)).toEqual([]);
    expect(r.state.queue).toHaveLength(1);
    s = r.state;
    // Commits and heartbeats go to p3 too, and heartbeats carry the views (they name a proposer p1 was not configured with).
    const hb = timeout(s, 'heartbeat');
    expect(sends(hb.effects).map((e) => e.to)).toEqual(['p2', 'p3', 'l1', 'a1', 'a2', 'a3']);
    expect(sends(hb.effects).every((e) => e.msg.type === 'heartbeat' && e.msg.views?.length === 2)).toBe(true);
    for (const a of ['a1', 'a2']) s = step(s, { type: 'accepted', from: a, ballot: b(1), slots: [] }).state;
    const first = timeout(s, 'election');
    expect(first.state.mode).toBe('leader');
    expect(first.state.leaving).toBe(true);
    const second = timeout(first.state, 'election');
    expect(second.state.mode).toBe('follower');
    expect(second.effects).toContainEqual({ type: 'reject', commands: [write(1)], leader: null });
    expect(ignored(second.effects)).toEqual(['abdicate: not a proposer of view 1, which decides from slot 2']);
  });

  it('a removed proposer stands for no election, and asks the proposers it trusts for the log', () => {
    const s = initMpProposer('p1', config, 1, null, { base: 2, views: [v1] });
    const r = timeout(s, 'election');
    expect(r.state.mode).toBe('follower');
    expect(ignored(r.effects)).toEqual(['p1 is not a proposer of view 1: no election']);
    expect(sends(r.effects).map((e) => [e.to, e.msg.type])).toEqual([['p2', 'catchup'], ['p3', 'catchup']]);
    // Once asked, it takes a trim from any of them, not only from its leader.
    const trimmed = step(r.state, { type: 'trim', from: 'p3', upTo: 5, views: [v1] });
    expect(trimmed.state.commitIndex).toBe(5);
    expect(ignored(step(initMpProposer('p1', config, 1, null, { base: 2, views: [v1] }), { type: 'trim', from: 'p3', upTo: 5, views: [v1] }).effects)).toEqual(['trim to 5 from p3, not the leader this proposer follows (none)']);
  });

  it('a spare learns it was added from a heartbeat its configured leader sends, then stands', () => {
    const spare = initMpProposer('p3', config);
    expect(ignored(timeout(spare, 'election').effects)).toEqual(['p3 is not a proposer of view 0: no election']);
    const told = step(spare, { type: 'heartbeat', from: 'p1', ballot: b(1), commitIndex: 0, views: [v0, v1] });
    expect(told.state.announced).toEqual([v0, v1]);
    expect(told.state.leader).toBe('p1');
    const stand = timeout(told.state, 'election');
    expect(stand.state.mode).toBe('precandidate');
    expect(sends(stand.effects).map((e) => e.msg.type)).toEqual(['prevote', 'prevote', 'prevote']);
  });

  it('a spare takes the views a proposer it trusts answers with, even on a trim it does not otherwise take', () => {
    const r = step(initMpProposer('p3', config), { type: 'trim', from: 'p1', upTo: 0, views: [v0, v1] });
    expect(r.state.announced).toEqual([v0, v1]);
    expect(r.state.commitIndex).toBe(0);
    expect(timeout(r.state, 'election').state.mode).toBe('precandidate');
    // From a proposer it does not trust: nothing.
    expect(step(initMpProposer('p3', config), { type: 'trim', from: 'p9', upTo: 0, views: [v0, v1] }).state.announced).toBeUndefined();
  });

  it('asks the proposers it trusts to catch it up on a heartbeat from a leader it does not know, ahead of it', () => {
    const p = initMpProposer('p2', config);
    const r = step(p, { type: 'heartbeat', from: 'p3', ballot: b(2, 'p3'), commitIndex: 4 });
    expect(r.state.leader).toBeNull();
    expect(sends(r.effects).map((e) => [e.to, e.msg.type])).toEqual([['p1', 'catchup']]);
    expect(sends(step(p, { type: 'heartbeat', from: 'a1', ballot: b(2, 'a1'), commitIndex: 4 }).effects)).toEqual([]);
  });

  it('following, answers an actor it neither trusts nor knows as a learner with the views it knows, not with slots', () => {
    let s = removedLeader();
    s = timeout(timeout(s, 'election').state, 'election').state;
    expect(s.mode).toBe('follower');
    const r = step(s, { type: 'catchup', from: 'p9', fromSlot: 0 });
    expect(sends(r.effects).map((e) => e.msg)).toEqual([{ type: 'trim', from: 'p1', upTo: 0, views: [v0, v1] }]);
    // A learner it knows gets the slots, as from any proposer.
    expect(sends(step(s, { type: 'catchup', from: 'l1', fromSlot: 0 }).effects).map((e) => e.msg.type)).toEqual(['commit']);
    // A learner takes views from a trim of a proposer it trusts, and then trusts p3.
    const l = stepMpLearner(initMpLearner('l1', mpConfig(m0, { window: 2 }), kvMachine), { type: 'receive', msg: { type: 'trim', from: 'p1', upTo: 0, views: [v0, v1] } }).state;
    expect(l.announced).toEqual([v0, v1]);
    expect(stepMpLearner(l, { type: 'receive', msg: { type: 'heartbeat', from: 'p3', ballot: b(2, 'p3'), commitIndex: 0 } }).state.leader).toBe('p3');
  });

  it('answers an acceptor that asks for the views with the views it knows, if any but view 0', () => {
    const s = removedLeader();
    const r = step(s, { type: 'catchup', from: 'a3', fromSlot: 0 });
    expect(sends(r.effects).map((e) => e.msg)).toEqual([{ type: 'trim', from: 'p1', upTo: 0, views: [v0, v1] }]);
    expect(ignored(step(leader(), { type: 'catchup', from: 'a3', fromSlot: 0 }).effects)).toEqual(['views asked for by a3: none but view 0 known']);
  });

  it('asks each acceptor of the new views to promise once, from its commit index (found by a kv-sim sweep)', () => {
    // An acceptor of two new views was asked from each view's start; its promise from the later one, arriving first,
    // was taken, and the leader filled a chosen slot of the earlier view with a no-op (--reconfig 0.002, seed 105).
    const vA: View = { epoch: 1, from: 2, members: { ...m0, acceptors: ['a1', 'a2', 'a4'] } };
    const vB: View = { epoch: 2, from: 4, members: { ...m0, acceptors: ['a2', 'a4', 'a5'] } };
    let s = standFor(initMpProposer('p1', config, 0, null, { base: 0, views: [v0, vA, vB] })).state;
    s = step(s, { type: 'promise', from: 'a1', ballot: b(1), entries: [], trimmed: 0 }).state;
    const r = step(s, { type: 'promise', from: 'a2', ballot: b(1), entries: [], trimmed: 0 });
    expect(r.state.mode).toBe('leader');
    expect(sends(r.effects).flatMap((e) => (e.msg.type === 'prepare' ? [[e.to, e.msg.fromSlot]] : []))).toEqual([['a4', 0], ['a5', 0]]);
  });

  it('serves no read until every view from its commit index has promised (found by a kv-sim sweep)', () => {
    // A leader behind a view that one acceptor decides confirmed reads there before that acceptor's promise reported
    // the writes it had chosen, and released them at a commit index below those writes (seed 292, a stale read).
    const vX: View = { epoch: 1, from: 2, members: { ...m0, acceptors: ['a3'] } };
    let s = standFor(initMpProposer('p1', config, 0, kvMachine, { base: 0, views: [v0, vX] })).state;
    for (const a of ['a1', 'a2']) s = step(s, { type: 'promise', from: a, ballot: b(1), entries: [], trimmed: 0 }).state;
    for (const slot of [0, 1]) for (const a of ['a1', 'a2']) s = step(s, { type: 'accepted', from: a, ballot: b(1), slots: [slot] }).state;
    expect(s.commitIndex).toBe(2);
    const read: Command = { clientId: 'c1', seq: 2, op: { f: 'read', key: 'k' } };
    let r = stepMpProposer(s, { type: 'request', commands: [read] }, 0.5);
    expect(sends(r.effects).filter((e) => e.msg.type === 'confirm')).toEqual([]);
    // a3's promise reports a write chosen at slot 2: the read waits for it to be re-proposed and chosen.
    r = step(r.state, { type: 'promise', from: 'a3', ballot: b(1), entries: [{ slot: 2, ballot: b(1, 'p2'), value: [write(1)] }], trimmed: 0 });
    expect(sends(r.effects).filter((e) => e.msg.type === 'confirm')).toEqual([]);
    expect(sends(r.effects).flatMap((e) => (e.msg.type === 'accept' ? e.msg.entries.map((x) => x.slot) : []))).toEqual([2]);
    r = step(r.state, { type: 'accepted', from: 'a3', ballot: b(1), slots: [2] });
    expect(sends(r.effects).filter((e) => e.msg.type === 'confirm').map((e) => e.to)).toEqual(['a3']);
  });

  it('does not announce views that name only the configured proposers, and spares busy acceptors the heartbeat then', () => {
    const s = stepMpProposer(leader(), { type: 'request', commands: [write(1)] }, 0.5).state;
    const hb = timeout(s, 'heartbeat');
    expect(sends(hb.effects).map((e) => e.to)).toEqual(['p2', 'l1']);
    expect(sends(hb.effects).every((e) => e.msg.type === 'heartbeat' && e.msg.views === undefined)).toBe(true);
  });
});
