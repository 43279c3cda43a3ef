/**
 * The deterministic simulator: one seeded, single-threaded world, generic over
 * the protocol, that hosts the protocol core (single-decree, or the
 * Multi-Paxos key-value store) through the turn host under
 * dropped, duplicated, delayed messages, partitions, crashes and restarts,
 * driven by one seeded driver that records, replays, shrinks and sweeps
 * either protocol.
 */
export * from '../util/prng.js';
export * from './world.js';
export * from './synod-world.js';
export type { ProtocolTypes } from '../host/protocol.js';
export * from './simulator.js';
export * from './sweep.js';
export { SeededDriver, type DrivenWorld, type DriverHooks, type DriverOptions, type ReconfigPool } from './driver.js';
export type { ChunkTask, ChunkTally } from './chunks.js';
export { parallelSweep, parallelSweepKv, sweepPool, defaultChunk, type PoolOptions, type PoolTally, type ParallelSweepOptions, type ParallelKvSweepOptions } from './parallel.js';
export * from './shrink.js';
export { simulateKv, profileSettings, KV_FAULTS, KV_MESSAGE_TYPES, KV_BUGS, KV_PROFILES, DEFAULT_KV_LIVENESS_MS, LIVENESS_MAX_STEPS, type KvBugName, type KvProfile, type KvSimOptions, type KvSimResult } from './kvsim.js';
export * from './kvsweep.js';
export * from './transcript.js';
export { traceSimulation, traceUntilDecided, traceKvSimulation, STEPS_AFTER_DECISION, type SimTrace, type DecidedSimTrace, type KvSimTrace } from './trace.js';
