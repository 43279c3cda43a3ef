/**
 * Multi-Paxos: a replicated log (one Paxos instance per slot, a distinguished
 * leader, pipelining and batching) of commands for a state machine it knows
 * only through the {@link StateMachine} interface. Pure, like the
 * single-decree core.
 */
export * from './types.js';
export * from './machine.js';
export * from './acceptor.js';
export * from './proposer.js';
export * from './learner.js';
export * from './actor.js';
export * from './describe.js';
export * from './views.js';
