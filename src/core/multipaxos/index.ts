/**
 * Multi-Paxos: a replicated log (one Paxos instance per slot, a distinguished
 * leader, pipelining and batching) and a key-value state machine on it. Pure,
 * like the single-decree core.
 */
export * from './types.js';
export * from './state-machine.js';
export * from './acceptor.js';
export * from './proposer.js';
export * from './learner.js';
export * from './actor.js';
export * from './describe.js';
