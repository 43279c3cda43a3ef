/**
 * The simulated world, one for both protocols: hosts every actor on one
 * thread, each through the same turn host the worker threads run
 * (src/host/turn.ts: group commit, replies released once durable and in
 * order, one post per peer per turn, the lazy hold-back, timer generations),
 * and carries out what the hosts ask for against a simulated network,
 * simulated storage and simulated timers. It is generic over the protocol
 * seam (src/host/protocol.ts); what differs between protocols — which checker
 * watches the facts, what goes to clients, how things are printed — comes
 * from a small per-protocol subclass (synod-world.ts, multipaxos-world.ts)
 * that holds no mechanics of its own.
 *
 * It decides nothing by itself: which pending item (a message, a write, a
 * timer) happens next is chosen by its driver — the seeded driver behind
 * `simulate` and `simulateKv`, or the explicit commands of a transcript test
 * — so both drive exactly the same host code, and it is the code that ships.
 * Each pending item the driver runs is one turn of the actor it reaches.
 *
 * Storage is crash-aware: a write becomes durable only when it completes,
 * writes of one actor complete in order, and a crash loses every write still
 * pending together with the replies riding on it.
 */
import { AssertionError } from '../core/assert.js';
import { allActors, roleOf, type ActorId, type Membership, type Role } from '../core/ids.js';
import type { Message } from '../core/messages.js';
import type { Protocol, ProtocolTypes } from '../host/protocol.js';
import { LAZY_TIMER, TurnHost, type HostIO } from '../host/turn.js';
import type { RawTraceEvent } from '../trace/types.js';

/** A message on the simulated network. `M` is the protocol's message type. */
export interface SimPendingMessage<M> {
  readonly kind: 'msg';
  readonly id: number;
  readonly at: number;
  readonly from: ActorId;
  readonly to: ActorId;
  readonly msg: M;
  /** True for the extra copy made by a duplication fault. */
  readonly dup: boolean;
}

/** A storage write in flight (one append of one turn); the replies riding on it leave when it completes. `R` is the protocol's record type. */
export interface SimPendingWrite<R> {
  readonly kind: 'write';
  readonly id: number;
  readonly at: number;
  readonly actor: ActorId;
  /** The records of the append, in order. */
  readonly records: readonly R[];
  /** The last record of the append (where each record is the role's whole durable state, the one that counts). */
  readonly record: R;
  /** Tells the actor's host the write is durable. */
  readonly done: () => void;
}

/** An armed timer. `N` is the protocol's timer name. */
export interface SimPendingTimer<N extends string> {
  readonly kind: 'timer';
  readonly id: number;
  readonly at: number;
  readonly actor: ActorId;
  /** The timer (the host's lazy hold-back of messages has one too). */
  readonly timer: N | typeof LAZY_TIMER;
  /** The generation of the arming (a firing of an older one is stale). */
  readonly gen: number;
}

/** Anything a world is waiting to happen. */
export type SimPending<M, R, N extends string> = SimPendingMessage<M> | SimPendingWrite<R> | SimPendingTimer<N>;

/** How the world's environment behaves; supplied by the driver. `M` is the protocol's message type. */
export interface Environment<M = Message> {
  /** A draw in [0, 1) handed to a core with each step. */
  random(): number;
  /**
   * Delivery delays for a message just sent: `[]` drops it, `[d]` delivers it
   * after `d`, `[d1, d2]` delivers it twice.
   */
  sendDelays(from: ActorId, to: ActorId, msg: M): number[];
  /** True when `from` can currently reach `to` (checked again at delivery). */
  linkUp(from: ActorId, to: ActorId): boolean;
  /** How long a storage write takes to become durable. */
  writeDelay(actor: ActorId): number;
}

/** Counters for one run. */
export interface WorldStats {
  /** Inputs handed to cores (messages received, timers fired, client requests). */
  inputs: number;
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  writes: number;
  lostWrites: number;
  timers: number;
  ignored: number;
  crashes: number;
  restarts: number;
  /** Untrusted input refused by validation. */
  malformed: number;
}

