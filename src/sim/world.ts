/**
 * The simulated world: hosts every actor on one thread, each through the same
 * turn host the worker threads run (src/host/turn.ts), and carries out what
 * the hosts ask for against a simulated network, simulated storage and
 * simulated timers. It decides nothing by itself: which pending event
 * happens next is chosen by its driver — the seeded driver behind
 * `simulate`, or the explicit commands of a transcript test — so both drive
 * exactly the same host code, and it is the code that ships. Each pending
 * item the driver runs is one turn of the actor it reaches.
 *
 * Storage is crash-aware: a persist effect becomes durable only when its
 * write completes, writes of one actor complete in order, and a crash loses
 * every write still pending together with the replies riding on it.
 */
import type { ActorState } from '../core/actor.js';
import type { CoreConfig } from '../core/config.js';
import { describeEffect, describeInput, describeMessage, describeRecord, describeState, describeValue } from '../core/describe.js';
import type { DurableRecord, Effect, Input, TimerName } from '../core/effects.js';
import { allActors, roleOf, type ActorId, type Role } from '../core/ids.js';
import type { AcceptedProposal, Message } from '../core/messages.js';
import type { Value } from '../core/value.js';
import { SafetyChecker } from '../check/safety.js';
import { synodProtocol, type SynodTypes } from '../host/synod.js';
import { TurnHost, type HostIO } from '../host/turn.js';
import { guardedTurn, simQuiet, simTimers, type TimerSpace } from './hosting.js';
import type { RawTraceEvent } from '../trace/types.js';

/** A message on the simulated network. */
export interface PendingMessage {
  readonly kind: 'msg';
  readonly id: number;
  readonly at: number;
  readonly from: ActorId;
  readonly to: ActorId;
  readonly msg: Message;
  /** True for the extra copy made by a duplication fault. */
  readonly dup: boolean;
}

/** A storage write in flight (one append of one turn); the replies riding on it leave when it completes. */
export interface PendingWrite {
  readonly kind: 'write';
  readonly id: number;
  readonly at: number;
  readonly actor: ActorId;
  /** The record written (each record is the role's whole durable state: the last of the append). */
  readonly record: DurableRecord;
  /** Tells the actor's host the write is durable. */
  readonly done: () => void;
}

/** An armed timer. */
export interface PendingTimer {
  readonly kind: 'timer';
  readonly id: number;
  readonly at: number;
  readonly actor: ActorId;
  readonly timer: TimerName;
  /** The generation of the arming (a firing of an older one is stale). */
  readonly gen: number;
}

/** Anything the world is waiting to happen. */
export type Pending = PendingMessage | PendingWrite | PendingTimer;

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

/** Options of the world besides its environment. */
export interface WorldOptions {
  /** The cluster: its members and the protocol's timing. */
  readonly config: CoreConfig;
  /** Control bug: an acceptor's storage is wiped when it restarts. */
  readonly amnesia?: boolean;
  /** Control bug (of progress): a proposer's retry timer never fires, so a phase that timed out or was refused is never tried again. */
  readonly noRetry?: boolean;
  /** Receives a line of text for every step and effect (for traces and transcripts). */
  readonly trace?: (line: string) => void;
  /**
   * Receives a structured event for every send (one per copy put on the
   * network, with a unique `msg` id), receive, drop, persist, durable write,
   * crash, restart, decision, client request and timer firing, in the order
   * they happen; a `TraceBuilder` (synod/trace) gives them vector clocks.
   */
  readonly onTrace?: (e: RawTraceEvent) => void;
}

interface Slot {
  readonly id: ActorId;
  readonly role: Role;
  host: TurnHost<SynodTypes> | null;
  /** The network copy being delivered in the current turn, for the trace. */
  via: PendingMessage | null;
  incarnation: number;
  durable: DurableRecord | null;
  lastWriteAt: number;
  readonly timers: Map<string, number>;
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

/** The simulated world. See the module comment. */
export class World {
  /** Virtual time. */
  now = 0;
  /** Global step counter (every input handed to a core, write completion and fault). */
  step = 0;
  readonly checker: SafetyChecker;
  readonly stats: WorldStats = { inputs: 0, sent: 0, delivered: 0, dropped: 0, duplicated: 0, writes: 0, lostWrites: 0, timers: 0, ignored: 0, crashes: 0, restarts: 0, malformed: 0 };
  /** Decisions per learner, in the order made. */
  readonly decisions = new Map<ActorId, AcceptedProposal>();
  /** What each proposer was told was chosen. */
  readonly chosen = new Map<ActorId, AcceptedProposal>();
  /** Called for every new pending item so a scheduler can queue it. */
  onPending: (p: Pending) => void = () => {};

