/**
 * The worker-thread runtime: a Paxos cluster whose actors each run in their
 * own worker thread under a supervisor, with durable LMDB stores; and the
 * replicated key-value store (Multi-Paxos) on the same runtime.
 */
export * from './cluster.js';
export { parseOptions, supervisorOptionsSchema, type SharedClusterOptions } from './options.js';
export * from './supervised.js';
export * from './health.js';
export { DEFAULT_DETECTOR, FailureDetector, PING, type DetectorOptions, type DetectorTick, type PeerChange, type PeerStatus } from '../host/failure-detector.js';
export * from './transports/index.js';
export * from './supervisor.js';
export * from '../host/mailbox.js';
export * from './links.js';
export * from './wire.js';
export * from './storage/types.js';
export { openLmdbStore, type LmdbStoreOptions } from './storage/lmdb.js';
export { openMemoryStore } from './storage/memory.js';
export { DEFAULT_MIN_FREE_BYTES, type EnvironmentOptions } from './storage/types.js';
export type { FreeBytes } from './storage/types.js';
export * from './kv-cluster.js';
export type { Stamp, StampKind } from './stamps.js';
export type { KvView, LearnedFact, MpActorControl, MpActorCounters, MpActorReport, MpDropReason, MpGroup, MpProtocol, MpRecovered, MpRequestPost, MpTurnReport, MpWorkerInit, ReconfigAnswer } from './mpwire.js';
export type { KvReconfiguration, ReplacePolicy, ReplaceEvent, ReplaceFailedEvent } from './reconfig.js';
export { validateMpMessage, type MpValidated } from './mpwire.js';
export { decodeLogRecord, encodeLogRecord, LOG_SCHEMA_VERSION, openLmdbLog, openMemoryLog, type LmdbLogOptions, type RecordLog } from './storage/log.js';
