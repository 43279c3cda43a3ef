/**
 * synod: Paxos for Node.js. The package root exports the pure protocol core,
 * the deterministic simulator and the safety checker.
 */
export * from './core/index.js';
export * from './sim/index.js';
export * from './check/safety.js';
