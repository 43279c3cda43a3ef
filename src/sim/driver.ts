/**
 * The seeded driver shared by both simulators (single-decree `simulate` and
 * the Multi-Paxos key-value store `simulateKv`): one event queue on a virtual
 * clock, a main random stream for everything but faults, and a fault stream
 * of its own — or a recorded {@link FaultSchedule} replayed instead of it.
 * Crashes, restarts, partitions and heals, and the dropped, duplicated and
 * long-delayed messages, are injected here the same way for either
 * protocol; a protocol supplies only its world, its own events (proposals,
 * client operations) and when to stop.
 *
 * Faults have their own stream so that a schedule with faults removed (when
 * shrinking) changes the rest of the run as little as possible: every message
 * draws its normal delay from the main stream whether or not a fault hits it.
 */
import type { ActorId } from '../core/ids.js';
import type { RawTraceEvent } from '../trace/types.js';
import { EventHeap } from './heap.js';
import { Prng } from '../util/prng.js';
import { describeReconfig, isMessageFault, messageKey, type CrashFault, type FaultSchedule, type MessageFault, type PartitionFault, type ReconfigFault, type ScheduledFault } from './schedule.js';

/** Fault rates and timing of the simulated environment. Probabilities are per message (drop, dup) or per step (crash, partition). */
export interface FaultOptions {
  /** Probability that a message is lost. */
  readonly drop: number;
  /** Probability that a message is delivered twice. */
  readonly dup: number;
  /** Probability that a message is held back for a long time (up to {@link delayLongMax}), far behind later traffic. */
  readonly delay: number;
  /** Probability, at each step, that a random live actor crashes. */
  readonly crash: number;
  /** Probability, at each step with no partition, that the actors split into two sides. */
  readonly partition: number;
  /** Probability, at each step, of a reconfiguration (a protocol with views only: see {@link DriverHooks.reconfigPool}); 0 by default. */
  readonly reconfig?: number;
  /** Message delay range in virtual ms; random delays reorder messages. */
  readonly delayMin: number;
  /** Upper end of the message delay range, in virtual ms. */
  readonly delayMax: number;
  /** Upper bound of a long delay. */
  readonly delayLongMax: number;
  /** How long a storage write takes to become durable. */
  readonly writeMin: number;
  /** Upper end of the storage write time, in virtual ms. */
  readonly writeMax: number;
  /** How long a crashed actor stays down. */
  readonly downMin: number;
  /** Upper end of a crashed actor's downtime, in virtual ms. */
  readonly downMax: number;
  /** How long a partition lasts. */
  readonly partitionMin: number;
  /** Upper end of a partition's duration, in virtual ms. */
  readonly partitionMax: number;
}

/** The default fault mix: every kind of fault, often enough to matter, rarely enough that most runs decide. */
export const DEFAULT_FAULTS: FaultOptions = Object.freeze({
  drop: 0.05,
  dup: 0.05,
  delay: 0.02,
  crash: 0.005,
  partition: 0.002,
  delayMin: 1,
  delayMax: 10,
  delayLongMax: 400,
  writeMin: 1,
  writeMax: 3,
  downMin: 10,
  downMax: 120,
  partitionMin: 20,
  partitionMax: 200,
});

/** What the driver needs of a simulated world (every `SimWorld` has it, whichever the protocol). */
export interface DrivenWorld {
  /** Inputs handed to actors so far: the clock faults are keyed by. */
  readonly step: number;
  now: number;
  readonly actors: ActorId[];
  /** True while actor `id` is up. */
  isUp(id: ActorId): boolean;
  /** Makes a pending item happen. */
  run(id: number): boolean;
  /** Crashes actor `id` (nothing if it is down). */
  crash(id: ActorId): void;
  /** Restarts actor `id` from its durable state (nothing if it is up). */
  restart(id: ActorId): void;
}

