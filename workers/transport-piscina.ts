/**
 * The piscina task of the message-path benchmark (`bench/paths.ts`): returns
 * a single message as it came, or how many messages a batch held, so a
 * `pool.run` costs one hop each way and nothing else.
 */
import type { BenchMsg } from '../bench/paths/roles.js';

/** Echoes one message; counts a batch. */
export default function transportTask(arg: BenchMsg | BenchMsg[]): BenchMsg | number {
  return Array.isArray(arg) ? arg.length : arg;
}
