/**
 * The public API of the replicated key-value store: Multi-Paxos on worker
 * threads. Every proposer, acceptor and learner is an actor in its own
 * worker thread (workers/actor.js, the one worker entry of both protocols) under a supervisor; acceptors and
 * proposers keep an append-only LMDB record log; the learners apply the
 * chosen log to a key-value state machine and answer the clients.
 *
 *     const kv = await createKvCluster({ proposers: 3, acceptors: 3, learners: 2 });
 *     try {
 *       await kv.put('x', 1);
 *       const swapped = await kv.cas('x', 1, 2);
 *       const x = await kv.get('x');
 *     } finally {
 *       await kv.close();
 *     }
 *
 * This module is the cluster's lifecycle (options, supervision, the checker,
 * traces and stamps) and the key-value surface (get, put, cas, with their
 * argument checks). The client itself is generic over the state machine and
 * lives in src/runtime/client/: the session pool with its (clientId, seq)
 * sessions, routing to the leader, retries, rejects and backoff, expired
 * sessions and timeouts (log-client.ts), and history recording
 * (recorder.ts). The
 * key-value machine's side of it (how answers decode, how operations are
 * named and recorded) is src/machines/kv/client.ts.
 *
 * Client path. Commands go from the main thread straight to the proposer's
 * worker over its parentPort (which is a direct MessagePort: a separate
 * channel would add nothing); all commands issued in one main-thread turn go
 * to a proposer in one postMessage, and each learner answers all the
 * commands it applied in one of its turns in one postMessage of flat
 * primitives. Per-command work on the main thread is a session lookup and a
 * promise.
 *
 * Checking. With `check` (the default) the acceptors report every record
 * they make durable and the learners every slot they apply, and a
 * {@link LogSafetyChecker} watches them ('violation' events). With `history`
 * every operation is recorded as Jepsen-format events for
 * {@link checkLinearizable}.
 */
import type { TraceEvent } from '../trace/types.js';
import { createTransport, type TransportKind } from './transports/index.js';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { HistoryEvent } from '../check/history.js';
import { LogSafetyChecker } from '../check/log-safety.js';
import type { Violation } from '../check/types.js';
import type { Ballot } from '../core/ballot.js';
import { allActors, membership, roleOf, type ActorId, type Membership, type Role } from '../core/ids.js';
import { mpConfig, type MpConfig } from '../core/multipaxos/types.js';
import type { KvOp } from '../machines/kv/machine.js';
import { kvClient, type KvAnswer } from '../machines/kv/client.js';
import type { Value } from '../core/value.js';
import { actorCount, clientValueProblem, millis, parseOptions, sharedClusterFields, type SharedClusterOptions } from './options.js';
import type { KvView, MpProtocol, MpRecovered, MpTurnReport, ReconfigAnswer } from './mpwire.js';
import type { Reconfig } from '../core/multipaxos/views.js';
import { SupervisedCluster } from './supervised.js';
import type { HealthEvents } from './health.js';
import { clusterDataDir, removeTempDataDir } from './tempdir.js';
import { DEFAULT_SUPERVISOR, Supervisor, requireBuiltWorker, type CrashEvent, type FailedEvent, type RestartEvent, type SupervisorOptions } from './supervisor.js';
import { SynodError } from '../errors.js';
import type { StorageSpec } from './wire.js';
import { Stamper, commandKey, stampNow, type Stamp } from './stamps.js';
import { LogClient } from './client/log-client.js';
import { AcceptorReplacer, AdminChannel, planReconfiguration, readMembers, reconfigMade, retiredIds, writeMembers, type KvReconfiguration, type ReplaceEvent, type ReplaceFailedEvent, type ReplacePolicy } from './reconfig.js';
import { nextClientNumber, REGISTRY_DIR, retireActor } from './storage/registry.js';
import { HistoryRecorder } from './client/recorder.js';

/** The roles, as a membership names them, and the first letter of their ids. */
const ROLES = ['proposers', 'acceptors', 'learners'] as const;
const PREFIX = { proposers: 'p', acceptors: 'a', learners: 'l' } as const;

