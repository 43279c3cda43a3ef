/**
 * The worker-thread runtime: a Paxos cluster whose actors each run in their
 * own worker thread under a supervisor, with durable LMDB stores.
 */
export * from './cluster.js';
export * from './supervisor.js';
export * from './mailbox.js';
export * from './links.js';
export * from './wire.js';
export * from './storage/types.js';
export { openLmdbStore, type LmdbStoreOptions } from './storage/lmdb.js';
export { openMemoryStore } from './storage/memory.js';
