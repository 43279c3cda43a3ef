/**
 * Piscina task: sweep one chunk of seeds in the simulator. Runs are
 * independent and deterministic, so a chunk's result does not depend on
 * which thread ran it.
 */
import { sweep, type SweepOptions, type SweepResult } from '../src/sim/sweep.js';

/** The task: a seed range plus the run options (no callbacks: they cannot cross threads). */
export type SweepTask = Omit<SweepOptions, 'onProgress' | 'clock'>;

/** Sweeps the chunk and returns its summary. */
export default function sweepChunk(task: SweepTask): SweepResult {
  return sweep(task);
}
