/**
 * Option parsing shared by the two clusters (cluster.ts for single-decree
 * Paxos, kv-cluster.ts for the key-value store): the schemas of the options they
 * have in common and the one way an invalid input becomes a SynodError. It
 * is its own module so that neither cluster imports the other to read its
 * options.
 */
import { types } from 'node:util';
import { z } from 'zod';
import { isValue } from '../core/value.js';
import { DEFAULT_DETECTOR, type DetectorOptions } from '../host/failure-detector.js';
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
  systems: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).default({}),
  failureDetector: z
    .union([z.literal(false), z.strictObject({ pingEveryMs: millis.min(1), suspectAfterMs: millis.min(2) }).partial()])
    .default({})
    .transform((d, ctx) => {
      if (d === false) return null;
      const settings = { ...DEFAULT_DETECTOR, ...d };
      if (settings.suspectAfterMs <= settings.pingEveryMs) ctx.addIssue({ code: 'custom', message: `suspectAfterMs (${settings.suspectAfterMs}) must be more than pingEveryMs (${settings.pingEveryMs}), or no ping could arrive in time` });
      return settings;
    }),
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

/** What a value given to the API must be, for the error when it is not. */
const VALUE_RULE = 'a value must be JSON: null, a boolean, a finite number (not -0), a string, or arrays (without holes) and plain objects of these';

/**
 * Why `value`, given by an application, cannot be proposed or stored, or
 * null when it can: it must be plain JSON data that comes back unchanged
 * (see isValue: -0 and holes in arrays are refused rather than changed), with
 * no Proxy and no getter anywhere (a Proxy cannot be cloned to a worker, and
 * a getter could answer differently each time it is read, or throw), and at
 * most `maxBytes` bytes of JSON. Never throws: whatever the value does while
 * it is inspected becomes the reason.
 */
export function clientValueProblem(value: unknown, maxBytes: number): string | null {
  try {
    const exotic = exoticPart(value, 0);
    if (exotic !== null) return `${VALUE_RULE}; ${exotic}`;
    if (!isValue(value)) return VALUE_RULE;
    // Only strings and objects can be big; a string's JSON is at most 6 bytes per UTF-16 unit plus quotes.
    if (typeof value !== 'object' && !(typeof value === 'string' && value.length * 6 + 2 > maxBytes)) return null;
    const bytes = Buffer.byteLength(JSON.stringify(value));
    return bytes > maxBytes ? `the value is ${bytes} bytes of JSON, more than maxValueBytes (${maxBytes}); use a smaller value or raise the option` : null;
  } catch (err) {
    return `${VALUE_RULE}; reading it threw: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** A Proxy or an accessor property within `x` (depth-bounded like isValue), described, or null. */
function exoticPart(x: unknown, depth: number): string | null {
  if (typeof x !== 'object' || x === null || depth > 64) return null;
  if (types.isProxy(x)) return 'it holds a Proxy';
  for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(x))) {
    if (d.get !== undefined || d.set !== undefined) return `property ${JSON.stringify(key)} is a getter or setter`;
    const inner = exoticPart(d.value, depth + 1);
    if (inner !== null) return inner;
  }
  return null;
}

/**
 * The schema of a per-call `timeoutMs`: whole milliseconds, from 1 up to
 * what a Node.js timer can wait (2^31 − 1; a longer delay fires at once).
 * NaN, negative and fractional timeouts are errors, not "no timeout".
 */
export const callTimeoutSchema = z.number().int().min(1).max(2 ** 31 - 1);

/** The options both clusters take, with the same meaning. */
export interface SharedClusterOptions {
  /** Number of proposers, named p1..pN. */
  readonly proposers: number;
  /** Number of acceptors, named a1..aN. */
  readonly acceptors: number;
  /** Where the actors' stores live, one directory per actor. Default: a fresh temporary directory, removed by close(). A directory you pass is kept. */
  readonly dataDir?: string;
  /** Where the temporary data directory is made when there is no `dataDir` (it must exist). Default: the OS's temporary directory. */
  readonly tempDirParent?: string;
  /**
   * Default true. False makes a write count as done once its transaction is
   * committed, without waiting for that transaction's own fsync; it breaks
   * Paxos's guarantees on a machine crash. It does not remove fsync from the
   * path: LMDB (with lmdb-js's overlapping sync) completes a commit only once
   * the previous transaction's fsync is done, so under load replies still
   * keep pace with the disk's fsync rate. For no fsync at all, use
   * `storage: 'memory'`.
   */
  readonly durable?: boolean;
  /**
   * Writes are refused, before they are made, while the disk holding an
   * actor's store has less than this many bytes free: the actor then stops
   * with SYNOD_DISK_FULL instead of running the disk out (see
   * docs/storage.md). Default 64 MiB.
   */
  readonly minFreeBytes?: number;
  /**
   * Named systems (machines), each a list of actors: `{ s1: ['p1', 'a1', 'l1'], ... }`.
   * An actor is on at most one system. `crashSystem(name)` crashes all of a
   * system's actors at once, and `health()` reports each system. Default: none.
   */
  readonly systems?: Readonly<Record<string, readonly string[]>>;
  /**
   * How each actor watches the peers it talks to (see `health()`): a peer
   * sent nothing for `pingEveryMs` gets a liveness ping, and a peer not
   * heard for longer than `suspectAfterMs` is suspected. Default
   * `{ pingEveryMs: 100, suspectAfterMs: 1000 }`. `false` turns the pings
   * off: health then knows only what the supervisor sees (threads that exit).
   */
  readonly failureDetector?: Partial<DetectorOptions> | false;
}
