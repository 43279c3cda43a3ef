/**
 * The public API of the worker-thread runtime: a Paxos cluster in one
 * process, every proposer, acceptor and learner an actor in its own worker
 * thread, with its own LMDB store, under a supervisor.
 *
 *     const cluster = await createCluster({ proposers: 2, acceptors: 3, learners: 1 });
 *     try {
 *       const decided = await cluster.propose('x');
 *     } finally {
 *       await cluster.close();
 *     }
 *
 * The cluster feeds a {@link SafetyChecker} with the live facts (values
 * proposed, acceptor records made durable and recovered, learner decisions,
 * broken invariants) and emits a 'violation' event for anything it finds.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Ballot } from '../core/ballot.js';
import { coreConfig, NO_BUGS, type ControlBugs, type CoreConfig } from '../core/config.js';
import type { AcceptorRecord, DurableRecord } from '../core/effects.js';
import { allActors, membership, roleOf, type ActorId, type Membership, type Role } from '../core/ids.js';
import type { AcceptedProposal } from '../core/messages.js';
import type { Value } from '../core/value.js';
import { SafetyChecker } from '../check/safety.js';
import type { Violation } from '../check/types.js';
import { actorCount, callTimeoutSchema, clientValueProblem, millis, parseOptions, sharedClusterFields, type SharedClusterOptions } from './options.js';
import { SupervisedCluster } from './supervised.js';
import type { HealthEvents } from './health.js';
import { clusterDataDir, removeTempDataDir } from './tempdir.js';
import { DEFAULT_SUPERVISOR, Supervisor, requireBuiltWorker, type CrashEvent, type FailedEvent, type RestartEvent, type SupervisorOptions, type SynodProtocol } from './supervisor.js';
import { createTransport, type TransportKind } from './transports/index.js';
import type { TraceEvent } from '../trace/types.js';
import { SynodError } from '../errors.js';
import type { StorageSpec } from './wire.js';

/** Options of {@link createCluster}. Everything but the three counts has a default. */
export interface ClusterOptions extends SharedClusterOptions {
  /** Number of learners, named l1..lN (may be 0). */
  readonly learners: number;
  /** 'lmdb' (default) or 'memory': state is then lost with the worker, so acceptors forget their promises on a crash (the amnesia experiment). */
  readonly storage?: 'lmdb' | 'memory';
  /** Most messages an actor's mailbox holds; beyond it the newest message is dropped and counted. Default 10000. */
  readonly mailboxLimit?: number;
  /** Largest value, in bytes of JSON, that a client may propose or a peer may send. Default 64 KiB. */
  readonly maxValueBytes?: number;
  /** Supervisor policy, restart intensity and backoff; see {@link SupervisorOptions}. */
  readonly supervisor?: Partial<SupervisorOptions>;
  /** Protocol timing, in milliseconds (see CoreConfig). */
  readonly core?: Partial<Pick<CoreConfig, 'phaseTimeoutMs' | 'backoffBaseMs' | 'backoffMaxMs' | 'maxRoundJump'>>;
  /** Deliberate protocol bugs, for showing that the safety checker catches them. */
  readonly bugs?: Partial<ControlBugs>;
  /** What carries the actors' messages: 'port' (direct MessagePorts, the default), 'hub' (relayed by the main thread) or 'ring' (SharedArrayBuffer rings). */
  readonly transport?: TransportKind;
  /** The amnesia experiment: acceptors keep their state only in memory, so a restart wipes their promises. Breaks Paxos on purpose. */
  readonly amnesia?: boolean;
  /** The no-fsync experiment: acceptors acknowledge writes at once and flush them to LMDB only every {@link noFsyncFlushMs}; a crash loses the rest. Breaks Paxos on purpose. */
  readonly noFsync?: boolean;
  /** Flush interval of the no-fsync experiment, ms. Default 100. */
  readonly noFsyncFlushMs?: number;
  /** Record every send, receive, drop, persist, crash, restart and decision as trace events with vector clocks ({@link Cluster.traceOf}). Costs a post to the main thread per event. */
  readonly trace?: boolean;
  /** Test hooks. `failStartup[id]`: incarnations after+1 .. after+times of actor `id` throw during start-up (times default: forever). */
  readonly testHooks?: { readonly failStartup?: Readonly<Record<ActorId, { readonly after: number; readonly times?: number }>> };
}

