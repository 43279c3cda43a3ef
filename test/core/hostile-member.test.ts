// Guards against well-formed but wrong messages from members, in the cores:
// per-sender bounds on the learner's tally, slot and trim bounds on the
// Multi-Paxos acceptor (transcripts: test/transcripts/hostile-member.txt and
// mp-hostile-member.txt).
import { describe, expect, it } from 'vitest';
import { coreConfig, initLearner, learnerInvariants, membership, stepLearner, type LearnerState } from '../../src/core/index.js';
import { initMpAcceptor, slotHorizon, stepMpAcceptor, type MpAcceptorState } from '../../src/core/multipaxos/acceptor.js';
import { initMpLearner, stepMpLearner, type MpLearnerState } from '../../src/core/multipaxos/learner.js';
import { mpConfig, type MpMessage } from '../../src/core/multipaxos/types.js';
import { kvMachine } from '../../src/machines/kv/machine.js';

describe('single-decree learner', () => {
  it('keeps one vote per acceptor: 10,000 distinct accepted reports from one link leave one tally', () => {
    let s: LearnerState = initLearner('l1', coreConfig(membership(1, 3, 1)));
    for (let i = 1; i <= 10_000; i++) s = stepLearner(s, { type: 'receive', msg: { type: 'accepted', from: 'a1', ballot: { round: i, proposer: 'p1' }, value: `v${i}` } }).state;
    expect(Object.keys(s.tallies)).toHaveLength(1);
    learnerInvariants(s);
    // The flood did not stop the learner from learning what a2 and a3 accepted.
    s = stepLearner(s, { type: 'receive', msg: { type: 'accepted', from: 'a2', ballot: { round: 1, proposer: 'p1' }, value: 'x' } }).state;
    const r = stepLearner(s, { type: 'receive', msg: { type: 'accepted', from: 'a3', ballot: { round: 1, proposer: 'p1' }, value: 'x' } });
    expect(r.state.decided).toEqual({ ballot: { round: 1, proposer: 'p1' }, value: 'x' });
  });
});

describe('Multi-Paxos acceptor', () => {
  const config = mpConfig(membership(2, 3, 1), { window: 4 });
  const b = (round: number, proposer = 'p1') => ({ round, proposer });
  const recv = (s: MpAcceptorState, msg: MpMessage) => stepMpAcceptor(s, { type: 'receive', msg });
  const accept = (from: string, round: number, slots: number[]): MpMessage => ({ type: 'accept', from, ballot: b(round, from), entries: slots.map((slot) => ({ slot, value: [] })) });

  it('accepts a far slot only from the proposer it promised on a prepare', () => {
    const far = 2 ** 53 - 2;
    const fresh = recv(initMpAcceptor('a1', config), accept('p2', 1, [0, far]));
    expect(fresh.state.log.has(far)).toBe(false);
    expect(fresh.state.log.has(0)).toBe(true);
    expect(fresh.effects).toContainEqual({ type: 'ignore', reason: `accept 1.p2: slot ${far} past ${slotHorizon(config)} (seen up to 0; not promised on a prepare)` });
    // The leader of record (promised on its prepare) is not bounded: a leader may have lagged behind the log.
    const led = recv(recv(initMpAcceptor('a1', config), { type: 'prepare', from: 'p1', ballot: b(1), fromSlot: 0 }).state, accept('p1', 1, [5000]));
    expect(led.state.log.has(5000)).toBe(true);
  });

  it('takes a trim only from the owner of its promise, and never past the slots it has seen', () => {
    let a = recv(initMpAcceptor('a1', config), { type: 'prepare', from: 'p1', ballot: b(1), fromSlot: 0 }).state;
    a = recv(a, accept('p1', 1, [0, 1, 2])).state;
    const foreign = recv(a, { type: 'trim', from: 'p2', upTo: 2 ** 53 - 1 });
    expect(foreign.state.trimmed).toBe(0);
    expect(foreign.state.log.size).toBe(3);
    const own = recv(a, { type: 'trim', from: 'p1', upTo: 2 ** 53 - 1 });
    expect(own.state.trimmed).toBe(3);
    expect(own.effects).toEqual([{ type: 'persist', records: [{ kind: 'trim', upTo: 3 }], then: [] }]);
    // It still accepts the next slots after such a trim.
    expect(recv(own.state, accept('p1', 1, [3])).state.log.has(3)).toBe(true);
  });
});

describe('Multi-Paxos learner', () => {
  const config = mpConfig(membership(2, 3, 2), { compactEvery: 10 });
  const recv = (s: MpLearnerState, msg: MpMessage) => stepMpLearner(s, { type: 'receive', msg });

  it("takes a leader only from a proposer's heartbeat at its own ballot", () => {
    const fromAcceptor = recv(initMpLearner('l1', config, kvMachine), { type: 'heartbeat', from: 'a1', ballot: { round: 1, proposer: 'a1' }, commitIndex: 50 });
    expect(fromAcceptor.state.leader).toBeNull();
    expect(fromAcceptor.state.knownCommit).toBe(0);
    expect(fromAcceptor.effects).toEqual([{ type: 'ignore', reason: "heartbeat from a1 at 1.a1: not a proposer's own ballot" }]);
    const borrowed = recv(initMpLearner('l1', config, kvMachine), { type: 'heartbeat', from: 'p2', ballot: { round: 1, proposer: 'p1' }, commitIndex: 50 });
    expect(borrowed.state.leader).toBeNull();
    // The control: the leader's own heartbeat is taken, and the learner asks it to catch up.
    const real = recv(initMpLearner('l1', config, kvMachine), { type: 'heartbeat', from: 'p1', ballot: { round: 1, proposer: 'p1' }, commitIndex: 50 });
    expect(real.state.leader).toBe('p1');
    expect(real.effects).toContainEqual({ type: 'send', to: 'p1', msg: { type: 'catchup', from: 'l1', fromSlot: 0 } });
  });

  it('sends its state machine to another learner only when a proposer asks', () => {
    const fromLearner = recv(initMpLearner('l1', config, kvMachine), { type: 'snapshot-request', from: 'l2', learner: 'l2' });
    expect(fromLearner.effects).toEqual([{ type: 'ignore', reason: 'snapshot request from non-proposer l2' }]);
    const fromLeader = recv(initMpLearner('l1', config, kvMachine), { type: 'snapshot-request', from: 'p1', learner: 'l2' });
    expect(fromLeader.effects.map((e) => e.type === 'send' && e.to)).toEqual(['l2']);
  });
});
