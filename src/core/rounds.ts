/**
 * Rounds: the guard against a proposer "at infinity", shared by both
 * protocols. Two halves, one for each side of a ballot:
 *
 * - {@link judgeBallot} (acceptors): a ballot from one not among the
 *   proposers the acceptor trusts (its configured ones; in Multi-Paxos, those
 *   of the views it knows too), from someone
 *   other than its owner, or with a round that is not a safe integer >= 1 is
 *   dropped. A ballot more than `maxRoundJump` rounds above this acceptor's
 *   promise is refused, and the refusal (a nack naming the promise) goes back
 *   to its sender, so that an honest proposer learns where this acceptor is.
 *   (It once dropped such ballots silently, which wedged the cluster: a
 *   candidate cut off for long enough, or a buggy member that sent two
 *   prepares a jump apart, left every honest ballot out of some acceptor's
 *   range with nobody told why.)
 * - {@link nextRound} (proposers): the next round beats the promises of the
 *   lowest majority of the acceptors that answered the last attempt, and
 *   climbs at most `maxRoundJump` past the lowest of them. One acceptor pushed
 *   far up by a buggy ballot is left out of the majority rather than followed;
 *   when it is needed, the proposer climbs toward it a jump per attempt,
 *   and every step is accepted by the acceptors below it, so it gets there.
 *   Rounds are learned only from acceptors (a promise or a nack), never from
 *   another proposer's heartbeat: an acceptor's promise passed this guard,
 *   a heartbeat's round did not.
 */
import { describeBallot, type Ballot } from './ballot.js';
import type { ActorId } from './ids.js';
import { quorumSize } from './quorum.js';

/** What an acceptor does with a ballot: take it, refuse it with a nack (`far`), or drop it (`drop`). */
export type BallotVerdict = { readonly verdict: 'ok' } | { readonly verdict: 'far' | 'drop'; readonly reason: string };

const OK: BallotVerdict = { verdict: 'ok' };

/**
 * The acceptors' guard. A ballot "far" above the promise is answered with a
 * nack when there is a promise to name; with none (a fresh acceptor), a round
 * past `maxRoundJump` cannot come from an honest proposer and is dropped.
 */
export function judgeBallot(proposers: readonly ActorId[], promised: Ballot | null, from: ActorId, b: Ballot, maxRoundJump: number): BallotVerdict {
  if (!Number.isSafeInteger(b.round) || b.round < 1) return { verdict: 'drop', reason: 'round is not a safe integer >= 1' };
  if (!proposers.includes(b.proposer)) return { verdict: 'drop', reason: `ballot owner ${b.proposer} is not a proposer` };
  if (from !== b.proposer) return { verdict: 'drop', reason: `sender ${from} does not own the ballot` };
  if (b.round - (promised?.round ?? 0) > maxRoundJump) {
    return { verdict: promised === null ? 'drop' : 'far', reason: `round jumps more than ${maxRoundJump} past promised ${describeBallot(promised)}` };
  }
  return OK;
}

/**
 * The round of a proposer's next attempt. `known(a)` is the highest round
 * acceptor `a` is known to have promised (0 if unknown); `heard` are the
 * acceptors that answered the last attempt (all acceptors are considered when
 * fewer than a majority did). The result beats the promises of the lowest
 * majority among them, but climbs at most `maxRoundJump` past the lowest of
 * those, and is always above `roundMax` (a ballot is never reused).
 */
export function nextRound(acceptors: readonly ActorId[], roundMax: number, known: (a: ActorId) => number, heard: ReadonlySet<ActorId>, maxRoundJump: number): number {
  const q = quorumSize(acceptors.length);
  const answered = acceptors.filter((a) => heard.has(a));
  const pool = answered.length >= q ? answered : acceptors;
  const rounds = pool.map(known).sort((x, y) => x - y);
  const target = (rounds[q - 1] ?? 0) + 1;
  const cap = (rounds[0] ?? 0) + maxRoundJump;
  const round = Math.max(roundMax + 1, Math.min(target, cap));
  return Math.min(round, Number.MAX_SAFE_INTEGER);
}