/** How a run's faults are made. */
export interface DriverOptions {
  /** The seed of the run: the main random stream, and (through its own derivation) the fault stream. */
  readonly seed: number;
  /** Fault rates and timing. */
  readonly faults: FaultOptions;
  /** Probability, per step, that the current leader crashes (a protocol with a leader names it through {@link DriverHooks.leader}). */
  readonly crashLeader?: number;
  /**
   * Replay exactly these faults instead of drawing them. A fault that cannot
   * happen (its message is never sent, its actor is already down, its step
   * is never reached) is skipped; {@link SeededDriver.recorded} lists the
   * faults that did happen.
   */
  readonly schedule?: FaultSchedule | null;
  /** Receives partitions and heals, on the `env` lane. */
  readonly onTrace?: (e: RawTraceEvent) => void;
  /** Receives a line for every crash, partition and heal (a protocol's timeline). */
  readonly note?: (text: string) => void;
}

/** What a reconfiguration fault may choose among: acceptors and learners, and proposers when it may change them. */
export interface ReconfigPool {
  readonly acceptors: readonly ActorId[];
  readonly learners: readonly ActorId[];
  readonly proposers?: readonly ActorId[];
}

/** What a protocol plugs into the driver's loop. */
export interface DriverHooks<E> {
  /** Handles one of the protocol's own events (see {@link SeededDriver.push}). */
  event(e: E): void;
  /** Called right after an actor restarted. */
  restarted?(actor: ActorId): void;
  /** The current leader, for leader crashes. */
  leader?(): ActorId | null;
  /** Checked after every event: true ends the run. */
  done?(): boolean;
  /** The acceptors and learners a reconfiguration may choose among (a protocol with views; without it none is drawn), and the proposers, when it may change them. */
  reconfigPool?(): ReconfigPool;
  /** Carries out a reconfiguration fault. */
  reconfigure?(f: ReconfigFault): void;
}

type Item<E> =
  | { at: number; seq: number; kind: 'world'; id: number }
  | { at: number; seq: number; kind: 'restart'; actor: ActorId }
  | { at: number; seq: number; kind: 'heal'; part: number }
  | { at: number; seq: number; kind: 'app'; event: E };

/**
 * One seeded run's scheduler: construct it, build the world on its
 * {@link rng} and {@link sendDelays}, route the world's pending items to
 * {@link pending}, queue the protocol's first events, then {@link run}.
 */
export class SeededDriver<E> {
  /** The main stream: message and write delays, the actors' random draws, the workload. */
  readonly rng: Prng;
  /** Partitions so far. */
  partitions = 0;
  private readonly faultSource: FaultSource;
  private readonly queue = new EventHeap<Item<E>>();
  private seq = 0;
  /** One side of the current partition. */
  private side: Set<ActorId> | null = null;

  constructor(private readonly opts: DriverOptions) {
    this.rng = new Prng(opts.seed);
    this.faultSource = new FaultSource(opts.faults, opts.crashLeader ?? 0, new Prng(faultSeed(opts.seed)), opts.schedule ?? null);
  }

  /** True when `a` can reach `b` (no partition between them). */
  readonly linkUp = (a: ActorId, b: ActorId): boolean => this.side === null || this.side.has(a) === this.side.has(b);

  /**
   * Delivery delays of a message sent now (`[]`: lost; two: duplicated). One
   * draw from the main stream for every message, fault or not. `link`
   * false skips the partition check (client links are never partitioned).
   */
  sendDelays(step: number, from: ActorId, to: ActorId, type: string, link = true): number[] {
    const f = this.opts.faults;
    const d = this.rng.int(f.delayMin, f.delayMax);
    if (link && !this.linkUp(from, to)) return [];
    return this.faultSource.message(step, from, to, type, d);
  }

  /** How long a write takes to become durable. */
  writeDelay(): number {
    return this.rng.int(this.opts.faults.writeMin, this.opts.faults.writeMax);
  }

