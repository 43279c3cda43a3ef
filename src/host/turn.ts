/**
 * The turn host: the one place where an actor's turn discipline lives, for
 * every protocol and every host. The worker entry (workers/actor.ts) drives
 * it with real links, LMDB and timers; the simulated world drives it with
 * virtual time, simulated storage and a simulated network. Everything it
 * touches outside the core comes in through {@link HostIO}, so a test can
 * drive it by hand, without threads (test/host/turn.test.ts).
 *
 * A turn. Inputs queue up (peer messages in a bounded mailbox; timer firings
 * and client requests beside it, which are local and must not be lost) until
 * the host's driver calls {@link TurnHost.turn}. Then, in this order:
 *   - the peer messages queued, oldest first;
 *   - the timer firings, after the messages, because a message may re-arm the
 *     timer (a heartbeat re-arms a follower's election timer), which makes the
 *     firing stale: a firing whose timer was re-armed or cancelled since it was
 *     queued carries an old generation and is dropped;
 *   - the client requests, as the protocol groups them (a leader's batch is
 *     every command of the turn, as one input);
 *   - the records of every `persist` of the turn go out as ONE append (one
 *     transaction, one fsync: group commit), and the effects riding on them
 *     are carried out only once that append, and every earlier one, is
 *     durable, in the order the appends were issued;
 *   - the messages for each peer go out together (one post per peer), after
 *     any held back for it, so each link stays first-in first-out; then the
 *     driver's end of turn (the worker posts its report to the main thread
 *     before the peer posts, so the main thread hears of durable records
 *     before anyone hears the replies that rode on them).
 *
 * Messages the protocol calls lazy (a leader's commits to the other
 * proposers) are held back for `lazyMs`, or until something else goes to the
 * same peer: no one waits for them, and sent alone they would wake a thread
 * per slot.
 *
 * A broken invariant throws out of the turn: the actor must crash (the
 * worker lets the throw kill its thread; a simulated world crashes the
 * actor), never carry on with corrupt state.
 */
import { assert } from '../core/assert.js';
import { allActors, roleOf, type ActorId, type Membership, type Role } from '../core/ids.js';
import { Mailbox } from './mailbox.js';
import type { Protocol, ProtocolTypes } from './protocol.js';

/** Crash points a host can arm: at the next input stepped, or the next write made durable (before its replies leave). */
export type HostCrashPoint = 'after-receive' | 'after-persist';

/** Why the host refused a raw peer message. */
export type RefusedReason = 'malformed' | 'unknownSender' | 'oversized' | 'overflow';

/** A trace event as the host reports it; the driver adds the actor and the time. */
export interface HostTraceEvent {
  readonly kind: 'receive' | 'propose' | 'timer' | 'persist' | 'durable' | 'decide' | 'note';
  readonly text: string;
  readonly from?: ActorId;
  readonly msg?: string;
  readonly value?: string;
}

/** The timer name the host uses for its own hold-back of lazy messages. */
export const LAZY_TIMER = '$lazy';

/** What a turn host needs from whoever drives it. */
export interface HostIO<T extends ProtocolTypes> {
  /** A draw in [0, 1) for each step. */
  random(): number;
  /**
   * Starts one append of `records`; calls `done` once it is durable, or
   * `failed` if it cannot be. Appends may complete in any order: the host
   * releases their effects in the order it issued them.
   */
  append(records: readonly T['record'][], done: () => void, failed: (err: unknown) => void): void;
  /** The messages for one peer from one turn (or one release), in order. */
  send(to: ActorId, msgs: readonly T['message'][]): void;
  /** An output of the protocol's own (a decision, an answer, a rejection, an election, a fact for a checker). */
  output(effect: T['effect']): void;
  /** The records of one append are durable; called before the effects that rode on them. */
  durable(records: readonly T['record'][]): void;
  /** Arms timer `name` (replacing an armed one of that name) to call `fire(name, gen)` after `delay`. */
  arm(name: string, delay: number, gen: number): void;
  /** Disarms timer `name` if it is armed. */
  disarm(name: string): void;
  /** Inputs were queued while the host was not in a turn: call {@link TurnHost.turn} soon. */
  wake(): void;
  /** A turn (or a release of durable writes) is over; whatever it sent is out. */
  endTurn(): void;
  /** An armed crash point fired: end the actor now. Must not return. */
  crash(point: HostCrashPoint, cause: Error): never;
  /** An append failed: the actor must stop rather than run without its durable state. Must not return. */
  failed(err: unknown): never;
  /** Receives trace events, when tracing; absent otherwise (nothing is described then). */
  trace?: (event: HostTraceEvent) => void;
  /** Called with each input just before it is stepped (a simulated world logs it). */
  stepping?: (input: T['input']) => void;
  /** Called with each effect as the host carries it out, those released by a durable write included (a simulated world logs them). */
  applying?: (effect: T['effect']) => void;
}

