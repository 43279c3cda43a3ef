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

/** Throws an {@link AssertionError} with `message` when `condition` is false. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
