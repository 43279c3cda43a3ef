/**
 * One entry point for hosts: build, step and check any role's core without
 * caring which role it is. The simulator and the worker-thread runtime both
 * host actors through these functions only.
 */
import { acceptorInvariants, initAcceptor, stepAcceptor, type AcceptorState } from './acceptor.js';
import type { CoreConfig } from './config.js';
import type { DurableRecord, Input, Step } from './effects.js';
import type { ActorId, Role } from './ids.js';
import { initLearner, learnerInvariants, stepLearner, type LearnerState } from './learner.js';
import { initProposer, proposerInvariants, stepProposer, type ProposerState } from './proposer.js';
import { AssertionError } from './assert.js';

/** The state of any role. */
export type ActorState = ProposerState | AcceptorState | LearnerState;

/**
 * Builds an actor of `role`, fresh or recovered from `record`. A record of
 * another role is a corrupt data directory, not something to paper over.
 */
export function initActor(role: Role, id: ActorId, config: CoreConfig, record: DurableRecord | null = null): ActorState {
  if (record !== null && record.role !== role) throw new AssertionError(`${id}: recovered a ${record.role} record for a ${role}`);
  switch (role) {
    case 'proposer':
      return initProposer(id, config, record as Extract<DurableRecord, { role: 'proposer' }> | null);
    case 'acceptor':
      return initAcceptor(id, config, record as Extract<DurableRecord, { role: 'acceptor' }> | null);
    case 'learner':
      return initLearner(id, config, record as Extract<DurableRecord, { role: 'learner' }> | null);
  }
}

/** One step of any actor. `random` is a draw in [0, 1); only proposers use it. */
export function stepActor(s: ActorState, input: Input, random: number): Step<ActorState> {
  switch (s.role) {
    case 'proposer':
      return stepProposer(s, input, random);
    case 'acceptor':
      return stepAcceptor(s, input);
    case 'learner':
      return stepLearner(s, input);
  }
}

/** Asserts the role's invariants; throws {@link AssertionError} when one is broken. */
export function checkInvariants(s: ActorState): void {
  switch (s.role) {
    case 'proposer':
      return proposerInvariants(s);
    case 'acceptor':
      return acceptorInvariants(s);
    case 'learner':
      return learnerInvariants(s);
  }
}
