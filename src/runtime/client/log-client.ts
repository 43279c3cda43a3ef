/**
 * The client of the replicated log, generic over the state machine: what
 * `createKvCluster` runs on the main thread to turn calls into commands of
 * the log and answers back into settled promises. It knows the log's
 * commands, answers, rejects and expiries, and nothing of worker threads or
 * of what an operation means: the cluster hands it a {@link LogClientLink}
 * (which proposers serve, how to post to one) and a {@link ClientMachine}
 * (how an answer decodes, how an error names an operation), so it runs without
 * threads in its unit tests (test/runtime/log-client.test.ts).
 *
 * Sessions. The client owns a pool of up to `concurrency` sessions (made as
 * they are first needed), each with its own clientId and sequence numbers,
 * and runs each operation on a free session: the learners remember only the
 * latest (clientId, seq) per client, so one session can have only one
 * operation outstanding, and a pool is what allows many at once. Operations
 * beyond the pool wait, in order, for a session to free up.
 *
 * Routing and retries. An operation is sent to the leader; a proposer that
 * does not lead rejects it, naming the leader if it knows one, and it is sent
 * there (or, with no hint, to the next proposer after a short pause). One
 * with no answer after `retryMs` is sent again, under the same (clientId,
 * seq), so it is applied at most once; one still unanswered after
 * `timeoutMs` rejects with SYNOD_TIMEOUT. One sent to a proposer that went
 * down is sent elsewhere at once. Answers come from the learners; the first
 * wins.
 *
 * Expiry. The learners keep a bounded number of sessions; a command of an
 * evicted session is answered `expired` and never applied. Its operation
 * rejects with SYNOD_SESSION_EXPIRED, and its session goes on under a fresh
 * clientId, whose first command makes a new session.
 *
 * All commands queued in one main-thread turn leave in one post per proposer
 * (at most `batchMax` commands each; the rest in the following turns).
 */
import type { Ballot } from '../../core/ballot.js';
import { ballotGt } from '../../core/ballot.js';
import type { ActorId } from '../../core/ids.js';
import type { StateMachine } from '../../core/multipaxos/machine.js';
import type { Command } from '../../core/multipaxos/types.js';
import type { Value } from '../../core/value.js';
import { SynodError } from '../../errors.js';

/** What the client needs of the cluster it talks to. */
export interface LogClientLink {
  /** The proposers of the newest view, in a fixed order (the round robin goes through them); read at every use, so a reconfiguration may change them. */
  readonly proposers: readonly ActorId[];
  /** True while proposer `id` serves (its worker is up and stepping). */
  serving(id: ActorId): boolean;
  /** Posts `commands` to proposer `id`, which serves, as one request. */
  post(id: ActorId, commands: readonly Command[]): void;
}

/**
 * A state machine as the log's client and the learners' workers see it: the
 * machine, and the form its results take between them. A learner answers a
 * command with `encodeResult(result)`, only what the client cannot tell from
 * its own operation (a flat primitive, cheap to post; see
 * src/runtime/mpwire.ts), and the client turns that back into what its
 * caller gets with `decodeResult`. The two are declared together so they
 * cannot drift apart.
 */
export interface ClientMachine<S, Op extends Value, R extends Value, A> {
  readonly machine: StateMachine<S, Op, R>;
  /** A result as it travels in a learner's answers. */
  encodeResult(result: R): Value;
  /** What the caller of `op` gets, from the answer a learner sent for it. */
  decodeResult(op: Op, encoded: Value): A;
  /** An operation as errors name it (say, `write "x"`). */
  label(op: Op): string;
}

/**
 * What happens to each operation, for a recorder of histories: every
 * operation is invoked once, then either completes with an answer or ends
 * with an unknown outcome (timed out, expired, cut short by close). A
 * session's `process` changes after an unknown outcome, so no process has
 * two operations open.
 */
export interface OperationObserver<Op extends Value, A> {
  invoked(process: number, op: Op): void;
  completed(process: number, op: Op, answer: A): void;
  unknown(process: number, op: Op): void;
}

/** The stages of an operation the client can stamp: it began (on its session), or its answer arrived from learner `from`. */
export type ClientStage = 'begin' | 'answer';