/** Options of {@link createKvCluster}. Everything but the three counts has a default. */
export interface KvClusterOptions extends SharedClusterOptions {
  /** Number of learners, named l1..lN; at least 1, since learners answer the clients. */
  readonly learners: number;
  /** 'lmdb' (default) or 'memory': logs are then lost with the worker, so a crashed acceptor forgets its promises (for experiments and for measuring the disk's cost). */
  readonly storage?: 'lmdb' | 'memory';
  /**
   * Most commands in one log slot; also the most the client posts to a
   * proposer in one turn. Default 256: batches only fill under load, so a
   * large bound costs nothing when idle, and on a 2-vCPU machine 256 gave
   * 1.2-1.5x the throughput of 64 at 256 clients (bench/kv-cluster.ts).
   */
  readonly batchMax?: number;
  /** Most slots the leader has in flight (proposed, not yet chosen). Default 32. */
  readonly window?: number;
  /**
   * How reads are served. `index` (the default, ReadIndex): the leader
   * confirms with one round of messages to the acceptors that it still
   * leads, and the learners answer once they have applied up to its commit
   * index; no disk is written, and no clock is trusted. `log`: a read is a
   * command of the log, written by every acceptor like a write. Both are
   * linearizable.
   */
  readonly reads?: 'index' | 'log';
  /**
   * How learners learn that a slot is chosen. `commit` (the default): the
   * leader counts the acceptors' votes and tells them. `votes` (classic
   * Paxos): every acceptor sends its vote, with the value, to the learners
   * too, and a learner takes a slot once a majority voted for it; one hop
   * less on the commit path, for three votes per learner instead of one
   * commit (docs/protocols.md measures both).
   */
  readonly learn?: 'commit' | 'votes';
  /**
   * Most operations in flight at once: the size of the pool of client
   * sessions; more wait, in order, for a session to free up. Default 4096.
   * This is a cap, not a target: sessions are made only as operations need
   * them, so a high cap costs nothing until the load is there. Below the
   * number of concurrent callers it queues their operations on the main
   * thread and adds that wait to their latency (at 256 callers a cap of 64
   * gave a p50 of 16 ms against 6 ms uncapped); lower it only to bound the
   * load this client puts on the cluster.
   */
  readonly concurrency?: number;
  /** An operation still unanswered this long after it was called rejects with SYNOD_TIMEOUT (it may still take effect). Default 30000. */
  readonly timeoutMs?: number;
  /** A request with no answer after this long is sent again, under the same (clientId, seq). Default 1000. */
  readonly retryMs?: number;
  /** Record every operation as Jepsen-format events; read them with {@link KvCluster.history}. Default false. */
  readonly history?: boolean;
  /** Feed the log safety checker (acceptors and learners then report their facts to the main thread). Default true. */
  readonly check?: boolean;
  /** Record every send, receive, persist, durable write, applied slot, crash and restart as trace events with vector clocks ({@link KvCluster.traceOf}). For looking, not for benchmarks. Default false. */
  readonly trace?: boolean;
  /**
   * Take stage stamps: wall-clock timestamps of each operation on every
   * thread it crosses (client, leader, acceptors, learners), read with
   * {@link KvCluster.stamps}, from which `synod bench` splits one
   * operation's latency into stages. For measuring; they accumulate until
   * read. Default false, which takes none.
   */
  readonly stamps?: boolean;
  /** createKvCluster waits this long for the first leader, then fails with SYNOD_START_FAILED. Default 10000. */
  readonly startTimeoutMs?: number;
  /** Most peer messages an actor's mailbox holds; beyond it the newest is dropped and counted. Default 10000. */
  readonly mailboxLimit?: number;
  /** Largest value, in bytes of JSON, that put or cas accept. Default 64 KiB. */
  readonly maxValueBytes?: number;
  /** Longest key, in bytes of UTF-8, that get, put or cas accept. Default 1 KiB. */
  readonly maxKeyBytes?: number;
  /** Supervisor policy, restart intensity and backoff; see {@link SupervisorOptions}. */
  readonly supervisor?: Partial<SupervisorOptions>;
  /** What carries the actors' messages: 'port' (direct MessagePorts, the default), 'hub' (relayed by the main thread) or 'ring' (SharedArrayBuffer rings). */
  readonly transport?: TransportKind;
  /**
   * Replace dead acceptors automatically: an acceptor of the current view
   * that the failure detection has reported dead or suspected, without a
   * break, for longer than `after` ms is replaced by a fresh one (an id never
   * used before) through {@link KvCluster.reconfigure}: one at a time, never
   * while another reconfiguration runs, one for one (the view keeps as many
   * acceptors), with a `replace` event when done and a `replaceFailed` event
   * when refused (it is tried again after another `after` ms). Default
   * false: off; nothing is replaced unless asked.
   */
  readonly replaceDeadAcceptors?: ReplacePolicy | false;
  /** Protocol timing, in milliseconds, and limits (see MpConfig). */
  readonly core?: Partial<Pick<MpConfig, 'heartbeatMs' | 'electionMinMs' | 'electionMaxMs' | 'retryMs' | 'catchupMax' | 'maxAcceptBytes' | 'compactEvery' | 'maxRoundJump' | 'maxSessions'>>;
}

/** A proposer became the leader at `ballot`. */
export interface ElectedEvent {
  readonly id: ActorId;
  readonly ballot: Ballot;
}

/** The events of a {@link KvCluster}. */
export interface KvClusterEvents extends HealthEvents {
  elected: [ElectedEvent];
  crash: [CrashEvent];
  restart: [RestartEvent];
  failed: [FailedEvent];
  violation: [Violation];
  /** One trace event (only with `trace: true`). */
  trace: [TraceEvent];
  /** The automatic policy replaced a dead acceptor (with `replaceDeadAcceptors` only). */
  replace: [ReplaceEvent];
  /** A replacement the automatic policy started was not made (with `replaceDeadAcceptors` only). */
  replaceFailed: [ReplaceFailedEvent];
}

/** What the client side of a {@link KvCluster} has done. */
export interface KvClientStats {
  /** Operations answered (ok, or a cas that did not swap). */
  completed: number;
  /** Operations that rejected with SYNOD_TIMEOUT. */
  timedOut: number;
  /** Requests posted to proposers (first sends and re-sends). */
  sends: number;
  /** Re-sends after `retryMs` without an answer, or because the proposer crashed. */
  resends: number;
  /** Commands a proposer rejected because it did not lead. */
  rejected: number;
  /**
   * Answers that settled nothing, because their operation was already
   * answered or abandoned. Every learner answers every operation it applies
   * and the first answer wins, so with L learners this is about (L - 1) x
   * completed in normal operation; beyond that it counts answers to
   * re-sent, timed-out or closed operations.
   */
  extraAnswers: number;
  /** @deprecated The same count as {@link KvClientStats.extraAnswers}, under its old name (it never meant "late"). */
  lateAnswers: number;
  /** postMessage calls carrying requests to proposers. */
  posts: number;
}