  /** Queues a world's pending item (its `onPending`). */
  pending(p: { readonly id: number; readonly at: number }): void {
    this.queue.push({ at: p.at, seq: this.seq++, kind: 'world', id: p.id });
  }

  /** Queues one of the protocol's events at virtual time `at`. */
  push(at: number, event: E): void {
    this.queue.push({ at, seq: this.seq++, kind: 'app', event });
  }

  /** The faults that happened, ordered by step: replaying them with the same seed and options reproduces the run exactly. */
  recorded(): FaultSchedule {
    return this.faultSource.recorded();
  }

  /** True once {@link calm} was called: no fault is injected any more. */
  get calmed(): boolean {
    return this.faultSource.calm;
  }

  /**
   * Ends the fault phase and starts the liveness phase (tigerbeetle's VOPR
   * calls it `transition_to_liveness_mode`): the current partition heals,
   * every crashed actor restarts now, and no fault of any kind is injected
   * from here on (a replayed schedule's later faults included). Messages
   * already on their way still arrive, late ones included. The restarts and
   * heals already queued for the faults of the fault phase do nothing.
   */
  calm(world: DrivenWorld, hooks: Pick<DriverHooks<E>, 'restarted'>): void {
    const { note, onTrace } = this.opts;
    this.faultSource.calm = true;
    note?.('liveness phase: faults stop, partitions heal, crashed actors restart');
    onTrace?.({ actor: 'env', kind: 'fault', text: 'liveness phase: no more faults', time: world.now });
    if (this.side !== null) {
      this.side = null;
      note?.('partition healed');
      onTrace?.({ actor: 'env', kind: 'fault', text: 'partition healed', time: world.now });
    }
    for (const actor of world.actors) {
      if (world.isUp(actor)) continue;
      world.restart(actor);
      hooks.restarted?.(actor);
    }
  }

  /**
   * Runs until `maxSteps`, until `hooks.done`, until the next event would
   * happen after virtual time `until`, or until nothing is left to happen
   * (then returns true: quiescent).
   */
  run(world: DrivenWorld, maxSteps: number, hooks: DriverHooks<E>, until = Number.POSITIVE_INFINITY): boolean {
    const { note, onTrace } = this.opts;
    while (world.step < maxSteps) {
      const leader = hooks.leader?.() ?? null;
      for (const fault of this.faultSource.due(world, this.side !== null, leader, hooks.reconfigPool?.() ?? null)) {
        if (fault.kind === 'reconfig') {
          note?.(`reconfigure to ${describeReconfig(fault)}`);
          onTrace?.({ actor: 'env', kind: 'fault', text: `reconfigure: ${describeReconfig(fault)}`, time: world.now });
          hooks.reconfigure?.(fault);
          continue;
        }
        if (fault.kind === 'crash') {
          world.crash(fault.actor);
          note?.(`${fault.actor} crashed`);
          this.queue.push({ at: world.now + fault.downFor, seq: this.seq++, kind: 'restart', actor: fault.actor });
          continue;
        }
        const side = new Set(fault.side);
        this.side = side;
        this.partitions++;
        const text = `partition {${[...side].join(',')}} | {${world.actors.filter((a) => !side.has(a)).join(',')}}`;
        note?.(text);
        onTrace?.({ actor: 'env', kind: 'fault', text, time: world.now });
        this.queue.push({ at: world.now + fault.healAfter, seq: this.seq++, kind: 'heal', part: this.partitions });
      }
      const next = this.queue.peek();
      if (!next) return true;
      if (next.at > until) return false;
      const item = this.queue.pop() as Item<E>;
      if (item.at > world.now) world.now = item.at;
      switch (item.kind) {
        case 'world':
          world.run(item.id);
          break;
        case 'restart':
          if (world.isUp(item.actor)) break; // restarted early, when the liveness phase began
          world.restart(item.actor);
          hooks.restarted?.(item.actor);
          break;
        case 'heal':
          if (item.part !== this.partitions) break; // a later partition replaced this one (only a hand-made schedule does that)
          if (this.side === null) break; // healed early, when the liveness phase began
          this.side = null;
          note?.('partition healed');
          onTrace?.({ actor: 'env', kind: 'fault', text: 'partition healed', time: world.now });
          break;
        case 'app':
          hooks.event(item.event);
          break;
      }
      if (hooks.done?.()) return false;
    }
    return false;
  }
}

