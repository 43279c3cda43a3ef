/**
 * The simulated world for Multi-Paxos: hosts every actor on one thread, each
 * through the same turn host the worker threads run (src/host/turn.ts: group
 * commit, replies released once durable and in order, one post per peer per
 * turn, the lazy hold-back of commits, timer generations), and carries out
 * what the hosts ask for against a simulated network, storage and timers, as
 * {@link World} does for single-decree Paxos. So every seed sweep exercises
 * the turn logic that ships. Each pending item the driver runs is one turn
 * of the actor it reaches. What happens
 * next is chosen by a driver — the seeded key-value simulator or a
 * transcript — and answers meant for clients go to the driver's `onClient`.
 *
 * Storage keeps each actor's records in the order written; a write becomes
 * durable only when it completes, writes of one actor complete in order, and
 * a crash loses every pending write with the replies riding on it.
 */
import { LogSafetyChecker } from '../check/log-safety.js';
import { ballotGt, type Ballot } from '../core/ballot.js';
import { allActors, roleOf, type ActorId, type Role } from '../core/ids.js';
import type { MpActorState } from '../core/multipaxos/actor.js';
import { mpDescriber, type MpDescriber } from '../core/multipaxos/describe.js';
import type { AnyStateMachine } from '../core/multipaxos/machine.js';
import type { Command, MpConfig, MpEffect, MpMessage, MpRecord, MpTimer } from '../core/multipaxos/types.js';
import { multiPaxosProtocol, type MultiPaxosTypes } from '../host/multipaxos.js';
import type { Protocol } from '../host/protocol.js';
import { kvMachine } from '../machines/kv/machine.js';
import { LAZY_TIMER, TurnHost, type HostIO } from '../host/turn.js';
import { guardedTurn, simQuiet, simTimers, type TimerSpace } from './hosting.js';
import type { Environment } from './world.js';
import type { RawTraceEvent } from '../trace/types.js';

/** Something the world is waiting to happen. */
export type MpPending =
  | { readonly kind: 'msg'; readonly id: number; readonly at: number; readonly from: ActorId; readonly to: ActorId; readonly msg: MpMessage }
  | { readonly kind: 'write'; readonly id: number; readonly at: number; readonly actor: ActorId; readonly records: readonly MpRecord[]; readonly done: () => void }
  | { readonly kind: 'timer'; readonly id: number; readonly at: number; readonly actor: ActorId; readonly timer: MpTimer | typeof LAZY_TIMER; readonly gen: number };

/** An effect addressed to clients: an answer, a redirection, or a refusal for want of a session. */
export type ClientEffect = Extract<MpEffect, { type: 'applied' | 'reject' | 'expired' }>;

/** Counters of one run. */
export interface MpWorldStats {
  sent: number;
  dropped: number;
  writes: number;
  lostWrites: number;
  crashes: number;
  leaderChanges: number;
}

/** Options of an {@link MpWorld}. */
export interface MpWorldOptions {
  /**
   * How long a leader's commits to the other proposers may be held back
   * (virtual ms), as the worker threads do (5); 0 sends them with their turn,
   * which hand-driven transcripts use so that every message is in view.
   */
  readonly lazyMs?: number;
  /** The state machine the log replicates; the key-value store by default. */
  readonly machine?: AnyStateMachine;
}

interface Slot {
  readonly id: ActorId;
  readonly role: Role;
  host: TurnHost<MultiPaxosTypes> | null;
  readonly durable: MpRecord[];
  lastWriteAt: number;
  /** The pending item of each armed timer. */
  readonly timers: Map<string, number>;
  /** Ids of this actor's pending writes, oldest first. */
  readonly writes: number[];
  /** The network copy being delivered in the current turn, for the trace. */
  via: Extract<MpPending, { kind: 'msg' }> | null;
}

/** The simulated Multi-Paxos world. See the module comment. */
export class MpWorld {
  now = 0;
  step = 0;
  readonly checker: LogSafetyChecker;
  readonly stats: MpWorldStats = { sent: 0, dropped: 0, writes: 0, lostWrites: 0, crashes: 0, leaderChanges: 0 };
  /** The most recently elected leader. */
  leader: { readonly id: ActorId; readonly ballot: Ballot } | null = null;
  /** Called for every new pending item so a scheduler can queue it. */
  onPending: (p: MpPending) => void = () => {};
  /** Called with every answer or redirection meant for a client. */
  onClient: (from: ActorId, e: ClientEffect) => void = () => {};

