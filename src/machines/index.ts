/**
 * State machines the replicated log carries, one folder each: the
 * key-value store behind `createKvCluster` and `synod kv-sim`, and a counter
 * the tests use. The log knows a machine only through the `StateMachine`
 * interface of `synod/core/multipaxos`; a new machine is a new folder here
 * and one line below.
 */
export * from './kv/index.js';
export * from './counter/index.js';