/** The seed of the fault stream, derived from the run's seed (a different stream from the main one). */
function faultSeed(seed: number): number {
  const g = new Prng(seed);
  for (let i = 0; i < 4; i++) g.nextUint32();
  return g.nextUint32() * 2 ** 21 + (g.nextUint32() >>> 11);
}

/** A fault that happens at a step (not to a message). */
type StepFault = CrashFault | PartitionFault | ReconfigFault;

const NO_FAULTS: readonly StepFault[] = Object.freeze([]);

/**
 * Where a run's faults come from: drawn from the fault stream (recording each
 * one), or replayed from a schedule. Either way {@link recorded} lists the
 * faults that happened.
 */
class FaultSource {
  /** True in the liveness phase: no fault is injected, drawn or replayed. */
  calm = false;
  private readonly applied: ScheduledFault[] = [];
  /** Replay: crash and partition faults in schedule order, and the next one due. */
  private readonly stepFaults: StepFault[] = [];
  private nextStepFault = 0;
  /** Replay: message faults by message key. */
  private readonly messageFaults = new Map<string, MessageFault[]>();
  /** Random draws of step faults happen once per step value. */
  private lastDrawStep = -1;
  /** Replay: the steps at which some message fault is due. */
  private readonly messageSteps = new Set<number>();
  /** The messages sent so far in step `sendStep` (reused arrays: this runs for every message), to number same-typed ones. */
  private sendStep = -1;
  private sendCount = 0;
  private readonly sendFrom: ActorId[] = [];
  private readonly sendTo: ActorId[] = [];
  private readonly sendType: string[] = [];

  constructor(
    private readonly f: FaultOptions,
    private readonly crashLeader: number,
    private readonly rng: Prng,
    private readonly schedule: FaultSchedule | null,
  ) {
    for (const fault of schedule ?? []) {
      if (isMessageFault(fault)) {
        const key = messageKey(fault);
        this.messageSteps.add(fault.step);
        const list = this.messageFaults.get(key);
        if (list) list.push(fault);
        else this.messageFaults.set(key, [fault]);
      } else {
        this.stepFaults.push(fault);
      }
    }
    this.stepFaults.sort((a, b) => a.step - b.step); // stable: faults of one step keep their order
  }

  /** The faults that happened, ordered by step (stable), as a schedule that replays the run exactly. */
  recorded(): FaultSchedule {
    return [...this.applied].sort((a, b) => a.step - b.step);
  }