/** Options of {@link Cluster.propose}. */
export interface ProposeOptions {
  /** The proposer to ask; default the first (p1). */
  readonly proposer?: ActorId;
  /** Reject with SYNOD_TIMEOUT if no decision comes within this many ms. Default: wait (through restarts) until decided, failed or closed. */
  readonly timeoutMs?: number;
}

/** The schema of {@link ProposeOptions}: a timeout of −5 or NaN ms, or a field it does not have, is an error. */
const proposeOptionsSchema = z.strictObject({ proposer: z.string().optional(), timeoutMs: callTimeoutSchema.optional() });

/** A learner decided. */
export interface DecideEvent {
  readonly id: ActorId;
  readonly ballot: Ballot;
  readonly value: Value;
}

/** An actor's record became durable. */
export interface DurableEvent {
  readonly id: ActorId;
  readonly record: DurableRecord;
}

/** The events of a {@link Cluster}. */
export interface ClusterEvents extends HealthEvents {
  decide: [DecideEvent];
  durable: [DurableEvent];
  /** One trace event (only with `trace: true`), in the order added to the trace. */
  trace: [TraceEvent];
  crash: [CrashEvent];
  restart: [RestartEvent];
  failed: [FailedEvent];
  violation: [Violation];
}

const optionsSchema = z.strictObject({
  proposers: actorCount.min(1),
  acceptors: actorCount.min(1),
  learners: actorCount,
  ...sharedClusterFields,
  amnesia: z.boolean().default(false),
  noFsync: z.boolean().default(false),
  noFsyncFlushMs: millis.min(1).default(100),
  core: z.strictObject({ phaseTimeoutMs: millis.min(1), backoffBaseMs: millis.min(1), backoffMaxMs: millis.min(1), maxRoundJump: z.number().int().min(1) }).partial().default({}),
  bugs: z.strictObject({ ignoreAccepted: z.boolean(), reuseBallot: z.boolean() }).partial().default({}),
  testHooks: z
    .strictObject({ failStartup: z.record(z.string(), z.strictObject({ after: z.number().int().min(0), times: z.number().int().min(1).optional() })) })
    .partial()
    .default({}),
});

interface ProposeRequest {
  readonly value: Value;
  readonly resolve: (value: Value) => void;
  readonly reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * Starts a cluster and resolves once every actor serves. Options are
 * validated before anything starts; invalid ones reject with a SynodError
 * (code SYNOD_INVALID_OPTIONS) naming every problem. If an actor cannot
 * start, everything started is stopped and it rejects with SYNOD_START_FAILED.
 */
export async function createCluster(options: ClusterOptions): Promise<Cluster> {
  const cluster = new Cluster(options);
  await cluster.start();
  return cluster;
}

/** A running cluster. Create it with {@link createCluster}; always {@link close} it. */
export class Cluster extends SupervisedCluster<SynodProtocol, ClusterEvents> {
  /** Who is in the cluster. */
  readonly members: Membership;
  /** Where the actors' stores live (`${dataDir}/${actorId}`); null with in-memory storage. */
  readonly dataDir: string | null;
  /** The safety checker watching this cluster's live events. */
  readonly checker: SafetyChecker;
  /** Decisions reported by learners. */
  readonly decisions = new Map<ActorId, AcceptedProposal>();

  private readonly options: z.output<typeof optionsSchema>;
  private readonly ownsDataDir: boolean;
  private readonly config: CoreConfig;
  protected readonly supervisor: Supervisor;
  private readonly requests = new Map<ActorId, Set<ProposeRequest>>();
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Step counter for the safety checker: one per fact fed to it. */
  private step = 0;
  private violationsReported = 0;

