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
 * The cluster object is the client. It owns a pool of up to `concurrency`
 * client sessions (made as they are first needed), each with its own
 * clientId and sequence numbers, and runs each operation on a free session:
 * the state machine remembers only the latest (clientId, seq) per client, so
 * one session can have only one operation outstanding, and a pool is what
 * allows many at once. An operation is sent
 * to the leader; a proposer that does not lead rejects it, naming the leader
 * if it knows one, and it is sent there (or, with no hint, to the next
 * proposer after a short pause). One with no answer after `retryMs` is sent
 * again, under the same (clientId, seq), so it is applied at most once; one
 * still unanswered after `timeoutMs` rejects with SYNOD_TIMEOUT. Answers come
 * from the learners; the first wins.
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
import { join } from 'node:path';
import { z } from 'zod';
import type { HistoryEvent } from '../check/history.js';
import { LogSafetyChecker } from '../check/log-safety.js';
import type { Violation } from '../check/types.js';
import { ballotGt, type Ballot } from '../core/ballot.js';
import { allActors, membership, roleOf, type ActorId, type Membership, type Role } from '../core/ids.js';
import { mpConfig, type MpConfig } from '../core/multipaxos/types.js';
import type { KvCommand, KvOp } from '../machines/kv/machine.js';
import type { Value } from '../core/value.js';
import { actorCount, clientValueProblem, millis, parseOptions, sharedClusterFields, type SharedClusterOptions } from './options.js';
import type { MpProtocol, MpRecovered, MpTurnReport } from './mpwire.js';
import { SupervisedCluster } from './supervised.js';
import type { HealthEvents } from './health.js';
import { clusterDataDir, removeTempDataDir } from './tempdir.js';
import { nextClientNumber } from './storage/registry.js';
import { DEFAULT_SUPERVISOR, Supervisor, requireBuiltWorker, type CrashEvent, type FailedEvent, type RestartEvent, type SupervisorOptions } from './supervisor.js';
import { SynodError } from '../errors.js';
import type { StorageSpec } from './wire.js';
import { Stamper, commandKey, type Stamp } from './stamps.js';

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
    concurrency: z.number().int().min(1).max(1_000_000).default(KV_DEFAULTS.concurrency),
    timeoutMs: millis.min(1).default(30_000),
    retryMs: millis.min(1).default(1000),
    history: z.boolean().default(false),
    check: z.boolean().default(true),
    stamps: z.boolean().default(false),
    startTimeoutMs: millis.min(1).default(10_000),
    maxKeyBytes: z.number().int().min(1).max(1 << 20).default(1024),
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

/** After a reject that names no other leader, wait this long before trying the next proposer, so that an election in progress is not flooded. */
const REJECT_BACKOFF_MS = 5;

/** An operation waiting for a free session. */
interface Waiting {
  readonly op: KvOp;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: Error) => void;
  /** When it rejects with SYNOD_TIMEOUT (performance.now() ms). */
  readonly deadline: number;
}

/** An operation in flight on a session. */
interface InFlight extends Waiting {
  readonly command: KvCommand;
  /** The proposer it was last sent to, and when. */
  target: ActorId;
  sentAt: number;
}