  /** The crash and partition faults to inject now, before the next event (crashes only of live actors). */
  due(world: DrivenWorld, partitioned: boolean, leader: ActorId | null, pool: ReconfigPool | null): readonly StepFault[] {
    const step = world.step;
    if (this.calm) return NO_FAULTS;
    if (this.schedule) {
      if (this.nextStepFault >= this.stepFaults.length || (this.stepFaults[this.nextStepFault] as ScheduledFault).step > step) return NO_FAULTS;
      const out: StepFault[] = [];
      while (this.nextStepFault < this.stepFaults.length && (this.stepFaults[this.nextStepFault] as ScheduledFault).step <= step) {
        const fault = this.stepFaults[this.nextStepFault++] as StepFault;
        if (fault.kind === 'crash' && !world.isUp(fault.actor)) continue;
        out.push(fault);
        this.applied.push(fault);
      }
      return out;
    }
    if (step === this.lastDrawStep) return NO_FAULTS;
    this.lastDrawStep = step;
    const { f, rng } = this;
    const out: StepFault[] = [];
    if (rng.chance(f.crash)) {
      const live = world.actors.filter((a) => world.isUp(a));
      if (live.length > 0) out.push({ kind: 'crash', step, actor: rng.pick(live), downFor: rng.int(f.downMin, f.downMax) });
    }
    if (this.crashLeader > 0 && leader !== null && rng.chance(this.crashLeader) && world.isUp(leader) && !out.some((x) => x.kind === 'crash' && x.actor === leader)) {
      out.push({ kind: 'crash', step, actor: leader, downFor: rng.int(f.downMin, f.downMax) });
    }
    if (!partitioned && rng.chance(f.partition)) {
      const all = world.actors;
      let side = all.filter(() => rng.chance(0.5));
      if (side.length === 0 || side.length === all.length) side = [rng.pick(all)];
      out.push({ kind: 'partition', step, side, healAfter: rng.int(f.partitionMin, f.partitionMax) });
    }
    // Drawn only when asked for, so that runs without reconfigurations keep their fault stream.
    if (pool !== null && (f.reconfig ?? 0) > 0 && rng.chance(f.reconfig ?? 0)) {
      const subset = (ids: readonly ActorId[]): ActorId[] => {
        const chosen = ids.filter(() => rng.chance(0.5));
        return chosen.length > 0 ? chosen : [rng.pick(ids)];
      };
      // The proposers are drawn only when the pool has some, so that runs that keep them keep their fault stream too.
      out.push({ kind: 'reconfig', step, acceptors: subset(pool.acceptors), learners: subset(pool.learners), ...(pool.proposers !== undefined && pool.proposers.length > 0 ? { proposers: subset(pool.proposers) } : {}) });
    }
    if (out.length === 0) return NO_FAULTS;
    this.applied.push(...out);
    return out;
  }

  /** How many messages like the `index`th of this step (same sender, receiver and type) the step sent before it. */
  private nth(index: number): number {
    let n = 0;
    for (let i = 0; i < index; i++) {
      if (this.sendFrom[i] === this.sendFrom[index] && this.sendTo[i] === this.sendTo[index] && this.sendType[i] === this.sendType[index]) n++;
    }
    return n;
  }

  /** Delivery delays of a message sent at `step` whose normal delay is `d` (see `Environment.sendDelays`). */
  message(step: number, from: ActorId, to: ActorId, type: string, d: number): number[] {
    if (this.calm) return [d];
    if (step !== this.sendStep) {
      this.sendStep = step;
      this.sendCount = 0;
    }
    const index = this.sendCount++;
    this.sendFrom[index] = from;
    this.sendTo[index] = to;
    this.sendType[index] = type;
    if (this.schedule) {
      if (!this.messageSteps.has(step)) return [d];
      const list = this.messageFaults.get(messageKey({ step, from, to, type, nth: this.nth(index) }));
      if (!list) return [d];
      this.applied.push(...list);
      if (list.some((x) => x.kind === 'drop')) return [];
      let first = d;
      const extra: number[] = [];
      for (const x of list) {
        if (x.kind === 'delay') first = x.by;
        else if (x.kind === 'dup') extra.push(x.extra);
      }
      return [first, ...extra];
    }
    const { f, rng } = this;
    if (rng.chance(f.drop)) {
      this.applied.push({ kind: 'drop', step, from, to, type, nth: this.nth(index) });
      return [];
    }
    let first = d;
    if (rng.chance(f.delay)) {
      first = rng.int(f.delayMax, f.delayLongMax);
      this.applied.push({ kind: 'delay', step, from, to, type, nth: this.nth(index), by: first });
    }
    if (rng.chance(f.dup)) {
      const extra = rng.chance(f.delay) ? rng.int(f.delayMax, f.delayLongMax) : rng.int(f.delayMin, f.delayMax);
      this.applied.push({ kind: 'dup', step, from, to, type, nth: this.nth(index), extra });
      return [first, extra];
    }
    return [first];
  }
}