  /** Validates `options` and prepares the cluster without starting it; {@link createCluster} is the way to get a running one. */
  constructor(options: ClusterOptions) {
    super();
    this.options = parseOptions(optionsSchema, options, 'createCluster options', 'SYNOD_INVALID_OPTIONS');
    const o = this.options;
    this.members = membership(o.proposers, o.acceptors, o.learners);
    this.placeSystems(o.systems, 'createCluster options');
    const strangers = Object.keys(o.testHooks.failStartup ?? {}).filter((id) => roleOf(this.members, id) === null);
    if (strangers.length > 0) throw new SynodError('SYNOD_INVALID_OPTIONS', `invalid createCluster options: testHooks.failStartup names ${strangers.join(', ')}, not actors of this cluster`);
    requireBuiltWorker();
    this.config = coreConfig(this.members, { ...o.core, bugs: { ...NO_BUGS, ...o.bugs } });
    this.checker = new SafetyChecker(this.members);
    if (o.amnesia && o.noFsync) throw new SynodError('SYNOD_INVALID_OPTIONS', 'invalid createCluster options: amnesia and noFsync are two different experiments; choose one');
    if (o.trace) this.startTracing(allActors(this.members));
    const dir = clusterDataDir(o, 'synod-', 'createCluster options');
    this.dataDir = dir.dataDir;
    this.ownsDataDir = dir.owned;
    for (const id of this.members.proposers) this.requests.set(id, new Set());
    this.supervisor = new Supervisor(
      {
        ids: allActors(this.members),
        peersOf: (id) => allActors(this.members).filter((peer) => roleOf(this.members, peer) !== roleOf(this.members, id)),
        transport: createTransport(o.transport),
        boot: { protocol: 'synod', lmdb: this.dataDir !== null },
        initOf: (id, incarnation) => {
          const hook = o.testHooks.failStartup?.[id];
          const acceptor = this.members.acceptors.includes(id);
          const storage: StorageSpec =
            this.dataDir === null || (o.amnesia && acceptor)
              ? { kind: 'memory' }
              : { kind: 'lmdb', dir: join(this.dataDir, id), durable: o.durable, ...(o.noFsync && acceptor ? { lazyFlushMs: o.noFsyncFlushMs } : {}), ...(o.minFreeBytes !== undefined ? { minFreeBytes: o.minFreeBytes } : {}) };
          return {
            id,
            role: roleOf(this.members, id) as Role,
            config: this.config,
            storage,
            protocol: 'synod',
            mailboxLimit: o.mailboxLimit,
            maxValueBytes: o.maxValueBytes,
            incarnation,
            failStartup: hook !== undefined && incarnation > hook.after && incarnation <= hook.after + (hook.times ?? Infinity),
            links: this.links.outgoing(id),
            trace: o.trace,
          };
        },
      },
      { ...DEFAULT_SUPERVISOR, ...o.supervisor },
    );
    this.supervisor.on('ready', (id, record) => this.onReady(id, record));
    this.supervisor.on('message', (id, msg) => {
      if (msg.type === 'durable') this.onDurable(id, msg.record);
      else if (msg.type === 'trace') this.tracer?.addFromWorker(msg.events);
      else if (msg.type === 'decide') this.onDecide(id, { ballot: msg.ballot, value: msg.value });
      else this.answer(id, { value: msg.value });
    });
    this.traceLifecycle();
    this.watchHealth(o.failureDetector);
    this.supervisor.on('crash', (e) => {
      if (e.cause.code === 'SYNOD_ASSERTION') this.fact(() => this.checker.invariantBroken(e.id, e.cause.message, this.step));
      this.emit('crash', e);
    });
    this.supervisor.on('restart', (e) => this.emit('restart', e));
    this.supervisor.on('failed', (e) => {
      if (this.requests.has(e.id)) this.answer(e.id, { error: new SynodError('SYNOD_ACTOR_FAILED', `proposer ${e.id} failed and will not be restarted (${e.cause.message}); propose through another proposer`) });
      this.emit('failed', e);
    });
  }

