/**
 * The checkers (package subpath `synod/check`): the single-decree safety
 * checker fed by the simulator and the live cluster, the Multi-Paxos log
 * safety checker, and the linearizability checker for key-value histories
 * (Jepsen-format events), with the history format it reads and writes.
 *
 * To check a history file as `synod check FILE` does: {@link parseHistory}
 * reads its JSON lines (naming the line of a malformed event), and
 * {@link checkLinearizable} returns `linearizable`, `not-linearizable` (with
 * the failing key, the longest linearizable prefix and the operations stuck
 * after it) or `unknown` when a limit in {@link LinearizabilityOptions} was
 * reached, such as the bound on memory, `maxConfigurations`.
 */
export * from './safety.js';
export * from './log-safety.js';
export * from './history.js';
export * from './linearizability.js';