/** Counters all at zero. */
export function emptyStats(): WorldStats {
  return { inputs: 0, sent: 0, delivered: 0, dropped: 0, duplicated: 0, writes: 0, lostWrites: 0, timers: 0, ignored: 0, crashes: 0, restarts: 0, malformed: 0 };
}

/** The trace of one input, as a protocol describes it; a received message is described by the world. */
export type InputTrace<M> = { readonly kind: 'receive'; readonly msg: M } | { readonly kind: 'timer' | 'propose'; readonly text: string; readonly value?: string };

/**
 * What a world needs of one protocol besides its seam: how it prints, how
 * its storage keeps records, and what it traces.
 * @internal
 */
export interface WorldProtocol<T extends ProtocolTypes> {
  /** The protocol seam the turn hosts run. */
  readonly protocol: Protocol<T>;
  /** Stable printers, for the trace lines and `describe()`. */
  readonly print: {
    state(s: T['state']): string;
    message(m: T['message'], to: ActorId): string;
    input(i: T['input']): string;
    effect(e: T['effect'], self: ActorId): string;
    /** The records of one write, as `durable {…}` shows them. */
    write(records: readonly T['record'][]): string;
    /** What a restart starts from, after "restart from ". */
    restartFrom(records: readonly T['record'][]): string;
    /** An input's trace event, or null for none. */
    traceInput(i: T['input']): InputTrace<T['message']> | null;
  };
  /** Each record is the role's whole durable state: storage keeps only the latest. */
  readonly wholeState: boolean;
  /**
   * The text trace has a line for each message lost as it is sent and for
   * each write lost with a crash, and the structured trace marks a duplicate
   * copy where it is received, not only where it is sent.
   */
  readonly traceLosses: boolean;
}

/** Options of a world besides its environment. */
export interface SimWorldOptions {
  /** Control bug: an acceptor's storage is wiped when it restarts. */
  readonly amnesia?: boolean;
  /**
   * How long a leader's lazy messages may be held back (virtual ms); 0
   * sends them with their turn. Default: what the worker threads do, the
   * protocol's own `lazyMs` for the configuration.
   */
  readonly lazyMs?: number;
  /** Receives a line of text for every step and effect (for traces and transcripts). */
  readonly trace?: (line: string) => void;
  /** Actors hosted besides the configured members (same settings): spares a reconfiguration may bring in. */
  readonly spares?: Membership;
  /**
   * Receives a structured event for every send (one per copy put on the
   * network, with a unique `msg` id), receive, drop, persist, durable write,
   * crash, restart, decision, client request and timer firing, in the order
   * they happen; a `TraceBuilder` (synod/trace) gives them vector clocks.
   */
  readonly onTrace?: (e: RawTraceEvent) => void;
}

/** One hosted actor. @internal */
interface Slot<T extends ProtocolTypes> {
  readonly id: ActorId;
  readonly role: Role;
  host: TurnHost<T> | null;
  /** The network copy being delivered in the current turn, for the trace. */
  via: SimPendingMessage<T['message']> | null;
  incarnation: number;
  /** The records made durable, oldest first (only the latest, for a protocol of whole-state records). */
  durable: T['record'][];
  lastWriteAt: number;
  /** The pending item of each armed timer. */
  readonly timers: Map<string, number>;
  /** Ids of this actor's pending writes, oldest first. */
  readonly writes: number[];
}

/**
 * The simulated world, generic over the protocol (and over its counters, for
 * a protocol that keeps more). See the module comment; `World`
 * (single-decree) and `MpWorld` (Multi-Paxos) are its two protocols.
 */
export abstract class SimWorld<T extends ProtocolTypes, S extends WorldStats = WorldStats> {
  /** Virtual time. */
  now = 0;
  /** Global step counter (every input handed to a core, write completion and fault). */
  step = 0;
  /** Called for every new pending item so a scheduler can queue it. */
  onPending: (p: SimPending<T['message'], T['record'], T['timer']>) => void = () => {};

  private readonly slots = new Map<ActorId, Slot<T>>();
  private readonly pending = new Map<number, SimPending<T['message'], T['record'], T['timer']>>();
  private nextId = 1;
  /** Counter for the trace ids of messages lost as they were sent. */
  private traceLost = 0;
  private readonly print: WorldProtocol<T>['print'];