/** How a {@link LogClient} behaves. */
export interface LogClientOptions<Op extends Value, A> {
  /** Most operations in flight at once (the size of the session pool). */
  readonly concurrency: number;
  /** An operation still unanswered this long after it was called rejects with SYNOD_TIMEOUT. */
  readonly timeoutMs: number;
  /** A request with no answer after this long is sent again. */
  readonly retryMs: number;
  /** Most commands posted to one proposer in one turn. */
  readonly batchMax: number;
  /** The cluster as errors name it (say, `key-value cluster`). */
  readonly name: string;
  /** The machine whose operations the client submits. */
  readonly machine: ClientMachine<unknown, Op, Value, A>;
  /** Why `op` cannot be submitted (it rejects with SYNOD_INVALID_ARGUMENT), or null; must not throw. None by default. */
  readonly problem?: ((op: Op) => string | null) | null;
  /** Told of every operation's invocation and outcome (history recording); none by default. */
  readonly observer?: OperationObserver<Op, A> | null;
  /** Called at each stage of each command (stage stamps); none by default. */
  readonly stamp?: ((stage: ClientStage, command: Command, from?: ActorId) => void) | null;
}

/**
 * What a {@link LogClient} counts: operations completed and timed out,
 * requests sent and re-sent, commands rejected by a proposer that did not
 * lead, answers that settled nothing, and posts. Each is documented where
 * the public API shows it (KvClientStats in src/runtime/kv-cluster.ts).
 */
export type LogClientCounters = Record<'completed' | 'timedOut' | 'sends' | 'resends' | 'rejected' | 'extraAnswers' | 'posts', number>;

/** After a reject that names no other leader, wait this long before trying the next proposer, so that an election in progress is not flooded. */
export const REJECT_BACKOFF_MS = 5;

/** An operation waiting for a free session. */
interface Waiting<Op extends Value, A> {
  readonly op: Op;
  readonly resolve: (answer: A) => void;
  readonly reject: (err: Error) => void;
  /** When it rejects with SYNOD_TIMEOUT (performance.now() ms). */
  readonly deadline: number;
}

/** An operation in flight on a session. */
interface InFlight<Op extends Value, A> extends Waiting<Op, A> {
  readonly command: Command;
  /** The proposer it was last sent to, and when. */
  target: ActorId;
  sentAt: number;
}

/** One client session of the pool. */
interface Session<Op extends Value, A> {
  /** `${prefix}.${index}`, and `.${renewals}` after its session expired that many times. */
  clientId: string;
  /** Its place in the pool. */
  readonly index: number;
  /** How many times the learners evicted it and it went on under a fresh clientId. */
  renewals: number;
  /** The last sequence number used. */
  seq: number;
  /** The process its operations are recorded under; a fresh one after an operation whose outcome is unknown. */
  process: number;
  op: InFlight<Op, A> | null;
}

/** A client of the replicated log: sessions, routing to the leader, retries, rejects, expiry and timeouts. */
export class LogClient<Op extends Value, A> {
  /** The sessions made so far (at most `concurrency`), and the idle ones among them. */
  private readonly sessions: Session<Op, A>[] = [];
  private readonly byClientId = new Map<string, Session<Op, A>>();
  private readonly free: Session<Op, A>[] = [];
  /** Operations waiting for a session, oldest first from `waitingHead`. */
  private waiting: Waiting<Op, A>[] = [];
  private waitingHead = 0;
  /** Commands to post to each proposer at the end of this turn. */
  private readonly outbox = new Map<ActorId, Command[]>();
  private flushScheduled = false;
  /** Operations rejected with no leader to go to, re-sent after REJECT_BACKOFF_MS. */
  private deferred: InFlight<Op, A>[] = [];
  private deferTimer: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private leaderId: ActorId | null = null;
  private leaderBallot: Ballot | null = null;
  /** Where the next operation without a known leader goes (round robin over the proposers). */
  private rotor = 0;
  private closed = false;
  private readonly counters: LogClientCounters = { completed: 0, timedOut: 0, sends: 0, resends: 0, rejected: 0, extraAnswers: 0, posts: 0 };

  /**
   * `prefix` starts every clientId of this client; it must differ from every
   * earlier client's whose sessions the learners may still hold (see
   * nextClientNumber in src/runtime/storage/registry.ts). It can be set
   * until the first operation.
   */
  constructor(
    private readonly link: LogClientLink,
    private readonly options: LogClientOptions<Op, A>,
    public prefix: string,
  ) {}

  /** Starts the sweep that times out and re-sends operations; {@link close} stops it. */
  start(): void {
    if (this.sweeper !== null || this.closed) return;
    const o = this.options;
    this.sweeper = setInterval(() => this.sweep(), Math.min(100, Math.max(5, Math.min(o.retryMs, o.timeoutMs) / 4)));
    this.sweeper.unref();
  }