/** Options of one turn host. */
export interface TurnHostOptions {
  /** Most peer messages queued before new ones are dropped (see {@link Mailbox}). */
  readonly mailboxLimit: number;
  /** How long lazy messages may be held back; 0 sends them with the turn. */
  readonly lazyMs: number;
  /** Peer messages whose value is larger than this many bytes are refused (protocols that check sizes). */
  readonly maxValueBytes: number;
  /** Actors besides the configured members: spares a reconfiguration may bring in, which may be hosted and send and receive like members. */
  readonly spares?: Membership;
}

/** The host's own counters (the driver keeps those of its links). */
export interface HostCounters {
  /** Turns run. */
  turns: number;
  /** Inputs stepped. */
  steps: number;
  /** Inputs the core returned an `ignore` effect for (stale, duplicate, foreign). */
  ignored: number;
  /** Appends issued (one per turn that wrote), and the records made durable. */
  appends: number;
  persisted: number;
  /** Messages handed to the driver, and the sends that carried them (one per peer per turn). */
  sent: number;
  posts: number;
  /** Client requests received. */
  requests: number;
}

/** A timer firing waiting in the mailbox. */
class Firing {
  constructor(
    readonly timer: string,
    readonly gen: number,
  ) {}
}

/** A peer message waiting in the mailbox with the id its trace gave it (tracing only). */
class Traced<M> {
  constructor(
    readonly msg: M,
    readonly msgId: string,
  ) {}
}

/** What the mailbox holds: a peer message as it is (no wrapper per message on the data path), a traced one, or a timer firing. */
type Queued<T extends ProtocolTypes> = T['message'] | Traced<T['message']> | Firing;

/** A write issued and not yet released. */
interface Write<T extends ProtocolTypes> {
  readonly records: readonly T['record'][];
  readonly then: readonly T['effect'][];
  done: boolean;
}

/** Hosts one actor's core: see the module comment. */
export class TurnHost<T extends ProtocolTypes> {
  /** The core's state (replaced at every step). */
  state: T['state'];
  /** Counters since this host was built. */
  readonly counters: HostCounters = { turns: 0, steps: 0, ignored: 0, appends: 0, persisted: 0, sent: 0, posts: 0, requests: 0 };
  private readonly mailbox: Mailbox<Queued<T>>;
  private requested: T['request'][] = [];
  private readonly timers = new Map<string, number>();
  private timerGen = 0;
  private turnWrite: { records: T['record'][]; then: T['effect'][] } | null = null;
  private readonly writes: Write<T>[] = [];
  /**
   * The turn's messages by peer, in the order the peers were first sent to:
   * `outTo[i]` gets `outMsgs[i]`, for i below `outCount`. Two arrays kept
   * from turn to turn, not a Map, so that a turn allocates nothing per peer
   * but the array of its messages.
   */
  private readonly outTo: Array<ActorId | null> = [];
  private readonly outMsgs: Array<T['message'][] | null> = [];
  private outCount = 0;
  private readonly held = new Map<ActorId, T['message'][]>();
  private lazyArmed = false;
  private inTurn = false;
  private paused = false;
  private armed: HostCrashPoint | null = null;
  /** The actors besides the configured members this host accepts messages from (see {@link admit}). */
  private spares: Membership | undefined;

