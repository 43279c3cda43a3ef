/**
 * The operating errors synod throws to its callers. They live apart from
 * every layer so that any layer — the runtime, the simulator, the CLI, a
 * host — can throw or recognise one without importing the layer that
 * happened to define it first.
 */

/** Codes of the operating errors the runtime throws. */
export type SynodErrorCode =
  /** createCluster was given options it cannot use. */
  | 'SYNOD_INVALID_OPTIONS'
  /** A method was given an unknown actor, a value that is not JSON or too big, or bad link faults. */
  | 'SYNOD_INVALID_ARGUMENT'
  /** The cluster did not start (an actor failed during start-up, or the worker file is missing). */
  | 'SYNOD_START_FAILED'
  /** The actor went down while a control call to it was in flight. */
  | 'SYNOD_ACTOR_DOWN'
  /** The supervisor gave up on the actor; it will not be restarted. */
  | 'SYNOD_ACTOR_FAILED'
  /** A propose got no decision within its `timeoutMs`. */
  | 'SYNOD_TIMEOUT'
  /** The cluster was closed. */
  | 'SYNOD_CLOSED'
  /** The log refused a reconfiguration: the view it was to follow is not the newest one any more. Nothing changed. */
  | 'SYNOD_RECONFIG_REFUSED'
  /** A key-value operation's client session was evicted by the learners (more sessions than `maxSessions`): it may or may not have taken effect, and was not applied again. */
  | 'SYNOD_SESSION_EXPIRED'
  /** An actor that has existed (the data directory's registry says so) found its store missing or empty; it refuses to start empty. */
  | 'SYNOD_STORE_LOST'
  /** An actor's LMDB file failed the checks made before mapping it (too short, bad meta pages, pages past its end). */
  | 'SYNOD_STORE_CORRUPT'
  /** The disk holding an actor's store has less free space than the reserve; the write was refused before it was made. */
  | 'SYNOD_DISK_FULL'
  /** Reading or writing an actor's store failed (an I/O error); the message names the file. */
  | 'SYNOD_STORAGE_IO';

/**
 * An error with a machine-readable `code` beside its message: the one shape
 * of synod's own errors (SynodError here, TransportError in
 * runtime/transports), so callers branch on `code`, never on message text.
 */
export class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An operating error of the runtime; `code` says which, the message says what to do. */
export class SynodError extends CodedError<SynodErrorCode> {
  override readonly name = 'SynodError';
}
