/**
 * One chunk of a seed sweep, for either protocol, named so that a task can
 * cross to a worker thread (functions cannot): the piscina worker and the
 * one-thread sweep both run chunks through {@link runChunk}.
 */
import { kvSeed, type KvCounts, type KvFailure, type KvSweepTask } from './kvsweep.js';
import { synodSeed, tallySeeds, type SeedTally, type SynodCounts, type SynodFailure, type SynodSweepTask } from './sweep.js';

/** A chunk of seeds of one protocol: `synod` (single-decree) or `kv` (the Multi-Paxos key-value store). */
export type ChunkTask =
  | { readonly protocol: 'synod'; readonly task: SynodSweepTask; readonly first: number; readonly last: number; readonly keepFailing: number }
  | { readonly protocol: 'kv'; readonly task: KvSweepTask; readonly first: number; readonly last: number; readonly keepFailing: number };

/** The tally a chunk of protocol `P` returns. */
export type ChunkTally<P extends ChunkTask['protocol']> = P extends 'synod' ? SeedTally<SynodCounts, SynodFailure> : SeedTally<KvCounts, Omit<KvFailure, 'seed'>>;

/** Runs every seed of the chunk and tallies them. */
export function runChunk(c: ChunkTask, onProgress?: (done: number, total: number) => void): ChunkTally<ChunkTask['protocol']> {
  if (c.protocol === 'synod') return tallySeeds(c.first, c.last, c.keepFailing, (seed) => synodSeed(c.task, seed), onProgress);
  return tallySeeds(c.first, c.last, c.keepFailing, (seed) => kvSeed(c.task, seed), onProgress);
}