  private readonly slots = new Map<ActorId, Slot>();
  private readonly pending = new Map<number, MpPending>();
  private nextId = 1;
  /** Counter for the trace ids of messages lost as they were sent. */
  private traceLost = 0;
  private readonly lazyMs: number;
  /** The protocol the hosts run, for the world's state machine. */
  private readonly protocol: Protocol<MultiPaxosTypes>;
  /** The printers for the world's state machine. */
  readonly describer: MpDescriber;
  /** What the actors' timers need of this world. */
  private readonly timerSpace: TimerSpace;

  /** `onTrace` receives structured trace events, as `WorldOptions.onTrace` does for {@link World}. */
  constructor(
    private readonly env: Environment<MpMessage>,
    readonly config: MpConfig,
    private readonly trace?: (line: string) => void,
    private readonly onTrace?: (e: RawTraceEvent) => void,
    options: MpWorldOptions = {},
  ) {
    this.lazyMs = options.lazyMs ?? 5;
    this.protocol = multiPaxosProtocol(options.machine ?? kvMachine);
    this.describer = mpDescriber(options.machine ?? kvMachine);
    const world = this;
    this.timerSpace = {
      get now() {
        return world.now;
      },
      nextTimerId: () => this.nextId++,
      addTimer: (t) => this.add({ ...t, timer: t.timer as MpTimer }),
      removePending: (id) => void this.pending.delete(id),
    };
    this.checker = new LogSafetyChecker(config.members);
    for (const id of allActors(config.members)) {
      const role = roleOf(config.members, id) as Role;
      const slot: Slot = { id, role, host: null, durable: [], lastWriteAt: 0, timers: new Map(), writes: [], via: null };
      this.slots.set(id, slot);
      slot.host = this.host(slot);
    }
  }

  /** Every actor id. */
  get actors(): ActorId[] {
    return [...this.slots.keys()];
  }

  /** Feeds `start` to every actor (arms their timers). */
  start(): void {
    for (const slot of this.slots.values()) this.turn(slot, (h) => h.start());
  }

  /** True while actor `id` is up. */
  isUp(id: ActorId): boolean {
    return this.slot(id).host !== null;
  }

  /** Actor `id`'s state, or null while crashed. */
  state(id: ActorId): MpActorState | null {
    return this.slot(id).host?.state ?? null;
  }

  /** Everything pending, oldest first. */
  pendingItems(): MpPending[] {
    return [...this.pending.values()];
  }

  /** A client's request reaches actor `to` now (dropped if it is down). */
  request(to: ActorId, commands: readonly Command[]): void {
    const slot = this.slot(to);
    if (!slot.host) {
      this.log(() => `request to ${to} lost: it is down`);
      this.emit(() => ({ actor: to, kind: 'drop', text: `request lost, ${to} is down: ${this.describer.input({ type: 'request', commands })}`, time: this.now }));
      return;
    }
    this.turn(slot, (h) => {
      for (const c of commands) h.request(c);
      h.turn();
    });
  }

