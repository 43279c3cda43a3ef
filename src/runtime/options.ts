/**
 * Option parsing shared by both clusters: one way to validate what a caller
 * passes (zod schemas, one error listing every problem by path), and the
 * schemas of the options both clusters take.
 */
import { z } from 'zod';
import { SynodError } from './wire.js';

/** A count of actors of one role. */
export const count = z.number().int().min(0).max(64);
/** A duration in ms, up to an hour. */
export const ms = z.number().int().min(0).max(3_600_000);
/** A probability. */
export const probability = z.number().min(0).max(1);

/** The schema of the `supervisor` option ({@link SupervisorOptions}, every field optional); shared with the key-value cluster. */
export const supervisorOptionsSchema = z
  .strictObject({
    policy: z.enum(['one_for_one', 'one_for_all']),
    maxRestarts: z.number().int().min(0),
    windowMs: ms.min(1),
    backoffBaseMs: ms,
    backoffMaxMs: ms,
    maxStartupFailures: z.number().int().min(1),
    terminateTimeoutMs: ms.min(1),
    spares: z.number().int().min(0).max(16),
  })
  .partial()
  .default({});

/** The schema of the faults of one link ({@link LinkFaults}, every field optional). */
export const linkFaultsSchema = z.strictObject({ drop: probability, dup: probability, delay: probability, delayMs: ms.min(1) }).partial();

/** Parses `input` with `schema`, or throws one SynodError listing every problem by path; `what` names the input in the message. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string, code: 'SYNOD_INVALID_OPTIONS' | 'SYNOD_INVALID_ARGUMENT'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`);
  throw new SynodError(code, `invalid ${what}: ${problems.join('; ')}`);
}