/**
 * The most bytes of JSON one batch (one log slot) may take on a link between
 * actors: `batchMax` commands of the largest key and values the client
 * accepts (a cas carries two values), with room for the rest of a command.
 * A batch past it is dropped as oversized by the receiving actor, so no
 * member can make the others store more than the client ever could.
 */
export function maxBatchBytes(o: { readonly batchMax: number; readonly maxKeyBytes: number; readonly maxValueBytes: number }): number {
  return o.batchMax * (o.maxKeyBytes + 2 * o.maxValueBytes + 512);
}

/** The defaults of {@link KvClusterOptions} that tools built on the cluster (the `synod kv` command) show and pass on, so they cannot drift apart. */
export const KV_DEFAULTS = { batchMax: 256, window: 32, concurrency: 4096 } as const;

const optionsSchema = z
  .strictObject({
    proposers: actorCount.min(1),
    acceptors: actorCount.min(1),
    learners: actorCount.min(1),
    ...sharedClusterFields,
    batchMax: z.number().int().min(1).max(100_000).default(KV_DEFAULTS.batchMax),
    window: z.number().int().min(1).max(100_000).default(KV_DEFAULTS.window),
    reads: z.enum(['index', 'log']).default('index'),
    learn: z.enum(['commit', 'votes']).default('commit'),
    concurrency: z.number().int().min(1).max(1_000_000).default(KV_DEFAULTS.concurrency),
    timeoutMs: millis.min(1).default(30_000),
    retryMs: millis.min(1).default(1000),
    history: z.boolean().default(false),
    check: z.boolean().default(true),
    stamps: z.boolean().default(false),
    startTimeoutMs: millis.min(1).default(10_000),
    maxKeyBytes: z.number().int().min(1).max(1 << 20).default(1024),
    replaceDeadAcceptors: z.union([z.literal(false), z.strictObject({ after: millis.min(1) })]).default(false),
    core: z
      .strictObject({
        heartbeatMs: millis.min(1),
        electionMinMs: millis.min(1),
        electionMaxMs: millis.min(1),
        retryMs: millis.min(1),
        catchupMax: z.number().int().min(1),
        maxAcceptBytes: z.number().int().min(1),
        compactEvery: z.number().int().min(0),
        maxRoundJump: z.number().int().min(1),
        maxSessions: z.number().int().min(1),
      })
      .partial()
      .default({}),
  })
  .superRefine((o, ctx) => {
    const t = mpConfig(membership(1, 1, 1), o.core);
    if (t.electionMaxMs <= t.electionMinMs) ctx.addIssue({ code: 'custom', path: ['core', 'electionMaxMs'], message: `must be above electionMinMs (${t.electionMinMs})` });
    if (t.heartbeatMs >= t.electionMinMs) ctx.addIssue({ code: 'custom', path: ['core', 'heartbeatMs'], message: `must be below electionMinMs (${t.electionMinMs}), or followers time out between heartbeats` });
  });

/**
 * Starts a key-value cluster and resolves once every actor serves and a
 * leader is elected. Options are validated before anything starts; invalid
 * ones reject with a SynodError (code SYNOD_INVALID_OPTIONS) naming every
 * problem. If an actor cannot start or no leader emerges within
 * `startTimeoutMs`, everything started is stopped and it rejects with
 * SYNOD_START_FAILED.
 */
export async function createKvCluster(options: KvClusterOptions): Promise<KvCluster> {
  const kv = new KvCluster(options);
  await kv.start();
  return kv;
}

/** A running key-value cluster and its client. Create it with {@link createKvCluster}; always {@link close} it. */
export class KvCluster extends SupervisedCluster<MpProtocol, KvClusterEvents> {
  /** The actors the cluster runs: the current view's, and any a reconfiguration is bringing in. */
  private hosted: Membership;
  /** The newest view that decides (see {@link view}). */
  private current: KvView;
  /** The newest view known chosen (it may not decide a slot yet): the clients look for the leader among its proposers. */
  private chosen: KvView;
  /** Takes reconfigurations to the leader. */
  private readonly admin: AdminChannel;
  /** True when the data directory held an earlier cluster's actors (see the constructor). */
  private readonly reopened: boolean;
  /** Actors removed (or brought in for a reconfiguration the log refused): their ids are not used again. */
  private readonly retired = new Set<ActorId>();
  /** The reconfigurations asked for, one after the other. */
  private reconfigs: Promise<unknown> = Promise.resolve();
  /** How many reconfigurations run or wait to run. */
  private reconfiguring = 0;
  /** Every id the cluster has run (an id is used once). */
  private readonly used = new Set<ActorId>();
  /** The automatic replacement of dead acceptors (with `replaceDeadAcceptors`), or null. */
  private readonly replacer: AcceptorReplacer | null;
  /** Where the actors' logs live (`${dataDir}/${actorId}`); null with in-memory storage. */
  readonly dataDir: string | null;
  /** The log safety checker fed with the live facts (when `check` is on). */
  readonly checker: LogSafetyChecker;

