/**
 * Errors as the command line reports them: one line, the cause that matters.
 */

/**
 * The innermost message of an error and its chain of causes: what actually
 * went wrong (a store that cannot be opened, say), without the wrapping and
 * the advice meant for callers of the library (`cluster.restart(...)`),
 * which a user of the command line cannot act on.
 */
export function rootMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  let cause = (err as { cause?: unknown } | null)?.cause;
  for (let depth = 0; cause !== undefined && cause !== null && depth < 10; depth++) {
    const m = (cause as { message?: unknown }).message;
    if (typeof m === 'string' && m !== '') message = m;
    cause = (cause as { cause?: unknown }).cause;
  }
  return message;
}
