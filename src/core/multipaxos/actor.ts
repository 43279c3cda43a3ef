/**
 * One entry point for hosts of the Multi-Paxos roles, as `../actor.ts` is for
 * single-decree Paxos.
 */
import { AssertionError } from '../assert.js';
import type { ActorId, Role } from '../ids.js';
import { initMpAcceptor, mpAcceptorInvariants, stepMpAcceptor, type MpAcceptorState } from './acceptor.js';
import { initMpLearner, mpLearnerInvariants, stepMpLearner, type MpLearnerState } from './learner.js';
import { initMpProposer, mpProposerInvariants, stepMpProposer, type MpProposerState } from './proposer.js';
import type { AnyStateMachine } from './machine.js';
import type { MpConfig, MpInput, MpRecord, MpStep } from './types.js';
import type { View } from './views.js';

/** The state of any Multi-Paxos role. */
export type MpActorState = MpProposerState | MpAcceptorState | MpLearnerState;

/**
 * Builds an actor of `role`, rebuilt from its durable records (in the order
 * written); a record of another role is corruption. `machine` is the state
 * machine the log replicates (only learners apply it).
 */
export function initMpActor(role: Role, id: ActorId, config: MpConfig, machine: AnyStateMachine, records: readonly MpRecord[] = []): MpActorState {
  switch (role) {
    case 'proposer': {
      let roundMax = 0;
      let saved: { readonly base: number; readonly views: readonly View[] } | null = null;
      for (const r of records) {
        if (r.kind === 'views') {
          if (saved === null || r.base > saved.base) saved = r;
          continue;
        }
        if (r.kind !== 'round') throw new AssertionError(`${id}: a proposer recovered a ${r.kind} record`);
        roundMax = Math.max(roundMax, r.roundMax);
      }
      return initMpProposer(id, config, roundMax, machine, saved);
    }
    case 'acceptor':
      if (records.some((r) => r.kind === 'round' || r.kind === 'snapshot' || r.kind === 'views')) throw new AssertionError(`${id}: an acceptor recovered a proposer's or learner's record`);
      return initMpAcceptor(id, config, records);
    case 'learner':
      if (records.some((r) => r.kind !== 'snapshot')) throw new AssertionError(`${id}: a learner recovered a record that is not a snapshot`);
      return initMpLearner(id, config, machine, records);
  }
}

/** One step of any Multi-Paxos actor. The state is updated in place and returned. */
export function stepMpActor(s: MpActorState, input: MpInput, random: number): MpStep<MpActorState> {
  switch (s.role) {
    case 'proposer':
      return stepMpProposer(s, input, random);
    case 'acceptor':
      return stepMpAcceptor(s, input);
    case 'learner':
      return stepMpLearner(s, input);
  }
}

/** Asserts the role's invariants. */
export function checkMpInvariants(s: MpActorState): void {
  switch (s.role) {
    case 'proposer':
      return mpProposerInvariants(s);
    case 'acceptor':
      return mpAcceptorInvariants(s);
    case 'learner':
      return mpLearnerInvariants(s);
  }
}
