/**
 * Ballots (proposal numbers). Each is a pair (round, proposer): unique because
 * no two proposers share an id, and totally ordered by round, then by proposer
 * id — the "counter plus process id" scheme the Paxos write-ups recommend.
 */
import type { ActorId } from './ids.js';

/** A proposal number: unique per proposer, totally ordered. */
export interface Ballot {
  /** Counter part; a safe integer >= 1. */
  readonly round: number;
  /** Id of the proposer that owns this ballot; breaks ties between rounds. */
  readonly proposer: ActorId;
}

/** Negative when a < b, zero when equal, positive when a > b. `null` is below every ballot. */
export function compareBallots(a: Ballot | null, b: Ballot | null): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.proposer === b.proposer) return 0;
  return a.proposer < b.proposer ? -1 : 1;
}

/** True when a > b. */
export function ballotGt(a: Ballot | null, b: Ballot | null): boolean {
  return compareBallots(a, b) > 0;
}

/** True when a == b. */
export function ballotEq(a: Ballot | null, b: Ballot | null): boolean {
  return compareBallots(a, b) === 0;
}

/** The larger of two ballots. */
export function maxBallot(a: Ballot | null, b: Ballot | null): Ballot | null {
  return compareBallots(a, b) >= 0 ? a : b;
}

/**
 * True when `x` is exactly a ballot: a safe integer round >= 1, a non-empty
 * proposer id, and no other field (a ballot is persisted as it is, and an
 * extra field, `undefined` say, would make the record unreadable).
 */
export function isBallot(x: unknown): x is Ballot {
  if (typeof x !== 'object' || x === null) return false;
  const b = x as { round?: unknown; proposer?: unknown };
  return Number.isSafeInteger(b.round) && (b.round as number) >= 1 && typeof b.proposer === 'string' && b.proposer.length > 0 && Object.keys(x).length === 2;
}

/** Stable text for a ballot: `round.proposer`, or `none`. */
export function describeBallot(b: Ballot | null): string {
  return b === null ? 'none' : `${b.round}.${b.proposer}`;
}
