/**
 * The deterministic simulator: a seeded, single-threaded world that hosts the
 * protocol core under dropped, duplicated, delayed messages, partitions,
 * crashes and restarts.
 */
export * from '../util/prng.js';
export * from './world.js';
export * from './simulator.js';
export * from './sweep.js';
export { parallelSweep, defaultChunk } from './parallel.js';
export * from './shrink.js';
export * from './transcript.js';
