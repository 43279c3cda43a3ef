/**
 * The key-value store: one state machine of the replicated log (its
 * operations, results, validation and descriptions). Pure, like the core.
 * Beside it, client.ts (not exported here) is the machine as its clients see
 * it: the wire form of a result and its decoding, how errors name an
 * operation, and its Jepsen form, for createKvCluster's client and the
 * simulator's.
 */
export * from './machine.js';
