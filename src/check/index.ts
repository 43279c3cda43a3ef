/**
 * The checkers (package subpath `synod/check`): the single-decree safety
 * checker fed by the simulator and the live cluster, the Multi-Paxos log
 * safety checker, and the linearizability checker for key-value histories
 * (Jepsen-format events), with the history format it reads and writes.
 */
export * from './safety.js';
export * from './log-safety.js';
export * from './history.js';
export * from './linearizability.js';