  private readonly slots = new Map<ActorId, Slot>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Counter for the trace ids of messages lost as they were sent. */
  private traceLost = 0;

  /** What the actors' timers need of this world. */
  private readonly timerSpace: TimerSpace;

  constructor(private readonly env: Environment, private readonly opts: WorldOptions) {
    const world = this;
    this.timerSpace = {
      get now() {
        return world.now;
      },
      nextTimerId: () => this.nextId++,
      addTimer: (t) => this.add({ ...t, timer: t.timer as TimerName }),
      removePending: (id) => void this.pending.delete(id),
    };
    this.checker = new SafetyChecker(opts.config.members);
    for (const id of allActors(opts.config.members)) {
      const role = roleOf(opts.config.members, id) as Role;
      const slot: Slot = { id, role, host: null, via: null, incarnation: 1, durable: null, lastWriteAt: 0, timers: new Map() };
      this.slots.set(id, slot);
      slot.host = this.host(slot);
    }
  }

  /** The core configuration. */
  get config(): CoreConfig {
    return this.opts.config;
  }

  /** Every actor id. */
  get actors(): ActorId[] {
    return [...this.slots.keys()];
  }

  /** Actor `id`'s state, or null while it is crashed. */
  state(id: ActorId): ActorState | null {
    return this.slot(id).host?.state ?? null;
  }