  constructor(
    readonly protocol: Protocol<T>,
    readonly id: ActorId,
    readonly role: Role,
    readonly config: T['config'],
    records: readonly T['record'][],
    private readonly io: HostIO<T>,
    private readonly options: TurnHostOptions,
  ) {
    assert((roleOf(config.members, id) ?? (options.spares ? roleOf(options.spares, id) : null)) === role, `${id} is not a ${role} of this configuration`);
    this.spares = options.spares;
    this.mailbox = new Mailbox(options.mailboxLimit);
    this.state = protocol.init(role, id, config, records);
    protocol.invariants(this.state);
  }

  /** Peer messages queued and not yet stepped, and the mailbox bound. */
  get mailboxLength(): number {
    return this.mailbox.length;
  }

  /** Peer messages dropped because the mailbox was full. */
  get overflowed(): number {
    return this.mailbox.overflowed;
  }

  /** True while paused (inputs queue up; no turn runs). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Appends issued whose effects are not yet released. */
  get writesInFlight(): number {
    return this.writes.length;
  }

  /**
   * What rides on each append not yet released, oldest first: what a crash
   * now would lose with the writes (the simulated world traces it).
   */
  unreleased(): Array<readonly T['effect'][]> {
    return this.writes.map((w) => w.then);
  }

  /** Steps the protocol's start input (which arms the core's timers), if it has one. */
  start(): void {
    if (this.protocol.start === null) return;
    this.inTurn = true;
    this.step(this.protocol.start);
    this.flush();
    this.inTurn = false;
  }

  /**
   * A raw message arrived on the link from `via`: anything from a link is
   * untrusted. Queues it and returns null, or returns why it was refused
   * (malformed, spoofed or from a non-member, too large, or the mailbox full).
   */
  receiveRaw(via: ActorId, raw: unknown, msgId?: string): RefusedReason | null {
    const checked = this.protocol.validate(raw);
    if (!checked.ok) return 'malformed';
    const msg = checked.msg;
    if (msg.from !== via || (roleOf(this.config.members, via) === null && (this.spares === undefined || roleOf(this.spares, via) === null))) return 'unknownSender';
    if (this.protocol.oversized(msg, this.options.maxValueBytes)) return 'oversized';
    return this.deliver(msg, msgId) ? null : 'overflow';
  }

  /** Queues a message already known valid; false when the mailbox was full and dropped it. */
  deliver(msg: T['message'], msgId?: string): boolean {
    const queued = this.mailbox.push(msgId === undefined ? msg : new Traced(msg, msgId));
    if (queued) this.wake();
    return queued;
  }

  /** Queues a client request (local and bounded by the client: it bypasses the mailbox bound). */
  request(req: T['request']): void {
    this.counters.requests++;
    this.requested.push(req);
    this.wake();
  }

  /** Timer `name` of generation `gen` fired. A firing of an older generation is stale and comes to nothing. */
  fire(name: string, gen: number): void {
    if (name === LAZY_TIMER) {
      if (this.timers.get(name) !== gen) return;
      this.timers.delete(name);
      this.lazyArmed = false;
      this.sendHeld();
      this.io.endTurn();
      return;
    }
    // Timer firings are local and few: they bypass the mailbox bound.
    this.mailbox.push(new Firing(name, gen), false);
    this.wake();
  }

  /**
   * From now on accepts messages from `spares` besides the configured
   * members (replacing the spares given so far): a live cluster that brings
   * in new actors tells every host of them before they start. This host
   * itself must stay one of the actors it accepts.
   */
  admit(spares: Membership): void {
    assert((roleOf(this.config.members, this.id) ?? roleOf(spares, this.id)) === this.role, `${this.id}: admitted spares that drop this ${this.role}`);
    assert(allActors(spares).every((id) => roleOf(this.config.members, id) === null), `${this.id}: a spare that is a configured member already`);
    this.spares = spares;
  }

