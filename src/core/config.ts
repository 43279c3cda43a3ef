/**
 * Configuration shared by the role cores: membership, proposer timing, the
 * acceptors' guard against runaway ballots, and the control-bug switches.
 */
import type { Membership } from './ids.js';

/**
 * Deliberate protocol bugs, off by default. They exist so that tests (and
 * users' experiments) can prove the safety checker catches real mistakes.
 */
export interface ControlBugs {
  /** The proposer ignores the accepted values reported in promises and proposes its own value. */
  readonly ignoreAccepted: boolean;
  /** After a restart, the proposer reuses its last ballot for a new value, resuming phase 2 as if its old promises still held. */
  readonly reuseBallot: boolean;
}

/** Configuration of the role cores. Times are in the host's time unit (milliseconds in the runtime, virtual ticks in the simulator). */
export interface CoreConfig {
  readonly members: Membership;
  /** How long a proposer waits in phase 1 or 2 before giving up on a round. */
  readonly phaseTimeoutMs: number;
  /** First backoff after a failed round; doubles per consecutive failure, up to {@link backoffMaxMs}. */
  readonly backoffBaseMs: number;
  /** Cap on the backoff before jitter. */
  readonly backoffMaxMs: number;
  /**
   * Guard against a proposer "at infinity": an acceptor refuses a ballot whose
   * round exceeds its own promised round by more than this. Honest proposers
   * only ever step one round past the highest they have seen, so they never
   * come near it; a single hostile ballot cannot push the acceptors to the
   * end of the number line.
   */
  readonly maxRoundJump: number;
  readonly bugs: ControlBugs;
}

/** No control bugs. */
export const NO_BUGS: ControlBugs = Object.freeze({ ignoreAccepted: false, reuseBallot: false });

/** Defaults for everything but membership. */
export const DEFAULT_TIMING = Object.freeze({
  phaseTimeoutMs: 60,
  backoffBaseMs: 10,
  backoffMaxMs: 320,
  maxRoundJump: 1_000_000,
});

/** A full core configuration from a membership and optional overrides. */
export function coreConfig(members: Membership, overrides: Partial<Omit<CoreConfig, 'members' | 'bugs'>> & { readonly bugs?: Partial<ControlBugs> } = {}): CoreConfig {
  return {
    members,
    phaseTimeoutMs: overrides.phaseTimeoutMs ?? DEFAULT_TIMING.phaseTimeoutMs,
    backoffBaseMs: overrides.backoffBaseMs ?? DEFAULT_TIMING.backoffBaseMs,
    backoffMaxMs: overrides.backoffMaxMs ?? DEFAULT_TIMING.backoffMaxMs,
    maxRoundJump: overrides.maxRoundJump ?? DEFAULT_TIMING.maxRoundJump,
    bugs: { ...NO_BUGS, ...overrides.bugs },
  };
}
