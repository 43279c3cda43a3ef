// A commit carries each chosen batch as JSON text (CommitEntry): a learner
// parses and checks it as it takes the slot; a follower proposer keeps it as
// text, and parses it only when it may hold a reconfiguration, which changes
// the views it must know.
import { describe, expect, it } from 'vitest';
import { membership, type Membership } from '../../../src/core/ids.js';
import { initMpLearner, initMpProposer, mpConfig, mpProposerInvariants, stepMpLearner, stepMpProposer, type Command, type MpEffect, type MpMessage, type MpProposerState } from '../../../src/core/multipaxos/index.js';
import { lastView } from '../../../src/core/multipaxos/views.js';
import { kvMachine } from '../../../src/machines/kv/index.js';
import { standFor } from './elect.js';

const m0 = membership(2, 3, 1);
const m1: Membership = { ...m0, acceptors: ['a1', 'a2', 'a4'] };
const config = mpConfig(m0, { window: 2, batchMax: 1, compactEvery: 0 });
const write = (seq: number): Command => ({ clientId: 'c1', seq, op: { f: 'write', key: 'k', value: seq } });
const reconfig: Command = { clientId: 'adm', seq: 1, op: {}, reconfig: { epoch: 0, members: m1 } };
const ignored = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'ignore' ? [e.reason] : []));
const sent = (fx: readonly MpEffect[]) => fx.flatMap((e) => (e.type === 'send' ? [e] : []));

function step(s: MpProposerState, msg: MpMessage) {
  const r = stepMpProposer(s, { type: 'receive', msg }, 0.5);
  mpProposerInvariants(r.state);
  return { state: r.state as MpProposerState, effects: r.effects };
}

/** p2 following, with committed slots 0.. given as text. */
function follower(...texts: string[]) {
  return step(initMpProposer('p2', config, 0, kvMachine), { type: 'commit', from: 'p1', entries: texts.map((value, slot) => ({ slot, value })) });
}

describe('commits as text', () => {
  it('a leader commits each chosen batch as the JSON text of its accepts, to learners and followers alike', () => {
    let s = standFor(initMpProposer('p1', config, 0, kvMachine)).state;
    for (const a of ['a1', 'a2', 'a3']) s = step(s, { type: 'promise', from: a, ballot: { round: 1, proposer: 'p1' }, entries: [], trimmed: 0 }).state;
    s = stepMpProposer(s, { type: 'request', commands: [write(1)] }, 0.5).state;
    let fx: readonly MpEffect[] = [];
    for (const a of ['a1', 'a2']) ({ state: s, effects: fx } = step(s, { type: 'accepted', from: a, ballot: { round: 1, proposer: 'p1' }, slots: [0] }));
    const commits = sent(fx).filter((e) => e.msg.type === 'commit');
    expect(commits.map((e) => e.to)).toEqual(['l1', 'p2']);
    for (const c of commits) expect(c.msg).toEqual({ type: 'commit', from: 'p1', entries: [{ slot: 0, value: JSON.stringify([write(1)]) }] });
  });

  it('a follower keeps a batch without a reconfiguration as text, and serves it as text', () => {
    const text = JSON.stringify([write(1)]);
    const { state } = follower(text);
    expect(state.commitIndex).toBe(1);
    expect(state.chosen.get(0)).toBe(text);
    const answer = sent(step(state, { type: 'catchup', from: 'l1', fromSlot: 0 }).effects);
    expect(answer.map((e) => e.msg)).toEqual([{ type: 'commit', from: 'p2', entries: [{ slot: 0, value: text }] }]);
  });

  it('a follower parses a batch that holds a reconfiguration, and its views change', () => {
    const { state } = follower(JSON.stringify([write(1)]), JSON.stringify([reconfig]));
    expect(state.chosen.get(1)).toEqual([reconfig]);
    expect(lastView(state.views)).toEqual({ epoch: 1, from: 3, members: m1 });
  });

  it('even one whose key is spelled with escapes, as JSON allows (the scan looks for `\\u` too)', () => {
    const escaped = JSON.stringify([reconfig]).replace('"reconfig"', '"\\u0072\\u0065config"');
    expect(escaped).not.toContain('reconfig');
    expect(JSON.parse(escaped)).toEqual([reconfig]);
    expect(lastView(follower(JSON.stringify([write(1)]), escaped).state.views).epoch).toBe(1);
  });

  it('text that may hold a reconfiguration but is no batch changes no view, with the reason', () => {
    const { state, effects } = follower('[{"reconfig":', JSON.stringify([{ ...write(2), extra: 1 }]).replace('"op"', '"reconfig":1,"op"'));
    expect(lastView(state.views).epoch).toBe(0);
    expect(ignored(effects)).toEqual(['the batch committed at slot 0: a batch is not valid JSON', 'the batch committed at slot 1: a command has other fields than clientId, seq and op (and reconfig)']);
  });

  it('a learner parses and checks the text of the slots it takes, and ignores those that are no batch', () => {
    const learner = initMpLearner('l1', config, kvMachine);
    const r = stepMpLearner(learner, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot: 0, value: JSON.stringify([write(1)]) }, { slot: 1, value: '[1]' }] } });
    expect(r.state.role === 'learner' && r.state.nextSlot).toBe(1);
    expect(ignored(r.effects)).toEqual(['commit from p1: slot 1: a command is not an object']);
    expect(r.effects.filter((e) => e.type === 'applied').map((e) => e.type === 'applied' && e.command)).toEqual([write(1)]);
  });
});