  /** Arms a one-shot crash point. */
  arm(point: HostCrashPoint): void {
    this.armed = point;
  }

  /** Stops running turns; inputs queue up. */
  pause(): void {
    this.paused = true;
  }

  /** Runs turns again (asks for one if inputs are waiting). */
  resume(): void {
    this.paused = false;
    if (this.mailbox.length > 0 || this.requested.length > 0) this.io.wake();
  }

  /** True when a turn would step something. */
  get hasInput(): boolean {
    return this.mailbox.length > 0 || this.requested.length > 0;
  }

  /** Runs one turn: see the module comment. Does nothing while paused. */
  turn(): void {
    if (this.paused) return;
    assert(!this.inTurn, `${this.id}: a turn started inside a turn`);
    this.inTurn = true;
    this.counters.turns++;
    this.fired = null;
    this.mailbox.drain(this.visit);
    const fired = this.fired as Firing[] | null;
    if (fired !== null) {
      for (const { timer, gen } of fired) {
        // A firing queued before its timer was re-armed or cancelled is stale.
        if (this.timers.get(timer) !== gen) continue;
        this.timers.delete(timer);
        this.step(this.protocol.timeout(timer));
      }
    }
    if (this.requested.length > 0) {
      const requests = this.requested;
      this.requested = [];
      for (const input of this.protocol.requests(requests)) {
        this.crashPointAfterReceive();
        this.step(input);
      }
    }
    this.flush();
    this.inTurn = false;
  }

  /** The timer firings of the turn's mailbox, for after its messages; null when there were none. */
  private fired: Firing[] | null = null;

  /** Steps one peer message of the turn's mailbox, or keeps a timer firing for after them (made once: a turn allocates no closure). */
  private readonly visit = (item: Queued<T>): void => {
    if (item instanceof Firing) {
      (this.fired ??= []).push(item);
      return;
    }
    const msg: T['message'] = item instanceof Traced ? item.msg : item;
    this.crashPointAfterReceive();
    if (this.io.trace) this.io.trace({ kind: 'receive', from: msg.from, text: this.protocol.describe.message(msg, this.id), ...(item instanceof Traced ? { msg: item.msgId } : {}) });
    this.step(this.protocol.receive(msg));
  };

  private wake(): void {
    if (!this.inTurn && !this.paused) this.io.wake();
  }

  private crashPointAfterReceive(): void {
    if (this.armed !== 'after-receive') return;
    this.armed = null;
    this.io.crash('after-receive', new Error(`crash point after-receive: ${this.id} received an input and crashed before stepping it`));
  }

  private step(input: T['input']): void {
    this.counters.steps++;
    const io = this.io;
    if (io.trace) {
      const i = input as { readonly type?: string };
      if (i.type === 'timeout') io.trace({ kind: 'timer', text: this.protocol.describe.input(input) });
      else if (i.type !== 'receive' && i.type !== 'start') io.trace({ kind: 'propose', text: this.protocol.describe.input(input) });
    }
    io.stepping?.(input);
    const result = this.protocol.step(this.state, input, io.random());
    this.protocol.invariants(result.state);
    this.state = result.state;
    for (const e of result.effects) this.apply(e);
  }

