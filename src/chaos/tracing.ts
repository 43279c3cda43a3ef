/**
 * The cluster a chaos round runs on — with the experiment's switch and
 * tracing on — and writing its trace.
 */
import { createCluster, type Cluster, type ClusterOptions } from '../runtime/cluster.js';
import { traceFormatOf, writeTraceFile } from '../trace/index.js';
import type { Trace } from '../trace/types.js';
import type { ClusterShape, Experiment } from './schedule.js';

/** The experiment's switch as cluster options. */
export function switchOf(experiment: Experiment | null, flushMs: number): Partial<ClusterOptions> {
  switch (experiment) {
    case 'amnesia':
      return { amnesia: true };
    case 'no-fsync':
      return { noFsync: true, noFsyncFlushMs: flushMs };
    case 'reuse-ballot':
      return { bugs: { reuseBallot: true } };
    default:
      return {};
  }
}

/**
 * Starts a single-decree cluster of `shape` with the experiment's switch and
 * tracing on. The supervisor may restart an actor as often as the schedule
 * crashes it.
 */
export function startCluster(shape: ClusterShape, experiment: Experiment | null, flushMs: number): Promise<Cluster> {
  return createCluster({ ...shape, supervisor: { maxRestarts: 1000, windowMs: 1000 }, trace: true, ...switchOf(experiment, flushMs) });
}

/** Throws (with a message naming the allowed extensions) unless the trace writer knows the format of `path`. */
export function checkTracePath(path: string): void {
  traceFormatOf(path);
}

/** Writes `trace` to `path`, as JSON, HTML or ShiViz by its extension. */
export function writeTrace(path: string, trace: Trace): Promise<void> {
  return writeTraceFile(path, trace);
}