/** One client session of the pool. */
interface Session {
  /** `${prefix}.${index}`, and `.${renewals}` after its session expired that many times. */
  clientId: string;
  /** Its place in the pool. */
  readonly index: number;
  /** How many times the learners evicted it and it went on under a fresh clientId. */
  renewals: number;
  /** The last sequence number used. */
  seq: number;
  /** The Jepsen process id its operations are recorded under; a fresh one after an operation whose outcome is unknown. */
  process: number;
  op: InFlight | null;
}

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
  /** Who is in the cluster. */
  readonly members: Membership;
  /** Where the actors' logs live (`${dataDir}/${actorId}`); null with in-memory storage. */
  readonly dataDir: string | null;
  /** The log safety checker fed with the live facts (when `check` is on). */
  readonly checker: LogSafetyChecker;

  private readonly options: z.output<typeof optionsSchema>;
  private readonly ownsDataDir: boolean;
  private readonly config: MpConfig;
  protected readonly supervisor: Supervisor<MpProtocol>;
  /** The sessions made so far (at most `concurrency`), and the idle ones among them. */
  private readonly sessions: Session[] = [];
  private readonly byClientId = new Map<string, Session>();
  private readonly free: Session[] = [];
  /** The clientId prefix of this client's sessions: its number in the data directory (with storage on disk) and a random part. */
  private prefix: string;
  /** Operations waiting for a session, oldest first from `waitingHead`. */
  private waiting: Waiting[] = [];
  private waitingHead = 0;
  /** Commands to post to each proposer at the end of this turn. */
  private readonly outbox = new Map<ActorId, KvCommand[]>();
  private flushScheduled = false;
  /** Operations rejected with no leader to go to, re-sent after REJECT_BACKOFF_MS. */
  private deferred: InFlight[] = [];
  private deferTimer: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private leaderId: ActorId | null = null;
  private leaderBallot: Ballot | null = null;
  /** Where the next operation without a known leader goes (round robin over the proposers). */
  private rotor = 0;
  private readonly events: HistoryEvent[] = [];
  private readonly t0 = performance.now();
  private readonly counters: Omit<KvClientStats, 'lateAnswers'> = { completed: 0, timedOut: 0, sends: 0, resends: 0, rejected: 0, extraAnswers: 0, posts: 0 };
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
    this.members = membership(o.proposers, o.acceptors, o.learners);
    this.placeSystems(o.systems, 'createKvCluster options');
    requireBuiltWorker();
    this.config = mpConfig(this.members, { ...o.core, batchMax: o.batchMax, window: o.window, reads: o.reads });
    this.checker = new LogSafetyChecker(this.members);
    const dir = clusterDataDir(o, 'synod-kv-', 'createKvCluster options');
    this.dataDir = dir.dataDir;
    this.ownsDataDir = dir.owned;
    this.prefix = randomUUID().slice(0, 8);
    this.stamper = o.stamps ? new Stamper('client') : null;
    if (o.trace) this.startTracing(allActors(this.members));
    this.supervisor = new Supervisor<MpProtocol>(
      {
        ids: allActors(this.members),
        // Proposers talk to everyone; acceptors only to proposers; learners to proposers and to each other (snapshots).
        peersOf: (id) => {
          const role = roleOf(this.members, id);
          if (role === 'proposer') return allActors(this.members).filter((peer) => peer !== id);
          if (role === 'learner') return [...this.members.proposers, ...this.members.learners.filter((peer) => peer !== id)];
          return this.members.proposers;
        },
        transport: createTransport(o.transport),
        boot: { protocol: 'multipaxos', lmdb: this.dataDir !== null },
        initOf: (id, incarnation) => {
          const storage: StorageSpec = this.dataDir === null ? { kind: 'memory' } : { kind: 'lmdb', dir: join(this.dataDir, id), durable: o.durable, ...(o.minFreeBytes !== undefined ? { minFreeBytes: o.minFreeBytes } : {}) };
          return { protocol: 'multipaxos', id, role: roleOf(this.members, id) as Role, config: this.config, storage, mailboxLimit: o.mailboxLimit, maxBatchBytes: maxBatchBytes(o), incarnation, reportFacts: o.check, trace: o.trace, links: this.links.outgoing(id), ...(o.stamps ? { stamps: true } : {}) };
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
      this.onDown(e.id);
      this.emit('crash', e);
    });
    this.supervisor.on('restart', (e) => this.emit('restart', e));
    this.supervisor.on('failed', (e) => {
      this.onDown(e.id);
      this.emit('failed', e);
    });
  }

  /** Starts every actor and waits for a leader; {@link createKvCluster} calls it; calling it again returns the same promise. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      // Listening before the actors start, since the first election can come before start() resolves.
      const elected = this.nextElection(this.options.startTimeoutMs);
      try {
        // Sessions of an earlier client of the same data directory, which the learners may still hold, must not be mistaken for ours:
        // client ids start with this client's number in the directory, counted durably before any command is sent, then a random part.
        if (this.dataDir !== null) this.prefix = `${nextClientNumber(this.dataDir)}-${this.prefix}`;
        await this.startActors(this.dataDir);
        await elected;
        this.sweeper = setInterval(() => this.sweep(), Math.min(100, Math.max(5, Math.min(this.options.retryMs, this.options.timeoutMs) / 4)));
        this.sweeper.unref();
      } catch (err) {
        elected.catch(() => {});
        await this.close();
        throw new SynodError('SYNOD_START_FAILED', `the key-value cluster did not start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    })();
    return this.starting;
  }

  /** Reads `key`: resolves with its value, or null if it was never written. Linearizable: the read goes through the log. */
  get(key: string): Promise<Value> {
    return this.submit({ f: 'read', key }) as Promise<Value>;
  }

  /** Writes `value` (JSON) under `key`; resolves once the write is applied. */
  put(key: string, value: Value): Promise<void> {
    return this.submit({ f: 'write', key, value }) as Promise<void>;
  }

  /** Sets `key` to `to` if it holds `from` (null: never written); resolves true if it swapped. */
  cas(key: string, from: Value, to: Value): Promise<boolean> {
    return this.submit({ f: 'cas', key, from, to }) as Promise<boolean>;
  }

  /** The proposer that last won an election, if it is still serving; null while none is known. */
  leader(): ActorId | null {
    return this.leaderId !== null && this.supervisor.status(this.leaderId) === 'running' ? this.leaderId : null;
  }

  /** Stops actor `id` (not counted as a crash) and starts it again; resolves when it serves. Also revives a failed actor. */
  override restart(id: ActorId): Promise<void> {
    this.onDown(id);
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
    return { ...this.counters, lateAnswers: this.counters.extraAnswers };
  }

  /** A new session, if the pool may grow (else undefined: the operation waits for one to free up). */
  private newSession(): Session | undefined {
    const i = this.sessions.length;
    if (i >= this.options.concurrency) return undefined;
    const session: Session = { clientId: `${this.prefix}.${i}`, index: i, renewals: 0, seq: 0, process: i, op: null };
    this.sessions.push(session);
    this.byClientId.set(session.clientId, session);
    return session;
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
    if (!this.options.history) throw new SynodError('SYNOD_INVALID_ARGUMENT', 'this cluster records no history; create it with { history: true }');
    return [...this.events];
  }

  /**
   * Stops every worker; operations in flight or waiting reject with
   * SYNOD_CLOSED (recorded as `info`: they may have taken effect). Runs the
   * checker's end-of-run checks, emitting any violation they find, and
   * removes the temporary data directory. Idempotent.
   */
  override close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.sweeper) clearInterval(this.sweeper);
      if (this.deferTimer) clearTimeout(this.deferTimer);
      const closed = () => new SynodError('SYNOD_CLOSED', 'the key-value cluster was closed before an answer; the operation may or may not have taken effect');
      for (const s of this.sessions) if (s.op) this.abandon(s, closed());
      for (let i = this.waitingHead; i < this.waiting.length; i++) (this.waiting[i] as Waiting).reject(closed());
      this.waiting = [];
      await this.supervisor.close();
      this.fact(() => this.checker.finish(this.step));
      if (this.ownsDataDir && this.dataDir !== null) await removeTempDataDir(this.dataDir);
    })();
    return this.closing;
  }

  /** Validates and queues one operation; it runs on the next free session. */
  private submit(op: KvOp): Promise<unknown> {
    if (this.closing) return Promise.reject(new SynodError('SYNOD_CLOSED', `cannot ${op.f} ${JSON.stringify(op.key)}: the key-value cluster is closed`));
    const problem = this.opProblem(op);
    if (problem !== null) return Promise.reject(new SynodError('SYNOD_INVALID_ARGUMENT', problem));
    return new Promise((resolve, reject) => {
      const w: Waiting = { op, resolve, reject, deadline: performance.now() + this.options.timeoutMs };
      const session = this.free.pop() ?? this.newSession();
      if (session) this.begin(session, w);
      else this.waiting.push(w);
    });
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

  /** Runs `w` on `session`: a new sequence number, an `invoke` event, a send to the leader. */
  private begin(session: Session, w: Waiting): void {
    session.seq++;
    const command: KvCommand = { clientId: session.clientId, seq: session.seq, op: w.op };
    const op: InFlight = { op: w.op, resolve: w.resolve, reject: w.reject, deadline: w.deadline, command, target: '', sentAt: 0 };
    session.op = op;
    this.stamper?.add('begin', commandKey(command.clientId, command.seq));
    if (this.options.history) {
      const o = w.op;
      this.record(session.process, 'invoke', o, o.f === 'read' ? null : o.f === 'write' ? o.value : [o.from, o.to]);
    }
    this.send(op, this.route());
  }

  /**
   * The proposer to send to: the leader if one is known and serving, else
   * the next serving proposer in turn other than `avoid` (one going down),
   * else any.
   */
  private route(avoid?: ActorId): ActorId {
    const leader = this.leader();
    if (leader !== null && leader !== avoid) return leader;
    const proposers = this.members.proposers;
    for (let i = 0; i < proposers.length; i++) {
      const p = proposers[this.rotor++ % proposers.length] as ActorId;
      if (p !== avoid && this.supervisor.status(p) === 'running') return p;
    }
    return proposers[this.rotor++ % proposers.length] as ActorId;
  }

  /** Queues `op`'s command for `target`; everything queued in a turn leaves in one post per proposer. */
  private send(op: InFlight, target: ActorId): void {
    op.target = target;
    op.sentAt = performance.now();
    this.counters.sends++;
    const queued = this.outbox.get(target);
    if (queued) queued.push(op.command);
    else this.outbox.set(target, [op.command]);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Posts the queued commands, at most `batchMax` per proposer per turn; the
   * rest go in the following turns. Posting a burst (say, the 256 operations
   * that 256 answers in one learner message set off) as one request would
   * make it travel the whole path as one lump, keeping one thread busy at a
   * time: all answers come back together, all the next requests leave
   * together, and the cluster moves in lock step. Spread over turns, the
   * slots of a burst overlap on their way (acceptors log one while the leader
   * proposes the next), which is what lets two CPUs work at once.
   */
  private flush(): void {
    this.flushScheduled = false;
    const max = this.options.batchMax;
    const outbox = [...this.outbox];
    this.outbox.clear();
    for (const [target, queued] of outbox) {
      const commands = queued.length > max ? queued.slice(0, max) : queued;
      if (queued.length > max) this.outbox.set(target, queued.slice(max));
      if (this.supervisor.status(target) === 'running') {
        if (this.stamper) for (const c of commands) this.stamper.add('post', commandKey(c.clientId, c.seq), target);
        this.supervisor.post(target, { type: 'request', commands: JSON.stringify(commands) });
        this.counters.posts++;
        continue;
      }
      // The proposer went down since: its commands go to another one if any serves, else the retry sweep sends them later.
      const alternative = this.route(target);
      if (this.supervisor.status(alternative) !== 'running') continue;
      for (const c of queued) {
        const op = this.byClientId.get(c.clientId)?.op;
        if (op && op.command === c) this.send(op, alternative);
      }
      this.outbox.delete(target);
    }
    if (this.outbox.size > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
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
    const answers = report.answers;
    if (answers) {
      for (let i = 0; i < answers.length; i += 3) {
        const session = this.byClientId.get(answers[i] as string);
        if (session?.op && session.seq === answers[i + 1]) {
          this.stamper?.add('answer', commandKey(session.clientId, session.seq), id);
          this.complete(session, answers[i + 2] as Value);
        } else this.counters.extraAnswers++;
      }
    }
    if (report.rejected) this.onRejected(id, report.rejected, report.leader ?? null);
    if (report.expired) this.onExpired(report.expired);
  }

  /** Gives `session` a fresh clientId (its first command makes a new session at the learners) and forgets answers to the old one. */
  private renew(session: Session): void {
    this.byClientId.delete(session.clientId);
    session.renewals++;
    session.clientId = `${this.prefix}.${session.index}.${session.renewals}`;
    session.seq = 0;
    this.byClientId.set(session.clientId, session);
  }

  /**
   * The learners evicted these sessions (more clients than `maxSessions`):
   * each operation fails with SYNOD_SESSION_EXPIRED (it may have taken
   * effect before the eviction; it was not applied again), and its session
   * goes on under a fresh clientId, whose first command makes a new session.
   */
  private onExpired(flat: ReadonlyArray<string | number>): void {
    for (let i = 0; i < flat.length; i += 2) {
      const session = this.byClientId.get(flat[i] as string);
      const op = session?.op;
      if (!session || !op || session.seq !== flat[i + 1]) continue;
      this.renew(session);
      this.abandon(session, new SynodError('SYNOD_SESSION_EXPIRED', `${op.op.f} ${JSON.stringify(op.op.key)}: the learners evicted this client session (more than maxSessions clients); the operation may or may not have taken effect, and was not applied again`));
      this.next(session);
    }
  }

  /** An answer: record it, settle the operation and give the session the next waiting operation. */
  private complete(session: Session, encoded: Value): void {
    const op = session.op as InFlight;
    session.op = null;
    this.counters.completed++;
    const o = op.op;
    if (this.options.history) {
      if (o.f === 'read') this.record(session.process, 'ok', o, encoded);
      else if (o.f === 'write') this.record(session.process, 'ok', o, o.value);
      // A cas that answered false happened (it saw another value): ok, not fail.
      else this.record(session.process, 'ok', o, [o.from, o.to], encoded === true ? undefined : false);
    }
    op.resolve(o.f === 'read' ? encoded : o.f === 'cas' ? encoded === true : undefined);
    this.next(session);
  }

  /** Gives `session` the oldest waiting operation that has not timed out, or returns it to the pool. */
  private next(session: Session): void {
    const now = performance.now();
    while (this.waitingHead < this.waiting.length) {
      const w = this.waiting[this.waitingHead++] as Waiting;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.waitingHead);
        this.waitingHead = 0;
      }
      if (w.deadline <= now) {
        this.counters.timedOut++;
        w.reject(this.timeoutError(w.op));
        continue;
      }
      this.begin(session, w);
      return;
    }
    this.free.push(session);
  }

  /** Gives up on `session`'s operation with `err`; its outcome is unknown, so the session continues as a fresh Jepsen process. */
  private abandon(session: Session, err: Error): void {
    const op = session.op as InFlight;
    session.op = null;
    if (this.options.history) {
      const o = op.op;
      this.record(session.process, 'info', o, o.f === 'read' ? null : o.f === 'write' ? o.value : [o.from, o.to]);
      // Session i runs as processes i, i + concurrency, i + 2 x concurrency...: never another session's.
      session.process += this.options.concurrency;
    }
    op.reject(err);
  }

  private onRejected(from: ActorId, flat: ReadonlyArray<string | number>, hint: ActorId | null): void {
    const useHint = hint !== null && hint !== from && this.supervisor.status(hint) === 'running';
    for (let i = 0; i < flat.length; i += 2) {
      const session = this.byClientId.get(flat[i] as string);
      const op = session?.op;
      if (!op || session.seq !== flat[i + 1] || op.target !== from) continue;
      this.counters.rejected++;
      if (useHint) this.send(op, hint);
      else this.deferred.push(op);
    }
    if (this.deferred.length > 0 && this.deferTimer === null) this.deferTimer = setTimeout(() => this.resendDeferred(), REJECT_BACKOFF_MS);
  }

  private resendDeferred(): void {
    this.deferTimer = null;
    const ops = this.deferred;
    this.deferred = [];
    for (const op of ops) if (this.current(op)) this.send(op, this.route());
  }

  /** True while `op` is the operation in flight on its session. */
  private current(op: InFlight): boolean {
    return this.byClientId.get(op.command.clientId)?.op === op;
  }

  private onElected(id: ActorId, ballot: Ballot): void {
    if (ballotGt(ballot, this.leaderBallot)) {
      this.leaderId = id;
      this.leaderBallot = ballot;
    }
    this.emit('elected', { id, ballot });
    // Whatever waits for a leader can go now.
    if (this.deferred.length > 0) {
      if (this.deferTimer) clearTimeout(this.deferTimer);
      this.resendDeferred();
    }
  }

  /** Actor `id` went down: what was sent to it is probably lost, so it goes elsewhere at once. */
  private onDown(id: ActorId): void {
    if (id === this.leaderId) this.leaderId = null;
    if (roleOf(this.members, id) !== 'proposer') return;
    for (const s of this.sessions) {
      if (s.op && s.op.target === id) {
        this.counters.resends++;
        this.send(s.op, this.route(id));
      }
    }
  }

  private onReady(id: ActorId, recovered: MpRecovered): void {
    const role = roleOf(this.members, id);
    if (role === 'acceptor') this.fact(() => this.checker.acceptorRecovered(id, recovered.promised, this.step));
    if (role === 'learner') this.checker.learnerSnapshot(id, recovered.applied);
  }

  /** Every few ms: time out operations past their deadline, re-send those unanswered for `retryMs`. */
  private sweep(): void {
    const now = performance.now();
    for (const s of this.sessions) {
      const op = s.op;
      if (!op) continue;
      if (now >= op.deadline) {
        this.counters.timedOut++;
        // A first command that may never have been applied may have made no session, and a second would be refused as expired: start afresh.
        if (s.seq === 1) this.renew(s);
        this.abandon(s, this.timeoutError(op.op));
        this.next(s);
      } else if (now - op.sentAt >= this.options.retryMs) {
        this.counters.resends++;
        // A leader may just be slow; anyone else may not be the leader any more.
        const leader = this.leader();
        this.send(op, leader !== null && leader === op.target ? leader : this.route());
      }
    }
    // Operations still waiting for a session time out too; the oldest are first.
    while (this.waitingHead < this.waiting.length && (this.waiting[this.waitingHead] as Waiting).deadline <= now) {
      const w = this.waiting[this.waitingHead++] as Waiting;
      this.counters.timedOut++;
      w.reject(this.timeoutError(w.op));
    }
  }

  private timeoutError(op: KvOp): SynodError {
    return new SynodError('SYNOD_TIMEOUT', `${op.f} ${JSON.stringify(op.key)} got no answer within ${this.options.timeoutMs} ms; it may still take effect. Raise timeoutMs, or check that a majority of acceptors and a learner are up`);
  }

  private record(process: number, type: HistoryEvent['type'], op: KvOp, value: Value, swapped?: false): void {
    this.events.push({ process, type, f: op.f, key: op.key, value, ...(swapped === false ? { swapped } : {}), time: performance.now() - this.t0 });
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