  private readonly options: z.output<typeof optionsSchema>;
  private readonly ownsDataDir: boolean;
  private readonly config: MpConfig;
  protected readonly supervisor: Supervisor<MpProtocol>;
  /** The client: sessions, routing, retries (src/runtime/client/log-client.ts). */
  private readonly client: LogClient<KvOp, KvAnswer>;
  /** Every operation as Jepsen events (with `history` only). */
  private readonly recorder: HistoryRecorder<KvOp, KvAnswer> | null;
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Step counter for the checker: one per fact fed to it. */
  private step = 0;
  private violationsReported = 0;
  /** The client's stage stamps (with `stamps` only). */
  private readonly stamper: Stamper | null;

  /** Validates `options` and prepares the cluster without starting it; {@link createKvCluster} is the way to get a running one. */
  constructor(options: KvClusterOptions) {
    super();
    this.options = parseOptions(optionsSchema, options, 'createKvCluster options', 'SYNOD_INVALID_OPTIONS');
    const o = this.options;
    const configured = membership(o.proposers, o.acceptors, o.learners);
    // A data directory a cluster ran on records its members: reopened, it starts the newest view's (see writeMembers).
    const record = o.storage === 'lmdb' && o.dataDir !== undefined ? readMembers(o.dataDir) : null;
    if (record !== null && JSON.stringify(record.configured) !== JSON.stringify(configured)) {
      const shape = (m: Membership) => `${m.proposers.length} proposers, ${m.acceptors.length} acceptors and ${m.learners.length} learners`;
      throw new SynodError('SYNOD_INVALID_OPTIONS', `invalid createKvCluster options: data directory ${o.dataDir} holds a cluster created with ${shape(record.configured)}, not ${shape(configured)}; reopen it with the counts it was created with (its members now are those of view ${record.view.epoch}: acceptors ${record.view.acceptors.join(', ')}; learners ${record.view.learners.join(', ')})`);
    }
    if (record !== null && record.view.epoch > 0 && o.check) {
      throw new SynodError('SYNOD_INVALID_OPTIONS', `invalid createKvCluster options: data directory ${o.dataDir} holds a cluster that was reconfigured (view ${record.view.epoch}), and the log safety checker cannot work out the views of a reopened log; reopen it with check: false`);
    }
    this.hosted = record?.hosted ?? configured;
    this.current = record?.view ?? { epoch: 0, from: 0, proposers: configured.proposers, acceptors: configured.acceptors, learners: configured.learners };
    this.chosen = this.current;
    this.placeSystems(o.systems, 'createKvCluster options');
    requireBuiltWorker();
    // The protocol's configuration names view 0, the members the cluster was created with; later views come from the log.
    this.config = mpConfig(configured, { ...o.core, batchMax: o.batchMax, window: o.window, reads: o.reads, learn: o.learn });
    const dir = clusterDataDir(o, 'synod-kv-', 'createKvCluster options');
    this.dataDir = dir.dataDir;
    this.ownsDataDir = dir.owned;
    if (this.dataDir !== null) for (const id of retiredIds(this.dataDir)) this.retired.add(id);
    const registry = this.dataDir === null ? null : join(this.dataDir, REGISTRY_DIR);
    this.reopened = registry !== null && existsSync(registry) && readdirSync(registry).length > 0;
    // A fresh log may reconfigure: the checker judges each slot by its own view (α is the window), which it works out
    // from the slots applied. On a log reopened from its data directory it sees no slot below the learners' snapshots,
    // so it checks with the configured members only, and such a cluster does not reconfigure with the checker on.
    this.checker = new LogSafetyChecker(this.members, this.reopened ? {} : { alpha: this.config.window });
    this.stamper = o.stamps ? new Stamper('client') : null;
    this.recorder = o.history ? new HistoryRecorder(kvClient.history) : null;
    const stamper = this.stamper;
    const chosen = () => this.chosen;
    this.client = new LogClient<KvOp, KvAnswer>(
      {
        // The newest view's: a reconfiguration may change them.
        get proposers() {
          return chosen().proposers;
        },
        serving: (id) => this.supervisor.status(id) === 'running',
        post: (id, commands) => {
          if (stamper) for (const c of commands) stamper.add('post', commandKey(c.clientId, c.seq), id);
          this.supervisor.post(id, { type: 'request', commands: JSON.stringify(commands) });
        },
      },
      {
        concurrency: o.concurrency,
        timeoutMs: o.timeoutMs,
        retryMs: o.retryMs,
        batchMax: o.batchMax,
        name: 'key-value cluster',
        machine: kvClient,
        problem: (op) => this.opProblem(op),
        observer: this.recorder,
        stamp: stamper ? (stage, c, from) => stamper.add(stage, commandKey(c.clientId, c.seq), from) : null,
      },
      randomUUID().slice(0, 8),
    );
    this.admin = new AdminChannel(
      {
        route: (avoid) => this.client.route(avoid),
        serving: (id) => this.supervisor.status(id) === 'running',
        post: (id, command) => this.supervisor.post(id, { type: 'request', commands: JSON.stringify([command]) }),
      },
      { retryMs: o.retryMs, timeoutMs: o.timeoutMs },
    );
    if (o.trace) this.startTracing(allActors(this.members));
    this.supervisor = new Supervisor<MpProtocol>(
      {
        ids: allActors(this.members),
        // Proposers talk to everyone; acceptors only to proposers; learners to proposers and to each other (snapshots); and
        // when learners learn from votes, acceptors to learners.
        peersOf: (id) => {
          const role = roleOf(this.members, id);
          const votes = this.config.learn === 'votes';
          if (role === 'proposer') return allActors(this.members).filter((peer) => peer !== id);
          if (role === 'learner') return [...this.members.proposers, ...(votes ? this.members.acceptors : []), ...this.members.learners.filter((peer) => peer !== id)];
          return votes ? [...this.members.proposers, ...this.members.learners] : this.members.proposers;
        },
        transport: createTransport(o.transport),
        boot: { protocol: 'multipaxos', lmdb: this.dataDir !== null },
        initOf: (id, incarnation) => {
          const storage: StorageSpec = this.dataDir === null ? { kind: 'memory' } : { kind: 'lmdb', dir: this.storeOf(id), durable: o.durable, ...(o.minFreeBytes !== undefined ? { minFreeBytes: o.minFreeBytes } : {}) };
          const spares = this.spares();
          return { protocol: 'multipaxos', id, role: roleOf(this.members, id) as Role, config: this.config, storage, mailboxLimit: o.mailboxLimit, maxBatchBytes: maxBatchBytes(o), incarnation, reportFacts: o.check, trace: o.trace, links: this.links.outgoing(id), ...(o.stamps ? { stamps: true } : {}), ...(allActors(spares).length > 0 ? { spares } : {}) };
        },
      },
      { ...DEFAULT_SUPERVISOR, ...o.supervisor },
    );
    this.supervisor.on('ready', (id, recovered) => this.onReady(id, recovered));
    this.supervisor.on('message', (id, report) => this.onReport(id, report));
    this.traceLifecycle();
    this.watchHealth(o.failureDetector);
    this.supervisor.on('crash', (e) => {
      if (e.cause.code === 'SYNOD_ASSERTION') this.fact(() => this.checker.invariantBroken(e.id, e.cause.message, this.step));
      this.client.down(e.id);
      this.admin.down(e.id);
      this.emit('crash', e);
    });
    this.supervisor.on('restart', (e) => this.emit('restart', e));
    this.supervisor.on('failed', (e) => {
      this.client.down(e.id);
      this.admin.down(e.id);
      this.emit('failed', e);
    });
    for (const id of [...allActors(this.hosted), ...this.retired]) this.used.add(id);
    this.replacer = o.replaceDeadAcceptors === false ? null : this.replacePolicy(o.replaceDeadAcceptors);
  }