  private apply(e: T['effect']): void {
    this.io.applying?.(e);
    const h = this.protocol.classify(e);
    switch (h.type) {
      case 'send': {
        if (!(this.options.lazyMs > 0 && this.protocol.lazy(this.state, this.config, h.to, h.msg))) {
          let i = 0;
          while (i < this.outCount && this.outTo[i] !== h.to) i++;
          if (i < this.outCount) (this.outMsgs[i] as T['message'][]).push(h.msg);
          else {
            this.outTo[i] = h.to;
            this.outMsgs[i] = [h.msg];
            this.outCount++;
          }
          return;
        }
        const held = this.held.get(h.to);
        if (held) held.push(h.msg);
        else this.held.set(h.to, [h.msg]);
        if (!this.lazyArmed) {
          this.lazyArmed = true;
          this.armTimer(LAZY_TIMER, this.options.lazyMs);
        }
        return;
      }
      case 'persist': {
        this.turnWrite ??= { records: [], then: [] };
        for (const r of h.records) this.turnWrite.records.push(r);
        for (const t of h.then) this.turnWrite.then.push(t);
        return;
      }
      case 'setTimer':
        this.armTimer(h.timer, h.delay);
        return;
      case 'cancelTimer':
        this.timers.delete(h.timer);
        this.io.disarm(h.timer);
        return;
      case 'ignore':
        this.counters.ignored++;
        return;
      case 'output': {
        if (this.io.trace) {
          const line = this.protocol.describe.output(e);
          if (line !== null) this.io.trace(line);
        }
        this.io.output(e);
        return;
      }
    }
  }

  private armTimer(name: string, delay: number): void {
    const gen = ++this.timerGen;
    this.timers.set(name, gen);
    this.io.arm(name, delay, gen);
  }

  /** Issues the turn's append, sends what the turn produced, and ends the turn. */
  private flush(): void {
    const tw = this.turnWrite;
    if (tw !== null && tw.records.length === 0) {
      // Nothing to write (an acceptor answering a retry for a slot it holds): no append and no fsync.
      // What rode on it may vouch for records of earlier appends, so it still waits for every one of them.
      this.turnWrite = null;
      if (this.writes.length === 0) for (const e of tw.then) this.apply(e);
      else this.writes.push({ records: [], then: tw.then, done: true });
    } else if (tw !== null) {
      this.turnWrite = null;
      const write: Write<T> = { records: tw.records, then: tw.then, done: false };
      this.writes.push(write);
      this.counters.appends++;
      if (this.io.trace) this.io.trace({ kind: 'persist', text: `append ${tw.records.map((r) => this.protocol.describe.record(r)).join('; ')}` });
      this.io.append(
        tw.records,
        () => {
          write.done = true;
          this.release();
        },
        (err) => this.io.failed(err),
      );
    }
    this.sendOutbox();
    this.io.endTurn();
  }

  /** Carries out the effects of every append that is durable and has no earlier append still pending, in issue order. */
  private release(): void {
    let released = false;
    while (this.writes.length > 0 && (this.writes[0] as Write<T>).done) {
      const write = this.writes.shift() as Write<T>;
      released = true;
      if (this.armed === 'after-persist') {
        this.armed = null;
        this.io.crash('after-persist', new Error(`crash point after-persist: ${this.id} crashed after a write became durable, before its replies left`));
      }
      this.counters.persisted += write.records.length;
      if (write.records.length > 0) {
        if (this.io.trace) this.io.trace({ kind: 'durable', text: `durable ${write.records.map((r) => this.protocol.describe.record(r)).join('; ')}` });
        this.io.durable(write.records);
      }
      for (const e of write.then) this.apply(e);
    }
    if (!released) return;
    // The released effects may have written (they do not today); their writes queue behind the ones released.
    if (this.inTurn) return;
    this.inTurn = true;
    this.flush();
    this.inTurn = false;
  }

  /** Hands each peer's messages to the driver, after any held back for that peer. */
  private sendOutbox(): void {
    for (let i = 0; i < this.outCount; i++) {
      const to = this.outTo[i] as ActorId;
      const msgs = this.outMsgs[i] as T['message'][];
      this.outTo[i] = null;
      this.outMsgs[i] = null;
      const held = this.held.get(to);
      if (held === undefined) this.post(to, msgs);
      else {
        this.held.delete(to);
        for (const m of msgs) held.push(m);
        this.post(to, held);
      }
    }
    this.outCount = 0;
  }

  private sendHeld(): void {
    for (const [to, msgs] of this.held) this.post(to, msgs);
    this.held.clear();
  }

  private post(to: ActorId, msgs: readonly T['message'][]): void {
    this.counters.sent += msgs.length;
    this.counters.posts++;
    this.io.send(to, msgs);
  }
}