  /** Actor `id`'s last durable record. */
  durable(id: ActorId): DurableRecord | null {
    return this.slot(id).durable;
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
  pendingItems(): Pending[] {
    return [...this.pending.values()];
  }

  /** A pending item by id, if it is still pending. */
  pendingItem(id: number): Pending | undefined {
    return this.pending.get(id);
  }

  /** A client asks proposer `id` to propose `value`. */
  propose(id: ActorId, value: Value): void {
    const slot = this.slot(id);
    if (slot.role !== 'proposer') throw new Error(`${id} is not a proposer`);
    this.checker.proposed(value);
    if (!slot.host) {
      this.log(() => `${id}: propose ${JSON.stringify(value)} refused: crashed`);
      return;
    }
    this.turn(slot, (h) => {
      h.request(value);
      h.turn();
    });
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
      for (const q of [...this.pending.values()]) {
        if (q.kind === 'write' && q.actor === p.actor && q.id < p.id) this.run(q.id);
      }
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
    const v = synodProtocol.validate(raw);
    if (!v.ok) {
      this.stats.malformed++;
      this.log(() => `drop malformed input to ${to}: ${v.reason}`);
      return null;
    }
    const id = this.nextId++;
    this.log(() => `inject ${describeMessage(v.msg, to)}`);
    this.add({ kind: 'msg', id, at: this.now, from: v.msg.from, to, msg: v.msg, dup: false });
    return id;
  }

  /** Drops pending message `id` without delivering it. */
  drop(id: number): boolean {
    const p = this.pending.get(id);
    if (!p || p.kind !== 'msg') return false;
    this.pending.delete(id);
    this.stats.dropped++;
    this.log(() => `drop ${describeMessage(p.msg, p.to)}`);
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
    slot.timers.clear();
    this.emit(() => ({ actor: id, kind: 'crash', text: reason === undefined ? 'crash' : `crash: ${reason}`, time: this.now }));
    for (const [pid, p] of this.pending) {
      if (p.kind === 'write' && p.actor === id) {
        this.stats.lostWrites++;
        this.log(() => `${id}: write lost {${describeRecord(p.record)}}`);
        this.emitLostWrite(p, unreleased.shift() ?? []);
      }
      if ((p.kind === 'write' || p.kind === 'timer') && p.actor === id) this.pending.delete(pid);
    }
    this.stats.crashes++;
    this.log(() => `${id}: crash`);
  }

  /** Restarts crashed actor `id` from its durable record (or from nothing, under the amnesia bug). */
  restart(id: ActorId): void {
    const slot = this.slot(id);
    if (slot.host) return;
    this.step++;
    if (this.opts.amnesia && slot.role === 'acceptor') slot.durable = null;
    slot.incarnation++;
    slot.lastWriteAt = this.now;
    slot.host = this.host(slot);
    this.stats.restarts++;
    this.log(() => `${id}: restart from {${slot.durable ? describeRecord(slot.durable) : 'nothing'}}`);
    this.emit(() => ({ actor: id, kind: 'restart', text: `restart from {${slot.durable ? describeRecord(slot.durable) : 'nothing'}}`, time: this.now }));
    if (slot.role === 'acceptor') this.checker.acceptorRecovered(id, slot.durable as Extract<DurableRecord, { role: 'acceptor' }> | null, this.step);
  }

  /** Ends the run for the checker; returns every violation. */
  finish() {
    return this.checker.finish(this.step);
  }

  /** One line per actor describing its state (or that it is down). */
  describe(): string[] {
    return [...this.slots.values()].map((s) => (s.host ? describeState(s.host.state) : `${s.id} ${s.role} crashed`));
  }

  private deliver(p: PendingMessage): void {
    const slot = this.slot(p.to);
    if (!slot.host) {
      this.stats.dropped++;
      this.log(() => `drop ${describeMessage(p.msg, p.to)} (receiver down)`);
      this.emitDrop(p, 'receiver down');
      return;
    }
    if (!this.env.linkUp(p.from, p.to)) {
      this.stats.dropped++;
      this.log(() => `drop ${describeMessage(p.msg, p.to)} (partitioned)`);
      this.emitDrop(p, 'partitioned');
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

  private complete(p: PendingWrite): void {
    const slot = this.slot(p.actor);
    this.step++;
    this.stats.writes++;
    slot.durable = p.record;
    this.log(() => `${p.actor}: durable {${describeRecord(p.record)}}`);
    this.emit(() => ({ actor: p.actor, kind: 'durable', text: `durable {${describeRecord(p.record)}}`, time: this.now }));
    if (p.record.role === 'acceptor') this.checker.acceptorDurable(p.actor, p.record, this.step);
    // The host carries out what rode on the write.
    this.turn(slot, () => p.done());
  }

  private fire(p: PendingTimer): void {
    const slot = this.slot(p.actor);
    if (slot.timers.get(p.timer) !== p.id) return;
    slot.timers.delete(p.timer);
    if (this.opts.noRetry && slot.role === 'proposer' && p.timer === 'retry') return;
    this.stats.timers++;
    this.turn(slot, (h) => {
      h.fire(p.timer, p.gen);
      h.turn();
    });
  }

  /**
   * Runs `body` against the actor's host; a broken invariant crashes the
   * actor, as in the runtime (where it kills the thread), and the run goes on.
   */
  private turn(slot: Slot, body: (host: TurnHost<SynodTypes>) => void): void {
    guardedTurn(slot.host, body, (message) => {
      this.checker.invariantBroken(slot.id, message, this.step);
      this.crash(slot.id, `invariant broken: ${message}`);
    });
  }

  /** A fresh turn host for the actor in `slot`, from its durable record, wired to this world. */
  private host(slot: Slot): TurnHost<SynodTypes> {
    const io: HostIO<SynodTypes> = {
      random: () => this.env.random(),
      append: (records, done) => {
        const at = Math.max(this.now + this.env.writeDelay(slot.id), slot.lastWriteAt);
        slot.lastWriteAt = at;
        this.add({ kind: 'write', id: this.nextId++, at, actor: slot.id, record: records[records.length - 1] as DurableRecord, done });
      },
      send: (to, msgs) => {
        for (const msg of msgs) this.send(slot, to, msg);
      },
      output: (e) => this.output(slot, e),
      ...simTimers<SynodTypes>(slot.id, slot.timers, this.timerSpace),
      ...simQuiet<SynodTypes>(),
      stepping: (input) => this.stepping(slot, input),
      applying: (e) => {
        if (e.type === 'ignore') {
          this.stats.ignored++;
          this.log(() => `  ignore: ${e.reason}`);
          return;
        }
        this.log(() => `  ${describeEffect(e, slot.id)}`);
        if (e.type === 'persist') this.emit(() => ({ actor: slot.id, kind: 'persist', text: describeEffect(e, slot.id), time: this.now }));
      },
    };
    // The simulated mailbox never overflows (the driver decides what arrives), and values are not size-checked here.
    return new TurnHost(synodProtocol, slot.id, slot.role, this.opts.config, slot.durable === null ? [] : [slot.durable], io, { mailboxLimit: Number.MAX_SAFE_INTEGER, lazyMs: 0, maxValueBytes: Number.POSITIVE_INFINITY });
  }

  /** Counts and traces an input about to be stepped; the copy it came on is `slot.via`. */
  private stepping(slot: Slot, input: Input): void {
    this.step++;
    this.stats.inputs++;
    this.log(() => `${slot.id}: ${describeInput(input)}`);
    const via = slot.via;
    this.emit(() => {
      const base = { actor: slot.id, time: this.now };
      switch (input.type) {
        case 'receive':
          return { ...base, kind: 'receive', text: `receive ${describeMessage(input.msg, slot.id)}${via?.dup ? ' (duplicate)' : ''}`, from: via?.from ?? input.msg.from, ...(via ? { msg: traceMsgId(via.id) } : {}) };
        case 'timeout':
          return { ...base, kind: 'timer', text: describeInput(input) };
        case 'propose':
          return { ...base, kind: 'propose', text: describeInput(input), value: describeValue(input.value) };
      }
    });
  }

  private send(slot: Slot, to: ActorId, msg: Message): void {
    this.stats.sent++;
    const delays = this.env.sendDelays(slot.id, to, msg);
    if (delays.length === 0) {
      this.stats.dropped++;
      this.log(() => `  drop ${describeMessage(msg, to)}`);
      if (this.opts.onTrace) {
        // Lost on the way out: traced as a send and its drop, under an id no network copy uses.
        const id = `x${++this.traceLost}`;
        this.emit(() => ({ actor: slot.id, kind: 'send', text: `send ${describeMessage(msg, to)}`, time: this.now, msg: id, to }));
        this.emit(() => ({ actor: slot.id, kind: 'drop', text: `drop ${describeMessage(msg, to)} (lost by the network)`, time: this.now, msg: id, to }));
      }
    }
    if (delays.length > 1) this.stats.duplicated += delays.length - 1;
    delays.forEach((d, i) => {
      const p: PendingMessage = { kind: 'msg', id: this.nextId++, at: this.now + d, from: slot.id, to, msg, dup: i > 0 };
      this.emit(() => ({ actor: slot.id, kind: 'send', text: `send ${describeMessage(msg, to)}${p.dup ? ' (duplicate)' : ''}`, time: this.now, msg: traceMsgId(p.id), to }));
      this.add(p);
    });
  }

  private output(slot: Slot, e: Effect): void {
    switch (e.type) {
      case 'decide':
        this.emit(() => ({ actor: slot.id, kind: 'decide', text: describeEffect(e, slot.id), time: this.now, value: describeValue(e.value) }));
        this.decisions.set(slot.id, { ballot: e.ballot, value: e.value });
        this.checker.decided(slot.id, { ballot: e.ballot, value: e.value }, this.step);
        return;
      case 'chosen':
        this.emit(() => ({ actor: slot.id, kind: 'note', text: describeEffect(e, slot.id), time: this.now, value: describeValue(e.value) }));
        this.chosen.set(slot.id, { ballot: e.ballot, value: e.value });
        return;
      default:
        return;
    }
  }

  private add(p: Pending): void {
    this.pending.set(p.id, p);
    this.onPending(p);
  }

  private slot(id: ActorId): Slot {
    const s = this.slots.get(id);
    if (!s) throw new Error(`no actor ${id}`);
    return s;
  }

  /** Traces a line; the text is built only when someone listens (describing every step costs more than the step). */
  private log(line: () => string): void {
    if (this.opts.trace) this.opts.trace(line());
  }

  /** Emits a structured trace event; built only when someone listens. */
  private emit(event: () => RawTraceEvent): void {
    if (this.opts.onTrace) this.opts.onTrace(event());
  }

  /** A network copy that will never arrive: a drop on the sender's lane, naming the send it loses. */
  private emitDrop(p: PendingMessage, why: string): void {
    this.emit(() => ({ actor: p.from, kind: 'drop', text: `drop ${describeMessage(p.msg, p.to)} (${why})`, time: this.now, msg: traceMsgId(p.id), to: p.to }));
  }

  /** A write lost with a crash, and every message that was to leave once it was durable (those were never sent). */
  private emitLostWrite(p: PendingWrite, then: readonly Effect[]): void {
    this.emit(() => ({ actor: p.actor, kind: 'drop', text: `write lost with the crash {${describeRecord(p.record)}}`, time: this.now }));
    for (const e of then) {
      if (e.type === 'send') this.emit(() => ({ actor: p.actor, kind: 'drop', text: `never sent, lost with the crash: ${describeMessage(e.msg, e.to)}`, time: this.now, to: e.to }));
    }
  }
}

/** The trace id of the network copy with pending id `id`. */
function traceMsgId(id: number): string {
  return `m${id}`;
}