  /** The automatic replacement of dead acceptors, fed by the health events. */
  private replacePolicy(policy: ReplacePolicy): AcceptorReplacer {
    if (this.reopened && this.options.check) throw new SynodError('SYNOD_INVALID_OPTIONS', 'invalid createKvCluster options: replaceDeadAcceptors reconfigures the cluster, and this one is reopened on a data directory an earlier cluster ran on, where reconfiguring needs check: false (the log safety checker cannot work out its views from there)');
    const replacer = new AcceptorReplacer(
      {
        now: stampNow,
        view: () => this.current,
        busy: () => this.reconfiguring > 0 || this.closing !== null,
        usedIds: () => this.used,
        replace: (dead, fresh) => {
          this.traceFault(`replace ${dead}, dead or suspected for over ${policy.after} ms, by ${fresh}`);
          return this.reconfigure({ add: [fresh], remove: [dead] });
        },
        replaced: (e) => this.emit('replace', e),
        failed: (e) => {
          this.traceFault(`the replacement of ${e.removed} by ${e.added} failed: ${e.error.message}`);
          this.emit('replaceFailed', e);
        },
      },
      policy,
    );
    this.on('suspect', (c) => replacer.observed(c));
    this.on('alive', (c) => replacer.observed(c));
    return replacer;
  }

  /** Starts every actor and waits for a leader; {@link createKvCluster} calls it; calling it again returns the same promise. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      // Listening before the actors start, since the first election can come before start() resolves.
      const elected = this.nextElection(this.options.startTimeoutMs);
      // It may time out while the actors are still starting, before it is awaited: not an unhandled rejection.
      elected.catch(() => {});
      try {
        // Sessions of an earlier client of the same data directory, which the learners may still hold, must not be mistaken for ours:
        // client ids start with this client's number in the directory, counted durably before any command is sent, then a random part.
        if (this.dataDir !== null) this.client.prefix = `${nextClientNumber(this.dataDir)}-${this.client.prefix}`;
        this.recordMembers();
        await this.startActors(this.dataDir);
        await elected;
        this.client.start();
      } catch (err) {
        await this.close();
        const reconfigured =
          this.reopened && this.current.epoch > 0
            ? ` (this data directory's cluster was reconfigured to view ${this.current.epoch}: a restarted proposer finds that view through its own record of it, written once the log is compacted past the view's start, or else through a majority of the acceptors of the newest view it recorded, which may be retired; see "Reopening a data directory" in docs/kv-store.md)`
            : '';
        throw new SynodError('SYNOD_START_FAILED', `the key-value cluster did not start: ${err instanceof Error ? err.message : String(err)}${reconfigured}`, { cause: err });
      }
    })();
    return this.starting;
  }

  /** Reads `key`: resolves with its value, or null if it was never written. Linearizable: the read goes through the log. */
  get(key: string): Promise<Value> {
    return this.client.submit({ f: 'read', key }) as Promise<Value>;
  }