  /** @internal */
  constructor(
    private readonly proto: WorldProtocol<T>,
    /** The cluster: its members and the protocol's settings. */
    readonly config: T['config'],
    private readonly env: Environment<T['message']>,
    private readonly options: SimWorldOptions,
    /** Counters of the run, all at zero (see {@link emptyStats}). */
    readonly stats: S,
  ) {
    this.print = proto.print;
    const spares = options.spares ?? { proposers: [], acceptors: [], learners: [] };
    for (const id of [...allActors(config.members), ...allActors(spares)]) {
      const role = (roleOf(config.members, id) ?? roleOf(spares, id)) as Role;
      const slot: Slot<T> = { id, role, host: null, via: null, incarnation: 1, durable: [], lastWriteAt: 0, timers: new Map(), writes: [] };
      this.slots.set(id, slot);
      slot.host = this.host(slot);
    }
  }

  /** Every actor id. */
  get actors(): ActorId[] {
    return [...this.slots.keys()];
  }

  /** Actor `id`'s state, or null while it is crashed. */
  state(id: ActorId): T['state'] | null {
    return this.slot(id).host?.state ?? null;
  }

  /** Actor `id`'s durable records, oldest first (for a protocol of whole-state records, only the latest). */
  records(id: ActorId): readonly T['record'][] {
    return this.slot(id).durable;
  }

  /** Actor `id`'s role. */
  role(id: ActorId): Role {
    return this.slot(id).role;
  }

  /** True while actor `id` is up. */
  isUp(id: ActorId): boolean {
    return this.slot(id).host !== null;
  }

  /** How many times actor `id` has been started. */
  incarnation(id: ActorId): number {
    return this.slot(id).incarnation;
  }

  /** Everything pending, in the order it was created. */
  pendingItems(): SimPending<T['message'], T['record'], T['timer']>[] {
    return [...this.pending.values()];
  }

  /** A pending item by id, if it is still pending. */
  pendingItem(id: number): SimPending<T['message'], T['record'], T['timer']> | undefined {
    return this.pending.get(id);
  }

  /** Feeds the protocol's start input to every actor (arms their timers); nothing for a protocol without one. */
  start(): void {
    for (const slot of this.slots.values()) this.turn(slot, (h) => h.start());
  }

  /** Client requests reach actor `to` now, as one turn; returns false if it is down (the protocol traces the loss). */
  request(to: ActorId, requests: readonly T['request'][]): boolean {
    const slot = this.slot(to);
    this.requested(requests);
    if (!slot.host) {
      this.refused(to, requests);
      return false;
    }
    this.turn(slot, (h) => {
      for (const r of requests) h.request(r);
      h.turn();
    });
    return true;
  }