  /** Starts every actor; resolves when all serve. {@link createCluster} calls it; calling it again returns the same promise. */
  start(): Promise<void> {
    this.starting ??= this.startActors(this.dataDir).catch(async (err: unknown) => {
      await this.close();
      throw new SynodError('SYNOD_START_FAILED', `the cluster did not start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    return this.starting;
  }

  /**
   * Asks a proposer to propose `value` and resolves with the value the
   * cluster DECIDED (which may be another proposer's). If the proposer
   * crashes meanwhile, the request is sent again once it is back; if it is
   * failed, the cluster is closed, or `timeoutMs` passes, it rejects.
   */
  async propose(value: Value, opts: ProposeOptions = {}): Promise<Value> {
    if (this.closing) throw new SynodError('SYNOD_CLOSED', 'cannot propose: the cluster is closed');
    opts = parseOptions(proposeOptionsSchema, opts, 'propose options', 'SYNOD_INVALID_ARGUMENT');
    const proposer = opts.proposer ?? (this.members.proposers[0] as ActorId);
    const requests = this.requests.get(proposer);
    if (!requests) throw new SynodError('SYNOD_INVALID_ARGUMENT', `${JSON.stringify(proposer)} is not a proposer; the proposers are ${this.members.proposers.join(', ')}`);
    const problem = clientValueProblem(value, this.options.maxValueBytes);
    if (problem !== null) throw new SynodError('SYNOD_INVALID_ARGUMENT', `cannot propose: ${problem}`);
    if (this.supervisor.status(proposer) === 'failed') throw new SynodError('SYNOD_ACTOR_FAILED', `proposer ${proposer} failed and will not be restarted; propose through another proposer`);
    this.fact(() => this.checker.proposed(value));
    return new Promise<Value>((resolve, reject) => {
      const request: ProposeRequest = { value, resolve, reject };
      if (opts.timeoutMs !== undefined) {
        request.timer = setTimeout(() => {
          requests.delete(request);
          reject(new SynodError('SYNOD_TIMEOUT', `${proposer} reported no decision within ${opts.timeoutMs} ms; the value may still be chosen later`));
        }, opts.timeoutMs);
      }
      requests.add(request);
      // If the proposer is not serving, onReady sends it.
      this.supervisor.post(proposer, { type: 'propose', value });
    });
  }

  protected traceSource(): Readonly<Record<string, unknown>> {
    const o = this.options;
    return { proposers: o.proposers, acceptors: o.acceptors, learners: o.learners, transport: o.transport };
  }

  /** Stops every worker, rejects every pending request, removes the temporary data directory. Idempotent. */
  override close(): Promise<void> {
    this.closing ??= (async () => {
      for (const id of this.requests.keys()) this.answer(id, { error: new SynodError('SYNOD_CLOSED', 'the cluster was closed before a decision') });
      await this.supervisor.close();
      if (this.ownsDataDir && this.dataDir !== null) await removeTempDataDir(this.dataDir);
    })();
    return this.closing;
  }

  private onReady(id: ActorId, record: DurableRecord | null): void {
    if (this.members.acceptors.includes(id)) this.fact(() => this.checker.acceptorRecovered(id, record as AcceptorRecord | null, this.step));
    for (const r of this.requests.get(id) ?? []) this.supervisor.post(id, { type: 'propose', value: r.value });
  }

  private onDurable(id: ActorId, record: DurableRecord): void {
    if (record.role === 'acceptor') this.fact(() => this.checker.acceptorDurable(id, record, this.step));
    this.emit('durable', { id, record });
  }

  private onDecide(id: ActorId, proposal: AcceptedProposal): void {
    this.decisions.set(id, proposal);
    this.fact(() => this.checker.decided(id, proposal, this.step));
    this.emit('decide', { id, ...proposal });
  }

  /** Settles every pending request at proposer `id`. */
  private answer(id: ActorId, outcome: { value: Value } | { error: Error }): void {
    const requests = this.requests.get(id);
    if (!requests) return;
    for (const r of requests) {
      clearTimeout(r.timer);
      if ('value' in outcome) r.resolve(outcome.value);
      else r.reject(outcome.error);
    }
    requests.clear();
  }

  /** Feeds one fact to the checker and emits any violation it found. */
  private fact(feed: () => void): void {
    this.step++;
    feed();
    const found = this.checker.violations;
    while (this.violationsReported < found.length) {
      const v = found[this.violationsReported++] as Violation;
      this.traceViolation(v);
      this.emit('violation', v);
    }
  }
}