  /** Writes `value` (JSON) under `key`; resolves once the write is applied. */
  put(key: string, value: Value): Promise<void> {
    return this.client.submit({ f: 'write', key, value }) as Promise<void>;
  }

  /** Sets `key` to `to` if it holds `from` (null: never written); resolves true if it swapped. */
  cas(key: string, from: Value, to: Value): Promise<boolean> {
    return this.client.submit({ f: 'cas', key, from, to }) as Promise<boolean>;
  }

  /** Who is in the cluster: the actors it runs (the current view's, and any a reconfiguration is bringing in or has not stopped yet). */
  get members(): Membership {
    return this.hosted;
  }

  /**
   * The newest view of the log this cluster knows decides: its number
   * (`epoch`, 0 for the members the cluster was created with), the first slot
   * it decides (`from`) and its proposers, acceptors and learners. Changed
   * by {@link reconfigure}.
   */
  view(): KvView {
    return this.current;
  }

  /**
   * Changes the log's proposers, acceptors and learners through the log
   * itself (Lamport's α: see docs/kv-store.md): `add` and `remove` name
   * proposers (`p4`), acceptors (`a4`) and learners (`l3`), and an id is
   * used once (a removed actor's id cannot be added again).
   *
   * The steps: the change is checked against the current view (every
   * problem rejects with SYNOD_INVALID_ARGUMENT before anything starts);
   * each added actor gets its own worker thread and store (of the cluster's
   * storage kind; a new learner copies a peer's snapshot, a new acceptor
   * needs nothing, a new proposer learns the views from the proposers it was
   * configured with and stands for election once one names it) and every
   * running actor is told of it, before the reconfiguration is proposed;
   * the reconfiguration is proposed and applied; then the cluster waits until a slot of the new view is applied
   * (it proposes the same reconfiguration again, which changes nothing, and
   * lands at or past the new view's `from`: so the new view's acceptors
   * have decided a slot); then each removed actor's thread stops for good
   * and its store is retired: renamed `<store>.retired-<epoch>`, kept, never
   * deleted. Removing an actor that is down or failed works the same way,
   * and so does removing the leader's own proposer: it finishes the slots of
   * the views that name it and steps down, the proposers of the new view
   * elect a leader among themselves, and the clients follow them.
   *
   * Resolves with the new view once all that is done. Rejects with
   * SYNOD_RECONFIG_REFUSED when the log refuses it (the view it followed is
   * not the newest any more: the cluster then takes the newest view, and the
   * actors it runs that are not in it are stopped and retired),
   * SYNOD_START_FAILED when an added actor does not start, SYNOD_TIMEOUT when
   * it got no answer within `timeoutMs` (it may still take effect: the
   * actors brought in for it keep running, and the same call again finds
   * out, since the log answers a reconfiguration it made already as made), and
   * SYNOD_CLOSED on close. Clients keep working throughout (only reads wait
   * while the new view starts). Calls are made one after the other. A
   * cluster reopened on a data directory an earlier cluster ran on
   * reconfigures only with `check: false` (the checker could not work out
   * its views). The data directory records the members at every step
   * (`synod-members.json`), so a cluster reopened on it starts the newest
   * view's actors, not the ones it was created with (see docs/kv-store.md
   * for when its proposers can find that view).
   */
  reconfigure(change: KvReconfiguration): Promise<KvView> {
    this.reconfiguring++;
    const run = this.reconfigs.then(() => this.reconfigureNow(change));
    this.reconfigs = run.then(
      () => this.settled(),
      () => this.settled(),
    );
    return run;
  }

  /** A reconfiguration settled: the replacement policy may look again. */
  private settled(): void {
    this.reconfiguring--;
    this.replacer?.poke();
  }

  /** The proposer that last won an election, if it is still serving; null while none is known. */
  leader(): ActorId | null {
    return this.client.leader();
  }

  /** Stops actor `id` (not counted as a crash) and starts it again; resolves when it serves. Also revives a failed actor. */
  override restart(id: ActorId): Promise<void> {
    this.client.down(id);
    return super.restart(id);
  }

  protected traceSource(): Readonly<Record<string, unknown>> {
    const o = this.options;
    return { protocol: 'multi-paxos', proposers: o.proposers, acceptors: o.acceptors, learners: o.learners, transport: o.transport };
  }


  /**
   * The stage stamps taken since the last call, by the client and by every
   * serving actor, handed over and forgotten (an actor that crashed loses
   * its own). Empty unless the cluster was created with `stamps: true`.
   */
  async stamps(): Promise<Stamp[]> {
    if (this.stamper === null) return [];
    const fromActors = await Promise.all(allActors(this.members).map((id) => this.supervisor.call(id, (c) => c.takeStamps())));
    return [...this.stamper.take(), ...fromActors.flat()];
  }

  /** What the client side has done so far. */
  stats(): KvClientStats {
    const counters = this.client.stats();
    return { ...counters, lateAnswers: counters.extraAnswers };
  }