  /** Validates and queues `op`; it runs on the next free session and settles with its answer, or rejects. */
  submit(op: Op): Promise<A> {
    if (this.closed) return Promise.reject(new SynodError('SYNOD_CLOSED', `cannot ${this.options.machine.label(op)}: the ${this.options.name} is closed`));
    const problem = this.options.problem?.(op) ?? null;
    if (problem !== null) return Promise.reject(new SynodError('SYNOD_INVALID_ARGUMENT', problem));
    return new Promise((resolve, reject) => {
      const w: Waiting<Op, A> = { op, resolve, reject, deadline: performance.now() + this.options.timeoutMs };
      const session = this.free.pop() ?? this.newSession();
      if (session) this.begin(session, w);
      else this.waiting.push(w);
    });
  }

  /** The proposer that last won an election, if it still serves; null while none is known. */
  leader(): ActorId | null {
    return this.leaderId !== null && this.link.serving(this.leaderId) ? this.leaderId : null;
  }

  /** What the client has done so far (a copy). */
  stats(): LogClientCounters {
    return { ...this.counters };
  }

  /** Proposer `id` was elected at `ballot`: it is the leader unless a higher ballot is known, and whatever waits for a leader goes now. */
  elected(id: ActorId, ballot: Ballot): void {
    if (ballotGt(ballot, this.leaderBallot)) {
      this.leaderId = id;
      this.leaderBallot = ballot;
    }
    if (this.deferred.length > 0) {
      if (this.deferTimer) clearTimeout(this.deferTimer);
      this.resendDeferred();
    }
  }

  /** Answers from learner `from`, as flat triples `clientId, seq, encoded result`. */
  answers(from: ActorId, flat: ReadonlyArray<string | number | Value>): void {
    for (let i = 0; i < flat.length; i += 3) {
      const session = this.byClientId.get(flat[i] as string);
      if (session?.op && session.seq === flat[i + 1]) {
        this.options.stamp?.('answer', session.op.command, from);
        this.complete(session, flat[i + 2] as Value);
      } else this.counters.extraAnswers++;
    }
  }

  /** Commands proposer `from` rejected because it does not lead, as flat pairs `clientId, seq`; `hint` is who it believes leads. */
  rejected(from: ActorId, flat: ReadonlyArray<string | number>, hint: ActorId | null): void {
    const useHint = hint !== null && hint !== from && this.link.serving(hint);
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

  /**
   * The learners evicted these sessions (more clients than `maxSessions`),
   * as flat pairs `clientId, seq`: each operation fails with
   * SYNOD_SESSION_EXPIRED (it may have taken effect before the eviction; it
   * was not applied again), and its session goes on under a fresh clientId,
   * whose first command makes a new session.
   */
  expired(flat: ReadonlyArray<string | number>): void {
    for (let i = 0; i < flat.length; i += 2) {
      const session = this.byClientId.get(flat[i] as string);
      const op = session?.op;
      if (!session || !op || session.seq !== flat[i + 1]) continue;
      this.renew(session);
      this.abandon(session, new SynodError('SYNOD_SESSION_EXPIRED', `${this.options.machine.label(op.op)}: the learners evicted this client session (more than maxSessions clients); the operation may or may not have taken effect, and was not applied again`));
      this.next(session);
    }
  }

  /** Actor `id` went down (or was removed): if it is a proposer, what was sent to it is probably lost, so it goes elsewhere at once. */
  down(id: ActorId): void {
    if (id === this.leaderId) this.leaderId = null;
    for (const s of this.sessions) {
      if (s.op && s.op.target === id) {
        this.counters.resends++;
        this.send(s.op, this.route(id));
      }
    }
  }

  /**
   * Stops the client: operations in flight reject with `error()` (their
   * outcome is unknown), those waiting for a session reject too, and later
   * calls of {@link submit} reject with SYNOD_CLOSED. Idempotent.
   */
  close(error: () => Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.deferTimer) clearTimeout(this.deferTimer);
    for (const s of this.sessions) if (s.op) this.abandon(s, error());
    for (let i = this.waitingHead; i < this.waiting.length; i++) (this.waiting[i] as Waiting<Op, A>).reject(error());
    this.waiting = [];
  }

  /** Times out operations past their deadline and re-sends those unanswered for `retryMs`; the sweep timer calls it every few ms. */
  sweep(): void {
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
    while (this.waitingHead < this.waiting.length && (this.waiting[this.waitingHead] as Waiting<Op, A>).deadline <= now) {
      const w = this.waiting[this.waitingHead++] as Waiting<Op, A>;
      this.counters.timedOut++;
      w.reject(this.timeoutError(w.op));
    }
  }

