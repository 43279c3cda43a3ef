/**
 * Quorums. synod uses majorities of the configured acceptor set: any two
 * majorities intersect, which is what makes a chosen value stick. All quorum
 * arithmetic lives here so no role counts votes its own way.
 */
import type { ActorId } from './ids.js';

/** Size of a majority of `n` acceptors: floor(n / 2) + 1. */
export function quorumSize(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** True when the distinct members of `acceptors` among `voters` form a majority of `acceptors`. */
export function isQuorum(acceptors: readonly ActorId[], voters: Iterable<ActorId>): boolean {
  const seen = new Set<ActorId>();
  for (const v of voters) if (acceptors.includes(v)) seen.add(v);
  return seen.size >= quorumSize(acceptors.length);
}
