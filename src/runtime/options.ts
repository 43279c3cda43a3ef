/**
 * Option parsing shared by the two clusters (cluster.ts for single-decree
 * Paxos, kv-cluster.ts for the key-value store): the schemas of the options they
 * have in common and the one way an invalid input becomes a SynodError. It
 * is its own module so that neither cluster imports the other to read its
 * options.
 */
import { z } from 'zod';
import { SynodError } from '../errors.js';

/** A number of actors of one role (0 to 64); add `.min(1)` for a role a cluster cannot do without. */
export const actorCount = z.number().int().min(0).max(64);

/** A duration in milliseconds, up to an hour. */
export const millis = z.number().int().min(0).max(3_600_000);

/** The schema of the `supervisor` option (SupervisorOptions in supervisor.ts, every field optional). */
export const supervisorOptionsSchema = z
  .strictObject({
    policy: z.enum(['one_for_one', 'one_for_all']),
    maxRestarts: z.number().int().min(0),
    windowMs: millis.min(1),
    backoffBaseMs: millis,
    backoffMaxMs: millis,
    maxStartupFailures: z.number().int().min(1),
    terminateTimeoutMs: millis.min(1),
    spares: z.number().int().min(0).max(16),
    startTimeoutMs: millis.min(1),
  })
  .partial()
  .default({});

/**
 * The fields both clusters accept with the same meaning and default:
 * storage, actor limits, supervision, transport and tracing. Each cluster
 * spreads them into its own options schema.
 */
export const sharedClusterFields = {
  dataDir: z.string().min(1).optional(),
  tempDirParent: z.string().min(1).optional(),
  durable: z.boolean().default(true),
  minFreeBytes: z.number().int().min(0).optional(),
  storage: z.enum(['lmdb', 'memory']).default('lmdb'),
  mailboxLimit: z.number().int().min(1).default(10_000),
  maxValueBytes: z.number().int().min(16).default(64 * 1024),
  supervisor: supervisorOptionsSchema,
  transport: z.enum(['port', 'hub', 'ring']).default('port'),
  trace: z.boolean().default(false),
};

/** Parses `input` with `schema`, or throws one SynodError listing every problem by path; `what` names the input in the message. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string, code: 'SYNOD_INVALID_OPTIONS' | 'SYNOD_INVALID_ARGUMENT'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`);
  throw new SynodError(code, `invalid ${what}: ${problems.join('; ')}`);
}

/** A probability, from 0 to 1. */
export const probability = z.number().min(0).max(1);

/** The schema of the faults of one link (LinkFaults in links.ts, every field optional). */
export const linkFaultsSchema = z.strictObject({ drop: probability, dup: probability, delay: probability, delayMs: millis.min(1) }).partial();
