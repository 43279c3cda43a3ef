// Unit tests of the learner ("Paxos Made Simple" §2.3: a learner must find out
// that a proposal has been accepted by a majority of acceptors).
import { describe, expect, it } from 'vitest';
import { coreConfig, initLearner, membership, stepLearner, type LearnerState, type Message } from '../../src/core/index.js';

const config = coreConfig(membership(2, 3, 1));
const b = (round: number, proposer = 'p1') => ({ round, proposer });
const recv = (s: LearnerState, msg: Message) => stepLearner(s, { type: 'receive', msg });

describe('learner', () => {
  it('learns v once a majority of acceptors accepted the same ballot with v, and persists before deciding', () => {
    let s = initLearner('l1', config);
    s = recv(s, { type: 'accepted', from: 'a1', ballot: b(1), value: 'x' }).state;
    expect(s.decided).toBeNull();
    const r = recv(s, { type: 'accepted', from: 'a2', ballot: b(1), value: 'x' });
    expect(r.state.decided).toEqual({ ballot: b(1), value: 'x' });
    expect(r.effects).toEqual([{ type: 'persist', record: { role: 'learner', decided: { ballot: b(1), value: 'x' } }, then: [{ type: 'decide', ballot: b(1), value: 'x' }] }]);
  });

  it('does not add up votes for different ballots, nor count one acceptor twice', () => {
    let s = initLearner('l1', config);
    s = recv(s, { type: 'accepted', from: 'a1', ballot: b(1), value: 'x' }).state;
    s = recv(s, { type: 'accepted', from: 'a2', ballot: b(2), value: 'x' }).state;
    s = recv(s, { type: 'accepted', from: 'a1', ballot: b(1), value: 'x' }).state;
    expect(s.decided).toBeNull();
  });

  it('decides at most once', () => {
    let s = initLearner('l1', config);
    s = recv(s, { type: 'decide', from: 'p1', ballot: b(1), value: 'x' }).state;
    const again = recv(s, { type: 'decide', from: 'p2', ballot: b(2), value: 'x' });
    expect(again.effects).toEqual([{ type: 'ignore', reason: 'already decided' }]);
  });

  it('phase 3: takes a decision announced by a proposer, but not from a non-proposer', () => {
    const s = initLearner('l1', config);
    expect(recv(s, { type: 'decide', from: 'p1', ballot: b(1), value: 'x' }).state.decided).toEqual({ ballot: b(1), value: 'x' });
    expect(recv(s, { type: 'decide', from: 'a1', ballot: b(1), value: 'x' }).state.decided).toBeNull();
  });

  it('recovers its decision from its record', () => {
    const s = initLearner('l1', config, { role: 'learner', decided: { ballot: b(3), value: 'y' } });
    expect(recv(s, { type: 'accepted', from: 'a1', ballot: b(4), value: 'z' }).effects[0]).toMatchObject({ type: 'ignore' });
  });
});
