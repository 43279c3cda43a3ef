/**
 * Piscina task: sweep one chunk of seeds in the simulator (either protocol).
 * Runs are independent and deterministic, so a chunk's result does not depend
 * on which thread ran it.
 */
import { runChunk, type ChunkTask } from '../src/sim/chunks.js';

/** The task: a protocol, a seed range and the run options (no callbacks: they cannot cross threads). */
export type SweepTask = ChunkTask;

/** Sweeps the chunk and returns its tally. */
export default function sweepChunk(task: SweepTask): ReturnType<typeof runChunk> {
  return runChunk(task);
}