  /** Makes pending item `id` happen (a write completes every earlier write of its actor first). Returns false if it is gone. */
  run(id: number): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    if (p.kind === 'write') {
      const queue = this.slot(p.actor).writes;
      while (queue.length > 0 && queue[0] !== id) this.run(queue[0] as number);
      queue.shift();
    }
    this.pending.delete(id);
    if (p.at > this.now) this.now = p.at;
    const slot = this.slot(p.kind === 'msg' ? p.to : p.actor);
    switch (p.kind) {
      case 'msg':
        if (!slot.host || !this.env.linkUp(p.from, p.to)) {
          this.stats.dropped++;
          this.log(() => `drop ${this.describer.message(p.msg, p.to)} (${slot.host ? 'partitioned' : 'receiver down'})`);
          this.emitDrop(p, slot.host ? 'partitioned' : 'receiver down');
          return true;
        }
        slot.via = p;
        this.turn(slot, (h) => {
          h.deliver(p.msg);
          h.turn();
        });
        slot.via = null;
        return true;
      case 'write':
        this.step++;
        this.stats.writes++;
        slot.durable.push(...p.records);
        this.log(() => `${p.actor}: durable {${p.records.map(this.describer.record).join('; ')}}`);
        this.emit(() => ({ actor: p.actor, kind: 'durable', text: `durable {${p.records.map(this.describer.record).join('; ')}}`, time: this.now }));
        if (slot.role === 'acceptor') this.checker.acceptorDurable(slot.id, p.records, this.step);
        // The host carries out what rode on the write (and every earlier one, all complete by now).
        this.turn(slot, () => p.done());
        return true;
      case 'timer':
        if (slot.timers.get(p.timer) !== p.id) return true;
        slot.timers.delete(p.timer);
        this.turn(slot, (h) => {
          h.fire(p.timer, p.gen);
          if (p.timer !== LAZY_TIMER) h.turn();
        });
        return true;
    }
  }

  /**
   * Puts untrusted input on the wire to `to`, as a host receiving it would:
   * validated first (malformed input is dropped and logged). Returns the
   * pending message id, or null if it was refused.
   */
  inject(to: ActorId, raw: unknown): number | null {
    const v = this.protocol.validate(raw);
    if (!v.ok) {
      this.log(() => `drop malformed input to ${to}: ${v.reason}`);
      return null;
    }
    const id = this.nextId++;
    this.log(() => `inject ${this.describer.message(v.msg, to)}`);
    this.add({ kind: 'msg', id, at: this.now, from: v.msg.from, to, msg: v.msg });
    return id;
  }

  /** Loses pending message `id`. */
  drop(id: number): boolean {
    const p = this.pending.get(id);
    if (!p || p.kind !== 'msg') return false;
    this.pending.delete(id);
    this.stats.dropped++;
    this.log(() => `drop ${this.describer.message(p.msg, p.to)}`);
    this.emitDrop(p, 'dropped by the driver');
    return true;
  }

  /** Crashes actor `id`: memory, pending writes (and their replies) and timers are lost. */
  crash(id: ActorId): void {
    const slot = this.slot(id);
    if (!slot.host) return;
    this.step++;
    const unreleased = slot.host.unreleased();
    slot.host = null;
    this.emit(() => ({ actor: id, kind: 'crash', text: 'crash', time: this.now }));
    if (this.onTrace) {
      for (const wid of slot.writes) {
        const w = this.pending.get(wid);
        if (w?.kind === 'write') this.emitLostWrite(w, unreleased.shift() ?? []);
      }
    }
    for (const tid of slot.timers.values()) this.pending.delete(tid);
    slot.timers.clear();
    for (const wid of slot.writes) this.pending.delete(wid);
    this.stats.lostWrites += slot.writes.length;
    slot.writes.length = 0;
    this.stats.crashes++;
    this.log(() => `${id}: crash`);
  }

  /** Restarts actor `id` from its durable records and starts it. */
  restart(id: ActorId): void {
    const slot = this.slot(id);
    if (slot.host) return;
    this.step++;
    slot.host = this.host(slot);
    slot.lastWriteAt = this.now;
    this.log(() => `${id}: restart from ${slot.durable.length} record(s)`);
    this.emit(() => ({ actor: id, kind: 'restart', text: `restart from ${slot.durable.length} record(s)`, time: this.now }));
    const state = slot.host.state;
    if (state.role === 'acceptor') {
      let promised: Ballot | null = null;
      for (const r of slot.durable) if (r.kind === 'promised' && ballotGt(r.ballot, promised)) promised = r.ballot;
      this.checker.acceptorRecovered(id, promised, this.step);
    }
    if (state.role === 'learner') this.checker.learnerSnapshot(id, state.nextSlot);
    this.turn(slot, (h) => h.start());
  }

  /** One line per actor. */
  describe(): string[] {
    return [...this.slots.values()].map((s) => (s.host ? this.describer.state(s.host.state) : `${s.id} ${s.role} crashed`));
  }

  /**
   * Runs `body` against the actor's host; a broken invariant crashes the
   * actor, as in the runtime (where it kills the thread), and the run goes on.
   */
  private turn(slot: Slot, body: (host: TurnHost<MultiPaxosTypes>) => void): void {
    guardedTurn(slot.host, body, (message) => {
      this.checker.invariantBroken(slot.id, message, this.step);
      this.emit(() => ({ actor: slot.id, kind: 'note', text: `invariant broken: ${message}`, time: this.now }));
      this.crash(slot.id);
    });
  }

  /** A fresh turn host for the actor in `slot`, from its durable records, wired to this world. */
  private host(slot: Slot): TurnHost<MultiPaxosTypes> {
    const io: HostIO<MultiPaxosTypes> = {
      random: () => this.env.random(),
      append: (records, done) => {
        const at = Math.max(this.now + this.env.writeDelay(slot.id), slot.lastWriteAt);
        slot.lastWriteAt = at;
        const id = this.nextId++;
        slot.writes.push(id);
        this.add({ kind: 'write', id, at, actor: slot.id, records, done });
      },
      send: (to, msgs) => {
        for (const msg of msgs) this.send(slot, to, msg);
      },
      output: (e) => this.output(slot, e),
      ...simTimers<MultiPaxosTypes>(slot.id, slot.timers, this.timerSpace),
      ...simQuiet<MultiPaxosTypes>(),
      stepping: (input) => {
        this.step++;
        this.log(() => `${slot.id}: ${this.describer.input(input)}`);
        if (this.onTrace && input.type !== 'start') {
          const base = { actor: slot.id, time: this.now };
          const via = slot.via;
          switch (input.type) {
            case 'receive':
              this.onTrace({ ...base, kind: 'receive', text: `receive ${this.describer.message(input.msg, slot.id)}`, from: via?.from ?? input.msg.from, ...(via ? { msg: `m${via.id}` } : {}) });
              break;
            case 'timeout':
              this.onTrace({ ...base, kind: 'timer', text: this.describer.input(input) });
              break;
            case 'request':
              this.onTrace({ ...base, kind: 'propose', text: this.describer.input(input) });
              break;
          }
        }
      },
      applying: (e) => {
        if (this.trace) this.log(() => `  ${this.describer.effect(e)}`);
        if (e.type === 'persist') this.emit(() => ({ actor: slot.id, kind: 'persist', text: this.describer.effect(e), time: this.now }));
      },
    };
    // The simulated mailbox never overflows: the driver decides what arrives.
    return new TurnHost(this.protocol, slot.id, slot.role, this.config, slot.durable, io, { mailboxLimit: Number.MAX_SAFE_INTEGER, lazyMs: this.lazyMs, maxValueBytes: Number.POSITIVE_INFINITY });
  }

  private send(slot: Slot, to: ActorId, msg: MpMessage): void {
    this.stats.sent++;
    const delays = this.env.sendDelays(slot.id, to, msg);
    if (delays.length === 0) {
      this.stats.dropped++;
      if (this.onTrace) {
        // Lost on the way out: traced as a send and its drop, under an id no network copy uses.
        const id = `x${++this.traceLost}`;
        this.onTrace({ actor: slot.id, kind: 'send', text: `send ${this.describer.message(msg, to)}`, time: this.now, msg: id, to });
        this.onTrace({ actor: slot.id, kind: 'drop', text: `drop ${this.describer.message(msg, to)} (lost by the network)`, time: this.now, msg: id, to });
      }
    }
    delays.forEach((d, i) => {
      const id = this.nextId++;
      this.emit(() => ({ actor: slot.id, kind: 'send', text: `send ${this.describer.message(msg, to)}${i > 0 ? ' (duplicate)' : ''}`, time: this.now, msg: `m${id}`, to }));
      this.add({ kind: 'msg', id, at: this.now + d, from: slot.id, to, msg });
    });
  }

  private output(slot: Slot, e: MpEffect): void {
    switch (e.type) {
      case 'appliedSlot':
        this.emit(() => ({ actor: slot.id, kind: 'decide', text: this.describer.effect(e), time: this.now, value: `slot ${e.slot}: ${this.describer.batch(e.batch)}` }));
        this.checker.appliedSlot(slot.id, e.slot, e.batch, this.step);
        return;
      case 'installedSnapshot':
        this.emit(() => ({ actor: slot.id, kind: 'note', text: this.describer.effect(e), time: this.now }));
        this.checker.learnerSnapshot(slot.id, e.upTo);
        return;
      case 'applied':
      case 'reject':
      case 'expired':
        this.emit(() => ({ actor: slot.id, kind: 'note', text: this.describer.effect(e), time: this.now }));
        this.onClient(slot.id, e);
        return;
      case 'elected':
        this.emit(() => ({ actor: slot.id, kind: 'note', text: this.describer.effect(e), time: this.now }));
        if (!this.leader || ballotGt(e.ballot, this.leader.ballot)) {
          this.leader = { id: slot.id, ballot: e.ballot };
          this.stats.leaderChanges++;
        }
        return;
      default:
        return;
    }
  }

  private add(p: MpPending): void {
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
    if (this.trace) this.trace(line());
  }

  /** Emits a structured trace event; built only when someone listens. */
  private emit(event: () => RawTraceEvent): void {
    if (this.onTrace) this.onTrace(event());
  }

  /** A network copy that will never arrive: a drop on the sender's lane, naming the send it loses. */
  private emitDrop(p: Extract<MpPending, { kind: 'msg' }>, why: string): void {
    this.emit(() => ({ actor: p.from, kind: 'drop', text: `drop ${this.describer.message(p.msg, p.to)} (${why})`, time: this.now, msg: `m${p.id}`, to: p.to }));
  }

  /** A write lost with a crash, and every message that was to leave once it was durable (those were never sent). */
  private emitLostWrite(w: Extract<MpPending, { kind: 'write' }>, then: readonly MpEffect[]): void {
    this.emit(() => ({ actor: w.actor, kind: 'drop', text: `write lost with the crash {${w.records.map(this.describer.record).join('; ')}}`, time: this.now }));
    for (const e of then) {
      if (e.type === 'send') this.emit(() => ({ actor: w.actor, kind: 'drop', text: `never sent, lost with the crash: ${this.describer.message(e.msg, e.to)}`, time: this.now, to: e.to }));
    }
  }
}
