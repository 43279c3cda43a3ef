/**
 * Actor ids and cluster membership. Ids are short strings such as `p1`, `a2`,
 * `l1`; the membership is fixed for the life of a cluster.
 */

/** The id of an actor (proposer, acceptor or learner). */
export type ActorId = string;

/** The three Paxos roles. */
export type Role = 'proposer' | 'acceptor' | 'learner';

/** Who is in the cluster. Every role core is configured with the same membership. */
export interface Membership {
  readonly proposers: readonly ActorId[];
  readonly acceptors: readonly ActorId[];
  readonly learners: readonly ActorId[];
}

/** Builds the default membership p1..pP, a1..aA, l1..lL. */
export function membership(proposers: number, acceptors: number, learners: number): Membership {
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
  return { proposers: ids('p', proposers), acceptors: ids('a', acceptors), learners: ids('l', learners) };
}

/** The role of `id` in `members`, or `null` when it is not a member. */
export function roleOf(members: Membership, id: ActorId): Role | null {
  if (members.proposers.includes(id)) return 'proposer';
  if (members.acceptors.includes(id)) return 'acceptor';
  if (members.learners.includes(id)) return 'learner';
  return null;
}

/** Every actor id in the cluster, proposers first, then acceptors, then learners. */
export function allActors(members: Membership): ActorId[] {
  return [...members.proposers, ...members.acceptors, ...members.learners];
}