  /** A new session, if the pool may grow (else undefined: the operation waits for one to free up). */
  private newSession(): Session<Op, A> | undefined {
    const i = this.sessions.length;
    if (i >= this.options.concurrency) return undefined;
    const session: Session<Op, A> = { clientId: `${this.prefix}.${i}`, index: i, renewals: 0, seq: 0, process: i, op: null };
    this.sessions.push(session);
    this.byClientId.set(session.clientId, session);
    return session;
  }

  /** Runs `w` on `session`: a new sequence number, an invocation, a send to the leader. */
  private begin(session: Session<Op, A>, w: Waiting<Op, A>): void {
    session.seq++;
    const command: Command = { clientId: session.clientId, seq: session.seq, op: w.op };
    const op: InFlight<Op, A> = { op: w.op, resolve: w.resolve, reject: w.reject, deadline: w.deadline, command, target: '', sentAt: 0 };
    session.op = op;
    this.options.stamp?.('begin', command);
    this.options.observer?.invoked(session.process, w.op);
    this.send(op, this.route());
  }

  /**
   * The proposer to send to: the leader if one is known, serving and among
   * the newest view's proposers (a removed one finishes its slots and steps
   * down), else the next serving proposer of the newest view in turn other
   * than `avoid` (one going down), else any of them. The cluster's own
   * commands (reconfigurations) go the same way.
   */
  route(avoid?: ActorId): ActorId {
    const leader = this.leader();
    if (leader !== null && leader !== avoid && this.link.proposers.includes(leader)) return leader;
    const proposers = this.link.proposers;
    for (let i = 0; i < proposers.length; i++) {
      const p = proposers[this.rotor++ % proposers.length] as ActorId;
      if (p !== avoid && this.link.serving(p)) return p;
    }
    return proposers[this.rotor++ % proposers.length] as ActorId;
  }

  /** Queues `op`'s command for `target`; everything queued in a turn leaves in one post per proposer. */
  private send(op: InFlight<Op, A>, target: ActorId): void {
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
      if (this.link.serving(target)) {
        this.link.post(target, commands);
        this.counters.posts++;
        continue;
      }
      // The proposer went down since: its commands go to another one if any serves, else the retry sweep sends them later.
      const alternative = this.route(target);
      if (!this.link.serving(alternative)) continue;
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

  /** Gives `session` a fresh clientId (its first command makes a new session at the learners) and forgets answers to the old one. */
  private renew(session: Session<Op, A>): void {
    this.byClientId.delete(session.clientId);
    session.renewals++;
    session.clientId = `${this.prefix}.${session.index}.${session.renewals}`;
    session.seq = 0;
    this.byClientId.set(session.clientId, session);
  }

  /** An answer: settle the operation and give the session the next waiting operation. */
  private complete(session: Session<Op, A>, encoded: Value): void {
    const op = session.op as InFlight<Op, A>;
    session.op = null;
    this.counters.completed++;
    const answer = this.options.machine.decodeResult(op.op, encoded);
    this.options.observer?.completed(session.process, op.op, answer);
    op.resolve(answer);
    this.next(session);
  }

  /** Gives `session` the oldest waiting operation that has not timed out, or returns it to the pool. */
  private next(session: Session<Op, A>): void {
    const now = performance.now();
    while (this.waitingHead < this.waiting.length) {
      const w = this.waiting[this.waitingHead++] as Waiting<Op, A>;
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

  /** Gives up on `session`'s operation with `err`; its outcome is unknown, so the session continues as a fresh process. */
  private abandon(session: Session<Op, A>, err: Error): void {
    const op = session.op as InFlight<Op, A>;
    session.op = null;
    if (this.options.observer) {
      this.options.observer.unknown(session.process, op.op);
      // Session i runs as processes i, i + concurrency, i + 2 x concurrency...: never another session's.
      session.process += this.options.concurrency;
    }
    op.reject(err);
  }

  private resendDeferred(): void {
    this.deferTimer = null;
    const ops = this.deferred;
    this.deferred = [];
    for (const op of ops) if (this.current(op)) this.send(op, this.route());
  }

  /** True while `op` is the operation in flight on its session. */
  private current(op: InFlight<Op, A>): boolean {
    return this.byClientId.get(op.command.clientId)?.op === op;
  }

  private timeoutError(op: Op): SynodError {
    return new SynodError('SYNOD_TIMEOUT', `${this.options.machine.label(op)} got no answer within ${this.options.timeoutMs} ms; it may still take effect. Raise timeoutMs, or check that a majority of acceptors and a learner are up`);
  }
}