  /**
   * Makes pending item `id` happen: delivers a message, completes a write
   * (and every earlier write of the same actor first) or fires a timer.
   * Returns false if it is no longer pending.
   */
  run(id: number): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    if (p.kind === 'write') {
      // Storage is FIFO per actor: a write is durable only after every earlier one.
      const queue = this.slot(p.actor).writes;
      while (queue.length > 0 && queue[0] !== id) this.run(queue[0] as number);
      queue.shift();
    }
    this.pending.delete(id);
    if (p.at > this.now) this.now = p.at;
    switch (p.kind) {
      case 'msg':
        this.deliver(p);
        break;
      case 'write':
        this.complete(p);
        break;
      case 'timer':
        this.fire(p);
        break;
    }
    return true;
  }

  /**
   * Puts untrusted input on the wire to `to`, as a host receiving it from
   * outside would: it is validated first, and malformed input is dropped and
   * counted. Returns the pending message id, or null if it was refused.
   */
  inject(to: ActorId, raw: unknown): number | null {
    const v = this.proto.protocol.validate(raw);
    if (!v.ok) {
      this.stats.malformed++;
      this.log(() => `drop malformed input to ${to}: ${v.reason}`);
      return null;
    }
    const id = this.nextId++;
    this.log(() => `inject ${this.print.message(v.msg, to)}`);
    this.add({ kind: 'msg', id, at: this.now, from: v.msg.from, to, msg: v.msg, dup: false });
    return id;
  }

  /** Drops pending message `id` without delivering it. */
  drop(id: number): boolean {
    const p = this.pending.get(id);
    if (!p || p.kind !== 'msg') return false;
    this.pending.delete(id);
    this.stats.dropped++;
    this.log(() => `drop ${this.print.message(p.msg, p.to)}`);
    this.emitDrop(p, 'dropped by the driver');
    return true;
  }

  /** Crashes actor `id`: its memory, pending writes (and their replies) and timers are lost. `reason` only labels the trace. */
  crash(id: ActorId, reason?: string): void {
    const slot = this.slot(id);
    if (!slot.host) return;
    this.step++;
    const unreleased = slot.host.unreleased();
    slot.host = null;
    this.emit(() => ({ actor: id, kind: 'crash', text: reason === undefined ? 'crash' : `crash: ${reason}`, time: this.now }));
    for (const wid of slot.writes) {
      const w = this.pending.get(wid) as SimPendingWrite<T['record']>;
      this.pending.delete(wid);
      this.stats.lostWrites++;
      if (this.proto.traceLosses) this.log(() => `${id}: write lost {${this.print.write(w.records)}}`);
      this.emitLostWrite(w, unreleased.shift() ?? []);
    }
    slot.writes.length = 0;
    for (const tid of slot.timers.values()) this.pending.delete(tid);
    slot.timers.clear();
    this.stats.crashes++;
    this.log(() => `${id}: crash`);
  }

  /** Restarts crashed actor `id` from its durable records (or from nothing, under the amnesia bug) and starts it. */
  restart(id: ActorId): void {
    const slot = this.slot(id);
    if (slot.host) return;
    this.step++;
    if (this.options.amnesia && slot.role === 'acceptor') slot.durable = [];
    slot.incarnation++;
    slot.lastWriteAt = this.now;
    slot.host = this.host(slot);
    this.stats.restarts++;
    this.log(() => `${id}: restart from ${this.print.restartFrom(slot.durable)}`);
    this.emit(() => ({ actor: id, kind: 'restart', text: `restart from ${this.print.restartFrom(slot.durable)}`, time: this.now }));
    this.recovered(id, slot.role, slot.host.state, slot.durable);
    this.turn(slot, (h) => h.start());
  }

  /** One line per actor describing its state (or that it is down). */
  describe(): string[] {
    return [...this.slots.values()].map((s) => (s.host ? this.print.state(s.host.state) : `${s.id} ${s.role} crashed`));
  }

  /** A protocol output (a decision, an answer to a client, an election): the facts for the protocol's checker. @internal */
  protected abstract output(id: ActorId, e: T['effect']): void;
  /** Records of actor `id` became durable (the checker may watch an acceptor's). @internal */
  protected abstract written(id: ActorId, role: Role, records: readonly T['record'][]): void;
  /** Actor `id` restarted from `records` into `state`. @internal */
  protected abstract recovered(id: ActorId, role: Role, state: T['state'], records: readonly T['record'][]): void;
  /** A turn of actor `id` broke an invariant: tell the checker, then {@link crash} it. @internal */
  protected abstract broken(id: ActorId, message: string): void;
  /** Client requests were made (whether or not their actor is up): the checker may record them. @internal */
  protected requested(_requests: readonly T['request'][]): void {}
  /** Client requests to actor `id` found it down. @internal */
  protected abstract refused(id: ActorId, requests: readonly T['request'][]): void;
  /** True when timer `timer` of an actor of `role` must not fire (a control bug). @internal */
  protected silenced(_role: Role, _timer: string): boolean {
    return false;
  }

  /** Traces a line; the text is built only when someone listens (describing every step costs more than the step). @internal */
  protected log(line: () => string): void {
    if (this.options.trace) this.options.trace(line());
  }

  /** Emits a structured trace event; built only when someone listens. @internal */
  protected emit(event: () => RawTraceEvent): void {
    if (this.options.onTrace) this.options.onTrace(event());
  }

  private deliver(p: SimPendingMessage<T['message']>): void {
    const slot = this.slot(p.to);
    if (!slot.host || !this.env.linkUp(p.from, p.to)) {
      const why = slot.host ? 'partitioned' : 'receiver down';
      this.stats.dropped++;
      this.log(() => `drop ${this.print.message(p.msg, p.to)} (${why})`);
      this.emitDrop(p, why);
      return;
    }
    this.stats.delivered++;
    slot.via = p;
    this.turn(slot, (h) => {
      h.deliver(p.msg);
      h.turn();
    });
    slot.via = null;
  }

  private complete(p: SimPendingWrite<T['record']>): void {
    const slot = this.slot(p.actor);
    this.step++;
    this.stats.writes++;
    if (this.proto.wholeState) slot.durable = [p.record];
    else slot.durable.push(...p.records);
    this.log(() => `${p.actor}: durable {${this.print.write(p.records)}}`);
    this.emit(() => ({ actor: p.actor, kind: 'durable', text: `durable {${this.print.write(p.records)}}`, time: this.now }));
    this.written(p.actor, slot.role, p.records);
    // The host carries out what rode on the write (and every earlier one, all complete by now).
    this.turn(slot, () => p.done());
  }

  private fire(p: SimPendingTimer<T['timer']>): void {
    const slot = this.slot(p.actor);
    if (slot.timers.get(p.timer) !== p.id) return;
    slot.timers.delete(p.timer);
    if (this.silenced(slot.role, p.timer)) return;
    const lazy = p.timer === LAZY_TIMER;
    if (!lazy) this.stats.timers++;
    this.turn(slot, (h) => {
      h.fire(p.timer, p.gen);
      if (!lazy) h.turn();
    });
  }

  /**
   * Runs `body` against the actor's host; a broken invariant crashes the
   * actor, as in the runtime (where it kills the thread), and the run goes
   * on. Anything else is a bug of the simulator and is thrown.
   */
  private turn(slot: Slot<T>, body: (host: TurnHost<T>) => void): void {
    if (!slot.host) return;
    try {
      body(slot.host);
    } catch (err) {
      if (!(err instanceof AssertionError)) throw err;
      this.broken(slot.id, err.message);
    }
  }

  /** A fresh turn host for the actor in `slot`, from its durable records, wired to this world. */
  private host(slot: Slot<T>): TurnHost<T> {
    const io: HostIO<T> = {
      random: () => this.env.random(),
      append: (records, done) => {
        const at = Math.max(this.now + this.env.writeDelay(slot.id), slot.lastWriteAt);
        slot.lastWriteAt = at;
        const id = this.nextId++;
        slot.writes.push(id);
        this.add({ kind: 'write', id, at, actor: slot.id, records, record: records[records.length - 1] as T['record'], done });
      },
      send: (to, msgs) => {
        for (const msg of msgs) this.send(slot, to, msg);
      },
      output: (e) => this.output(slot.id, e),
      arm: (name, delay, gen) => {
        const old = slot.timers.get(name);
        if (old !== undefined) this.pending.delete(old);
        const id = this.nextId++;
        slot.timers.set(name, id);
        this.add({ kind: 'timer', id, at: this.now + delay, actor: slot.id, timer: name as T['timer'], gen });
      },
      disarm: (name) => {
        const old = slot.timers.get(name);
        if (old !== undefined) this.pending.delete(old);
        slot.timers.delete(name);
      },
      // The world runs every turn itself, and has no crash points and no failing disks.
      wake: () => {},
      endTurn: () => {},
      durable: () => {},
      crash(point) {
        throw new Error(`crash point ${point} armed in the simulator, which has none`);
      },
      failed(err) {
        throw err;
      },
      stepping: (input) => this.stepping(slot, input),
      applying: (e) => {
        const type = (e as { readonly type: string }).type;
        if (type === 'ignore') this.stats.ignored++;
        if (this.options.trace) this.options.trace(`  ${this.print.effect(e, slot.id)}`);
        if (type === 'persist') this.emit(() => ({ actor: slot.id, kind: 'persist', text: this.print.effect(e, slot.id), time: this.now }));
      },
    };
    // The simulated mailbox never overflows (the driver decides what arrives), and values are not size-checked here.
    return new TurnHost(this.proto.protocol, slot.id, slot.role, this.config, slot.durable, io, {
      mailboxLimit: Number.MAX_SAFE_INTEGER,
      lazyMs: this.options.lazyMs ?? this.proto.protocol.lazyMs(this.config),
      maxValueBytes: Number.POSITIVE_INFINITY,
      ...(this.options.spares ? { spares: this.options.spares } : {}),
    });
  }

  /** Counts and traces an input about to be stepped; the copy it came on is `slot.via`. */
  private stepping(slot: Slot<T>, input: T['input']): void {
    this.step++;
    this.stats.inputs++;
    if (this.options.trace) this.options.trace(`${slot.id}: ${this.print.input(input)}`);
    if (!this.options.onTrace) return;
    const t = this.print.traceInput(input);
    if (t === null) return;
    const base = { actor: slot.id, time: this.now };
    if (t.kind !== 'receive') {
      this.options.onTrace({ ...base, ...t });
      return;
    }
    const via = slot.via;
    const dup = this.proto.traceLosses && via?.dup ? ' (duplicate)' : '';
    this.options.onTrace({ ...base, kind: 'receive', text: `receive ${this.print.message(t.msg, slot.id)}${dup}`, from: via?.from ?? t.msg.from, ...(via ? { msg: traceMsgId(via.id) } : {}) });
  }

  private send(slot: Slot<T>, to: ActorId, msg: T['message']): void {
    this.stats.sent++;
    const delays = this.env.sendDelays(slot.id, to, msg);
    if (delays.length === 0) {
      this.stats.dropped++;
      if (this.proto.traceLosses) this.log(() => `  drop ${this.print.message(msg, to)}`);
      if (this.options.onTrace) {
        // Lost on the way out: traced as a send and its drop, under an id no network copy uses.
        const id = `x${++this.traceLost}`;
        this.emit(() => ({ actor: slot.id, kind: 'send', text: `send ${this.print.message(msg, to)}`, time: this.now, msg: id, to }));
        this.emit(() => ({ actor: slot.id, kind: 'drop', text: `drop ${this.print.message(msg, to)} (lost by the network)`, time: this.now, msg: id, to }));
      }
    }
    if (delays.length > 1) this.stats.duplicated += delays.length - 1;
    delays.forEach((d, i) => {
      const p: SimPendingMessage<T['message']> = { kind: 'msg', id: this.nextId++, at: this.now + d, from: slot.id, to, msg, dup: i > 0 };
      this.emit(() => ({ actor: slot.id, kind: 'send', text: `send ${this.print.message(msg, to)}${p.dup ? ' (duplicate)' : ''}`, time: this.now, msg: traceMsgId(p.id), to }));
      this.add(p);
    });
  }

  private add(p: SimPending<T['message'], T['record'], T['timer']>): void {
    this.pending.set(p.id, p);
    this.onPending(p);
  }

  private slot(id: ActorId): Slot<T> {
    const s = this.slots.get(id);
    if (!s) throw new Error(`no actor ${id}`);
    return s;
  }

  /** A network copy that will never arrive: a drop on the sender's lane, naming the send it loses. */
  private emitDrop(p: SimPendingMessage<T['message']>, why: string): void {
    this.emit(() => ({ actor: p.from, kind: 'drop', text: `drop ${this.print.message(p.msg, p.to)} (${why})`, time: this.now, msg: traceMsgId(p.id), to: p.to }));
  }

  /** A write lost with a crash, and every message that was to leave once it was durable (those were never sent). */
  private emitLostWrite(w: SimPendingWrite<T['record']>, then: readonly T['effect'][]): void {
    this.emit(() => ({ actor: w.actor, kind: 'drop', text: `write lost with the crash {${this.print.write(w.records)}}`, time: this.now }));
    if (!this.options.onTrace) return;
    for (const e of then) {
      const h = this.proto.protocol.classify(e);
      if (h.type === 'send') this.emit(() => ({ actor: w.actor, kind: 'drop', text: `never sent, lost with the crash: ${this.print.message(h.msg, h.to)}`, time: this.now, to: h.to }));
    }
  }
}

/** The trace id of the network copy with pending id `id`. */
function traceMsgId(id: number): string {
  return `m${id}`;
}
