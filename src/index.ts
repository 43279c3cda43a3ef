/**
 * synod: Paxos for Node.js. The package root exports the pure protocol core,
 * the deterministic simulator, the safety checkers, the worker-thread
 * runtime (`createCluster`, `createKvCluster`, the transports) and traces
 * (`writeTraceFile`, `toHtml`, `toShiViz`).
 */
export * from './core/index.js';
export * from './sim/index.js';
export * from './check/safety.js';
export * from './runtime/index.js';
export * from './trace/index.js';
