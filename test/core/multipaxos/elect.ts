/** Test helper: a proposer through PreVote to candidate, as the acceptors' prevote-oks would take it. */
import { stepMpProposer, type MpProposerState } from '../../../src/core/multipaxos/index.js';
import type { MpEffect } from '../../../src/core/multipaxos/types.js';

/** Fires `s`'s election timer and grants its prevote from `from`; returns the candidate and the effects of the last step (the round's persist). */
export function standFor(s: MpProposerState, from: readonly string[] = ['a1', 'a2']): { state: MpProposerState; effects: MpEffect[] } {
  let r = stepMpProposer(s, { type: 'timeout', timer: 'election' }, 0.5);
  const ballot = r.state.preBallot;
  if (ballot === null) throw new Error(`${s.id} did not ask for prevotes`);
  for (const a of from) r = stepMpProposer(r.state, { type: 'receive', msg: { type: 'prevote-ok', from: a, ballot } }, 0.5);
  return r;
}
