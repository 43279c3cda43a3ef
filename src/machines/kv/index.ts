/**
 * The key-value store: one state machine of the replicated log (its
 * operations, results, validation and descriptions). Pure, like the core.
 */
export * from './machine.js';