  /**
   * Every operation so far as Jepsen-format events, in real-time order:
   * `process` is the session (a fresh number after an operation whose outcome
   * is unknown), `f` is read, write or cas, a cas is `ok` whether it swapped
   * or not (one that answered false has `swapped: false`), and an operation
   * that timed out or was cut short
   * by close() is `info`. Operations still in flight have only their
   * `invoke`. Needs the `history` option.
   */
  history(): HistoryEvent[] {
    if (this.recorder === null) throw new SynodError('SYNOD_INVALID_ARGUMENT', 'this cluster records no history; create it with { history: true }');
    return this.recorder.history();
  }

  /**
   * Stops every worker; operations in flight or waiting reject with
   * SYNOD_CLOSED (recorded as `info`: they may have taken effect). Runs the
   * checker's end-of-run checks, emitting any violation they find, and
   * removes the temporary data directory. Idempotent.
   */
  override close(): Promise<void> {
    this.closing ??= (async () => {
      this.replacer?.close();
      this.client.close(() => new SynodError('SYNOD_CLOSED', 'the key-value cluster was closed before an answer; the operation may or may not have taken effect'));
      this.admin.close(new SynodError('SYNOD_CLOSED', 'the key-value cluster was closed before the reconfiguration was answered; it may or may not have taken effect'));
      await this.supervisor.close();
      this.fact(() => this.checker.finish(this.step));
      if (this.ownsDataDir && this.dataDir !== null) await removeTempDataDir(this.dataDir);
    })();
    return this.closing;
  }

  private async reconfigureNow(change: KvReconfiguration): Promise<KvView> {
    if (this.closing !== null) throw new SynodError('SYNOD_CLOSED', 'cannot reconfigure: the key-value cluster is closed');
    if (this.reopened && this.options.check) throw new SynodError('SYNOD_INVALID_ARGUMENT', 'invalid reconfiguration: this cluster was reopened on a data directory an earlier cluster ran on, and the log safety checker cannot work out its views from there; reconfiguring it needs check: false');
    const from = this.current;
    const plan = planReconfiguration(from, change, this.retired);
    const reconfig: Reconfig = { epoch: from.epoch, members: plan.members };
    this.traceFault(`reconfigure view ${from.epoch} -> proposers {${plan.members.proposers.join(',')}}, acceptors {${plan.members.acceptors.join(',')}}, learners {${plan.members.learners.join(',')}}`);
    await this.bringIn(plan.added);
    const clientId = `${this.client.prefix}.admin`;
    const first = await this.admin.send(clientId, reconfig);
    const answered = first.view;
    const made = reconfigMade(reconfig, first.done, answered);
    // The clients look for the leader among the new view's proposers from now on.
    if (answered.epoch > this.chosen.epoch) this.chosen = answered;
    // Until a slot at or past the newest view's `from` is applied, that view may not have decided anything: the same
    // reconfiguration again (which changes nothing) goes in the first slot the leader may propose once the slots before
    // it are all chosen. A refused one waits the same way for the view that came first.
    let answer = first;
    while (answer.slot < answer.view.from) answer = await this.admin.send(clientId, reconfig);
    const newest = answer.view;
    if (newest.epoch > this.current.epoch) {
      this.current = newest;
      if (newest.epoch > this.chosen.epoch) this.chosen = newest;
      this.recordMembers();
    }
    // Whatever the cluster runs beyond the newest view goes: the removed actors, or those brought in for a refused
    // reconfiguration (and any left by an earlier one that timed out).
    const view = this.current;
    const gone = ROLES.flatMap((role) => this.hosted[role].filter((id) => !view[role].includes(id)));
    await this.takeOut(gone, view.epoch);
    if (!made) throw new SynodError('SYNOD_RECONFIG_REFUSED', `the log refused the reconfiguration of view ${from.epoch}: the newest view is ${view.epoch} (proposers ${view.proposers.join(', ')}; acceptors ${view.acceptors.join(', ')}; learners ${view.learners.join(', ')})${gone.length > 0 ? `; ${gone.join(', ')}, not in it, were stopped and retired` : ''}`);
    return view;
  }

  /** Starts actors `ids` (new proposers, acceptors and learners), each told to every running actor first; throws SYNOD_START_FAILED if one does not start. */
  private async bringIn(added: readonly ActorId[]): Promise<void> {
    // One brought in by an earlier reconfiguration that timed out runs already.
    const ids = added.filter((id) => !allActors(this.hosted).includes(id));
    if (ids.length === 0) return;
    for (const id of ids) this.used.add(id);
    const add = (role: (typeof ROLES)[number]) => [...this.hosted[role], ...ids.filter((id) => id.startsWith(PREFIX[role]) && !this.hosted[role].includes(id))];
    const hosted = { proposers: add('proposers'), acceptors: add('acceptors'), learners: add('learners') };
    // Recorded before they start (and before the cluster counts them, in case the record cannot be written): a cluster
    // reopened after a crash here starts them too, whichever view the log ends up with.
    this.recordMembers(hosted);
    this.hosted = hosted;
    await this.regroup();
    await Promise.all(ids.map((id) => this.supervisor.add(id)));
    if (this.closing !== null) throw new SynodError('SYNOD_CLOSED', 'the key-value cluster was closed during the reconfiguration');
    this.actorsChanged();
    const failed = ids.filter((id) => this.supervisor.status(id) !== 'running');
    if (failed.length === 0) return;
    const causes = failed.map((id) => `${id}: ${this.supervisor.failure(id)?.message ?? this.supervisor.status(id)}`).join('; ');
    await this.takeOut(ids, this.current.epoch);
    throw new SynodError('SYNOD_START_FAILED', `the reconfiguration was not proposed: ${causes}`);
  }

