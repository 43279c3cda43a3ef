/** The counter: a second, small state machine of the replicated log, used by the tests. */
export * from './machine.js';
