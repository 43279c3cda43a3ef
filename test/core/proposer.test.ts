// Unit tests of the proposer, citing the rules of "Paxos Made Simple" §2.2
// and the seeds (proposal numbers unique per proposer, adopt the highest
// accepted value, retry with a higher number after a randomised backoff).
import { describe, expect, it } from 'vitest';
import {
  compareBallots,
  coreConfig,
  initProposer,
  membership,
  proposerInvariants,
  stepProposer,
  type Effect,
  type Message,
  type ProposerState,
} from '../../src/core/index.js';

const config = coreConfig(membership(2, 3, 1));
const b = (round: number, proposer = 'p1') => ({ round, proposer });
const recv = (s: ProposerState, msg: Message, random = 0.5) => stepProposer(s, { type: 'receive', msg }, random);
const propose = (s: ProposerState, value: string) => stepProposer(s, { type: 'propose', value }, 0.5);
const sent = (effects: readonly Effect[]) => effects.flatMap((e) => (e.type === 'send' ? [e] : e.type === 'persist' ? e.then.filter((t) => t.type === 'send') : []));

/** A proposer p1 that has reached phase 1 with ballot 1.p1. */
function preparing(): ProposerState {
  return propose(initProposer('p1', config), 'mine').state;
}

describe('proposer', () => {
  it('phase 1a: persists its round before any prepare leaves, then prepares every acceptor', () => {
    const r = propose(initProposer('p1', config), 'mine');
    expect(r.effects[0]).toMatchObject({ type: 'persist', record: { role: 'proposer', roundMax: 1 } });
    expect(r.effects.filter((e) => e.type === 'send')).toEqual([]);
    expect(sent(r.effects).map((e) => e.to)).toEqual(['a1', 'a2', 'a3']);
    expect(r.state.ballot).toEqual(b(1));
  });

  it('ballots are unique per proposer and totally ordered: (round, proposer id)', () => {
    expect(compareBallots(b(1, 'p1'), b(1, 'p2'))).toBeLessThan(0);
    expect(compareBallots(b(2, 'p1'), b(1, 'p2'))).toBeGreaterThan(0);
    expect(compareBallots(b(3, 'p2'), b(3, 'p2'))).toBe(0);
    const p2 = propose(initProposer('p2', config), 'v').state;
    expect(p2.ballot?.proposer).toBe('p2');
  });

  it('phase 2a: with promises from a majority and none reporting a value, proposes its own', () => {
    let s = preparing();
    s = recv(s, { type: 'promise', from: 'a1', ballot: b(1), accepted: null }).state;
    expect(s.phase).toBe('prepare');
    const r = recv(s, { type: 'promise', from: 'a3', ballot: b(1), accepted: null });
    expect(r.state.phase).toBe('accept');
    expect(sent(r.effects).map((e) => e.msg)).toEqual(['a1', 'a2', 'a3'].map(() => ({ type: 'accept', from: 'p1', ballot: b(1), value: 'mine' })));
  });

  it('phase 2a: adopts the value of the highest-numbered proposal reported in the promises', () => {
    let s: ProposerState = { ...preparing(), roundMax: 9, ballot: b(9) };
    s = recv(s, { type: 'promise', from: 'a1', ballot: b(9), accepted: { ballot: b(3, 'p2'), value: 'old' } }).state;
    const r = recv(s, { type: 'promise', from: 'a2', ballot: b(9), accepted: { ballot: b(5, 'p2'), value: 'newer' } });
    expect(r.state.proposal).toEqual({ value: 'newer' });
  });

  it('ignores duplicate promises, stale ballots and non-acceptors (a duplicate must not count twice)', () => {
    let s = preparing();
    s = recv(s, { type: 'promise', from: 'a1', ballot: b(1), accepted: null }).state;
    const dup = recv(s, { type: 'promise', from: 'a1', ballot: b(1), accepted: null });
    expect(dup.state.phase).toBe('prepare');
    expect(dup.effects[0]).toMatchObject({ type: 'ignore', reason: expect.stringMatching(/duplicate/) });
    expect(recv(s, { type: 'promise', from: 'a2', ballot: b(7), accepted: null }).effects[0]).toMatchObject({ type: 'ignore' });
    expect(recv(s, { type: 'promise', from: 'p2', ballot: b(1), accepted: null }).effects[0]).toMatchObject({ type: 'ignore' });
  });

  it('phase 3: chosen once a majority accepted; the learners are told', () => {
    let s = preparing();
    s = recv(s, { type: 'promise', from: 'a1', ballot: b(1), accepted: null }).state;
    s = recv(s, { type: 'promise', from: 'a2', ballot: b(1), accepted: null }).state;
    s = recv(s, { type: 'accepted', from: 'a1', ballot: b(1), value: 'mine' }).state;
    expect(s.phase).toBe('accept');
    const r = recv(s, { type: 'accepted', from: 'a2', ballot: b(1), value: 'mine' });
    expect(r.state.phase).toBe('done');
    expect(r.effects).toContainEqual({ type: 'chosen', ballot: b(1), value: 'mine' });
    expect(r.effects).toContainEqual({ type: 'send', to: 'l1', msg: { type: 'decide', from: 'p1', ballot: b(1), value: 'mine' } });
  });

  it('a nack above its ballot sends it into a randomised backoff; the retry uses a round above the one it saw', () => {
    const s = preparing();
    const lo = recv(s, { type: 'nack', from: 'a1', ballot: b(1), promised: b(7, 'p2') }, 0);
    const hi = recv(s, { type: 'nack', from: 'a1', ballot: b(1), promised: b(7, 'p2') }, 0.999);
    expect(lo.state.phase).toBe('backoff');
    const delay = (effects: readonly Effect[]) => effects.find((e) => e.type === 'setTimer')?.type === 'setTimer' && (effects.find((e) => e.type === 'setTimer') as { delay: number }).delay;
    expect(delay(lo.effects)).toBeLessThan(delay(hi.effects) as number); // the random draw is an input
    // With a majority heard from (a2 too), the next round beats the promises they named.
    const both = recv(lo.state, { type: 'nack', from: 'a2', ballot: b(1), promised: b(7, 'p2') }, 0);
    const retry = stepProposer(both.state, { type: 'timeout', timer: 'retry' }, 0.5);
    expect(retry.state.ballot).toEqual(b(8));
  });

  it('backoff doubles with consecutive failures, up to the cap', () => {
    let s = preparing();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = stepProposer(s, { type: 'timeout', timer: 'retry' }, 0); // phase timeout -> backoff
      delays.push((r.effects.find((e) => e.type === 'setTimer') as { delay: number }).delay);
      s = stepProposer(r.state, { type: 'timeout', timer: 'retry' }, 0).state; // backoff over -> new round
    }
    expect(delays.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(Math.max(...delays)).toBe(config.backoffMaxMs / 2);
  });

  it('a nack that is not above its own ballot (the echo of a duplicated prepare) is not a reason to give up', () => {
    const s = preparing();
    const r = recv(s, { type: 'nack', from: 'a1', ballot: b(1), promised: b(1) });
    expect(r.state.phase).toBe('prepare');
  });

  it('a restarted proposer moves past the round it persisted: it never reuses a ballot', () => {
    const s = initProposer('p1', config, { role: 'proposer', roundMax: 4 });
    expect(propose(s, 'again').state.ballot).toEqual(b(5));
  });

  it('control bug reuse-ballot: the restarted proposer sends a new value under its last ballot', () => {
    const buggy = coreConfig(membership(2, 3, 1), { bugs: { reuseBallot: true } });
    const r = propose(initProposer('p1', buggy, { role: 'proposer', roundMax: 4 }), 'new');
    expect(r.state.ballot).toEqual(b(4));
    expect(sent(r.effects)[0]?.msg).toEqual({ type: 'accept', from: 'p1', ballot: b(4), value: 'new' });
    expect(() => proposerInvariants(r.state)).not.toThrow(); // the bug hides from the invariants; only the safety checker can see it
  });

  it('control bug ignore-accepted: proposes its own value despite a reported accepted value', () => {
    const buggy = coreConfig(membership(2, 3, 1), { bugs: { ignoreAccepted: true } });
    let s = propose(initProposer('p1', buggy), 'mine').state;
    s = recv(s, { type: 'promise', from: 'a1', ballot: b(1), accepted: { ballot: b(1, 'p0'), value: 'theirs' } }).state;
    s = recv(s, { type: 'promise', from: 'a2', ballot: b(1), accepted: null }).state;
    expect(s.proposal).toEqual({ value: 'mine' });
  });

  it('once chosen, a new request is answered with the chosen value and re-announced to learners', () => {
    const done: ProposerState = { ...preparing(), phase: 'done', chosen: { ballot: b(1), value: 'mine' } };
    const r = propose(done, 'other');
    expect(r.effects).toContainEqual({ type: 'chosen', ballot: b(1), value: 'mine' });
    expect(sent(r.effects).map((e) => e.msg.type)).toEqual(['decide']);
  });
});
