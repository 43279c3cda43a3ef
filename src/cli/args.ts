/**
 * Argument parsers for the CLI. Each throws a {@link UsageError} whose message
 * says what was wrong and what is allowed; the CLI turns it into exit code 2.
 */
import { InvalidArgumentError } from 'commander';

/** A bad command line. */
export class UsageError extends InvalidArgumentError {}

/** An integer within [min, max]. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`expected an integer, got ${JSON.stringify(text)}`);
    if (n < min || n > max) throw new UsageError(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

/** A probability in [0, 1]. */
export function probabilityArg(text: string): number {
  const p = Number(text);
  if (text.trim() === '' || !Number.isFinite(p) || p < 0 || p > 1) throw new UsageError(`expected a probability from 0 to 1, got ${JSON.stringify(text)}`);
  return p;
}

/** A seed range `FIRST..LAST` (inclusive) or a single seed. */
export function seedRangeArg(text: string): { first: number; last: number } {
  const m = /^\s*(-?\d+)\s*(?:\.\.\s*(-?\d+)\s*)?$/.exec(text);
  if (!m) throw new UsageError(`expected FIRST..LAST, e.g. 1..1000, got ${JSON.stringify(text)}`);
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) throw new UsageError('seeds must be safe integers');
  if (last < first) throw new UsageError(`empty seed range ${first}..${last}: LAST must be >= FIRST`);
  return { first, last };
}

/** One of a fixed set of names. */
export function choiceArg<T extends string>(choices: readonly T[]) {
  return (text: string): T => {
    if (!(choices as readonly string[]).includes(text)) throw new UsageError(`expected one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
}
