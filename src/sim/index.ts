/**
 * The deterministic simulator: a seeded, single-threaded world that hosts the
 * protocol core under dropped, duplicated, delayed messages, partitions,
 * crashes and restarts, and the traces of its runs (trace.ts). The seeded
 * PRNG that drives it is defined in src/util and exported from here as well.
 */
export * from '../util/prng.js';
export * from './world.js';
export * from './simulator.js';
export * from './sweep.js';
export { parallelSweep, defaultChunk } from './parallel.js';
export * from './shrink.js';
export * from './transcript.js';
export { traceSimulation, traceUntilDecided, traceKvSimulation, STEPS_AFTER_DECISION, type SimTrace, type DecidedSimTrace, type KvSimTrace } from './trace.js';
