/**
 * Assertions for the protocol core. A failed assertion means an invariant is
 * broken: the actor that hit it must crash (and be restarted by its host),
 * never carry on with corrupt state.
 */

/** Thrown when a protocol invariant or precondition does not hold. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
  /** Stable code so hosts can tell a broken invariant from an operating error. */
  readonly code = 'SYNOD_ASSERTION';
}

/**
 * Throws an {@link AssertionError} with `message` when `condition` is false.
 * Checks run after every step, so a message built from the state may be
 * given as a function, called only when the check fails: a template string
 * would be built (and thrown away) on every passing check.
 */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'string' ? message : message());
}