  /** Stops actors `ids` for good and retires their stores (renamed with `.retired-<epoch>`), after telling every running actor. */
  private async takeOut(ids: readonly ActorId[], epoch: number): Promise<void> {
    if (ids.length === 0) return;
    const keep = (role: (typeof ROLES)[number]) => this.hosted[role].filter((id) => !ids.includes(id));
    this.hosted = { proposers: keep('proposers'), acceptors: keep('acceptors'), learners: keep('learners') };
    for (const id of ids) this.retired.add(id);
    await Promise.all(ids.map((id) => this.supervisor.retire(id)));
    // What was sent to a removed proposer and not answered goes to another one at once.
    for (const id of ids) {
      this.client.down(id);
      this.admin.down(id);
    }
    await this.regroup();
    this.actorsChanged();
    // After close the stores stay as they are (a temporary directory is being removed).
    if (this.closing !== null) return;
    // Recorded before their stores are renamed: a cluster reopened here never starts an actor whose store is retired.
    this.recordMembers();
    if (this.dataDir !== null) for (const id of ids) retireActor(this.dataDir, id, this.storeOf(id), epoch);
    this.traceFault(`retired ${ids.join(', ')}`);
  }

  /** Tells every running (or starting) actor whom it accepts messages from and watches now; an actor that is down learns it as it starts. */
  private async regroup(): Promise<void> {
    const spares = this.spares();
    const tell = (id: ActorId) => this.supervisor.call(id, (c) => c.regroup({ spares, watch: this.supervisor.peersOf(id) })).catch(() => {});
    await Promise.all(allActors(this.hosted).filter((id) => this.supervisor.has(id) && ['running', 'starting'].includes(this.supervisor.status(id))).map(tell));
  }

  /** The actors the cluster runs besides the configured members. */
  private spares(): Membership {
    const configured = this.config.members;
    const extra = (role: (typeof ROLES)[number]) => this.hosted[role].filter((id) => !configured[role].includes(id));
    return { proposers: extra('proposers'), acceptors: extra('acceptors'), learners: extra('learners') };
  }

  /** Records the members, running `hosted`, in the data directory (with LMDB storage), for a cluster reopened on it; not once closing. */
  private recordMembers(hosted: Membership = this.hosted): void {
    if (this.dataDir === null || this.closing !== null) return;
    writeMembers(this.dataDir, { configured: this.config.members, view: this.current, hosted });
  }

  /** Where actor `id` keeps its store (with LMDB storage). */
  private storeOf(id: ActorId): string {
    return join(this.dataDir as string, id);
  }

  /** Why `op` cannot be submitted, or null; never throws (a value's getter that throws is a reason like any other). */
  private opProblem(op: KvOp): string | null {
    if (typeof op.key !== 'string') return `a key must be a string, not ${typeof op.key}`;
    // A key is held in memory by every learner and printed in errors and traces: bounded like values.
    if (op.key.length * 3 > this.options.maxKeyBytes) {
      const bytes = Buffer.byteLength(op.key);
      if (bytes > this.options.maxKeyBytes) return `the key is ${bytes} bytes of UTF-8, more than maxKeyBytes (${this.options.maxKeyBytes}); use a shorter key or raise the option`;
    }
    const values = op.f === 'write' ? [op.value] : op.f === 'cas' ? [op.from, op.to] : [];
    for (const v of values) {
      const problem = clientValueProblem(v, this.options.maxValueBytes);
      if (problem !== null) return problem;
    }
    return null;
  }

  private onReport(id: ActorId, report: MpTurnReport): void {
    if (report.trace) this.tracer?.addFromWorker(report.trace);
    if (report.elected) this.onElected(id, report.elected);
    if (report.durable) {
      const records = report.durable;
      this.fact(() => this.checker.acceptorDurable(id, records, this.step));
    }
    for (const f of report.learned ?? []) {
      if ('snapshot' in f) this.checker.learnerSnapshot(id, f.snapshot);
      else this.fact(() => this.checker.appliedSlot(id, f.slot, f.batch, this.step));
    }
    if (report.answers) this.client.answers(id, report.answers);
    if (report.rejected) {
      this.client.rejected(id, report.rejected, report.leader ?? null);
      this.admin.rejected(id, report.rejected, report.leader ?? null);
    }
    if (report.reconfigured) this.admin.answered(report.reconfigured);
    if (report.expired) this.client.expired(report.expired);
  }

  private onElected(id: ActorId, ballot: Ballot): void {
    // The client first: a listener of 'elected' that submits finds the new leader known.
    this.client.elected(id, ballot);
    this.emit('elected', { id, ballot });
  }

  private onReady(id: ActorId, recovered: MpRecovered): void {
    const role = roleOf(this.members, id);
    if (role === 'acceptor') this.fact(() => this.checker.acceptorRecovered(id, recovered.promised, this.step));
    if (role === 'learner') this.checker.learnerSnapshot(id, recovered.applied);
  }

  /** Resolves at the next election; rejects after `timeoutMs`. */
  private nextElection(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('elected', onElected);
        reject(new Error(`no leader was elected within ${timeoutMs} ms (startTimeoutMs)`));
      }, timeoutMs);
      // A start that failed otherwise must not keep the process alive for this.
      timer.unref();
      const onElected = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('elected', onElected);
    });
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
