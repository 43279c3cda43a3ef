/**
 * The pure protocol core of single-decree Paxos: one step function per role,
 * no I/O, no clock, no randomness. Hosts (the simulator, the worker-thread
 * runtime) feed it inputs and carry out the effects it returns.
 */
export * from './assert.js';
export * from './value.js';
export * from './ids.js';
export * from './ballot.js';
export * from './quorum.js';
export * from './messages.js';
export * from './effects.js';
export * from './config.js';
export * from './acceptor.js';
export * from './proposer.js';
export * from './learner.js';
export * from './actor.js';
export * from './describe.js';
