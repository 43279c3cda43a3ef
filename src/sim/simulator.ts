/**
 * The deterministic simulator: one thread, one seeded PRNG, a virtual clock,
 * and a scheduler that drives a {@link World} through a randomly faulty
 * environment — dropped, duplicated, delayed (hence reordered) messages,
 * partitions, crashes and restarts. The same options and seed give the same
 * run, byte for byte.
 */
import { coreConfig, type CoreConfig } from '../core/config.js';
import { describeProposal, describeRecord, describeValue } from '../core/describe.js';
import { membership, type ActorId } from '../core/ids.js';
import type { Value } from '../core/value.js';
import type { Violation } from '../check/types.js';
import { EventHeap } from './heap.js';
import { Prng } from '../util/prng.js';
import { World, type Pending, type WorldStats } from './world.js';
import { isMessageFault, messageKey, unknownActor, type CrashFault, type FaultSchedule, type MessageFault, type PartitionFault, type ScheduledFault } from './schedule.js';

export * from './schedule.js';
import type { RawTraceEvent } from '../trace/types.js';

/** The control bugs the simulator can switch on. */
export const BUGS = ['amnesia', 'ignore-accepted', 'reuse-ballot'] as const;
/** One of {@link BUGS}. */
export type BugName = (typeof BUGS)[number];

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

/** Default spread of the proposers' first requests, in virtual ms. */
export const DEFAULT_STAGGER = 200;
/** Default interval between client requests, in virtual ms. */
export const DEFAULT_REQUEST_EVERY = 50;

/** Options of one simulated run. */
export interface SimOptions {
  /** The seed: the same options and seed give the same run. */
  readonly seed: number;
  /** Upper bound on steps; the run also ends when nothing is left to happen. */
  readonly steps: number;
  /** Number of proposers (`p1`, `p2`, ...). */
  readonly proposers: number;
  /** Number of acceptors (`a1`, ...); quorums are majorities of them. */
  readonly acceptors: number;
  /** Number of learners (`l1`, ...). */
  readonly learners: number;
  /** Fault rates and timing; anything left out is taken from {@link DEFAULT_FAULTS}. */
  readonly faults?: Partial<FaultOptions>;
  /** A control bug to switch on (see {@link BUGS}); none by default. */
  readonly bug?: BugName | null;
  /** Proposers receive their client's first request at a random time in [0, stagger]. */
  readonly stagger?: number;
  /**
   * Clients keep asking: every this many virtual ms a random proposer gets a
   * request (a retry of its current value), until the step bound. 0 = only
   * the first request and one after each restart.
   */
  readonly requestEveryMs?: number;
  /** Stop at the first violation (sweeps do). */
  readonly stopOnViolation?: boolean;
  /**
   * Replay exactly these faults instead of drawing faults at random (the
   * fault probabilities are then unused). Everything else — message and
   * write delays, the proposers' random draws, client requests — is still
   * drawn from `seed`, from a stream of its own, so a schedule with faults
   * removed changes the rest of the run as little as possible. A fault that
   * cannot happen (its message is never sent, its actor is already down, its
   * step is never reached) is skipped; {@link SimResult.schedule} lists the
   * faults that did happen.
   */
  readonly schedule?: FaultSchedule;
  /** Receives every line of the full trace. */
  readonly trace?: (line: string) => void;
  /** Receives every structured trace event (see `WorldOptions.onTrace`); partitions and heals come on the `env` lane. */
  readonly onTrace?: (e: RawTraceEvent) => void;
}

/** A notable moment of a run, for the printed timeline. */
export interface TimelineEvent {
  readonly step: number;
  readonly time: number;
  readonly text: string;
}

/** What a run did. */
export interface SimResult {
  readonly seed: number;
  readonly steps: number;
  /** Virtual time at the end. */
  readonly time: number;
  /** True when the run ended because nothing was left to happen (not at the step bound). */
  readonly quiescent: boolean;
  /** Decided value per learner (learners that decided nothing are absent). */
  readonly decided: Record<ActorId, Value>;
  /** True when every learner decided. */
  readonly allDecided: boolean;
  readonly violations: readonly Violation[];
  readonly stats: WorldStats & { partitions: number; proposals: number };
  readonly timeline: readonly TimelineEvent[];
  /** Every fault injected, in order: replaying it (option `schedule`) with the same seed and options reproduces this run exactly. */
  readonly schedule: FaultSchedule;
}

type Event =
  | { at: number; seq: number; kind: 'world'; id: number }
  | { at: number; seq: number; kind: 'restart'; actor: ActorId }
  | { at: number; seq: number; kind: 'heal'; part: number }
  | { at: number; seq: number; kind: 'propose'; actor: ActorId }
  | { at: number; seq: number; kind: 'client' };

/** Runs one simulation. */
export function simulate(opts: SimOptions): SimResult {
  const f: FaultOptions = { ...DEFAULT_FAULTS, ...opts.faults };
  const rng = new Prng(opts.seed); // everything but the faults
  const faultRng = new Prng(faultSeed(opts.seed)); // fault decisions only (unused when replaying a schedule)
  const members = membership(opts.proposers, opts.acceptors, opts.learners);
  if (opts.schedule) {
    const unknown = unknownActor(opts.schedule, [...members.proposers, ...members.acceptors, ...members.learners]);
    if (unknown !== null) throw new RangeError(`the fault schedule names ${unknown}, which is not an actor of this cluster`);
  }
  const faults = new FaultSource(f, faultRng, opts.schedule ?? null);
  const config: CoreConfig = coreConfig(members, {
    bugs: { ignoreAccepted: opts.bug === 'ignore-accepted', reuseBallot: opts.bug === 'reuse-ballot' },
  });
  let side: Set<ActorId> | null = null; // one side of the current partition
  const linkUp = (a: ActorId, b: ActorId) => side === null || side.has(a) === side.has(b);
  const world: World = new World(
    {
      random: () => rng.next(),
      sendDelays: (from, to, msg): number[] => {
        // One draw per message from the main stream, fault or not, so faults do not shift it.
        const d = rng.int(f.delayMin, f.delayMax);
        if (!linkUp(from, to)) return [];
        return faults.message(world.step, from, to, msg.type, d);
      },
      linkUp,
      writeDelay: () => rng.int(f.writeMin, f.writeMax),
    },
    { config, amnesia: opts.bug === 'amnesia', ...(opts.trace ? { trace: opts.trace } : {}), ...(opts.onTrace ? { onTrace: opts.onTrace } : {}) },
  );
  const queue = new EventHeap<Event>();
  let seq = 0;
  world.onPending = (p: Pending) => queue.push({ at: p.at, seq: seq++, kind: 'world', id: p.id });
  const timeline: TimelineEvent[] = [];
  const note = (text: string) => timeline.push({ step: world.step, time: world.now, text });
  let partitions = 0;
  let proposals = 0;

  for (const p of members.proposers) queue.push({ at: rng.int(0, opts.stagger ?? DEFAULT_STAGGER), seq: seq++, kind: 'propose', actor: p });
  const requestEvery = opts.requestEveryMs ?? DEFAULT_REQUEST_EVERY;
  if (requestEvery > 0) queue.push({ at: requestEvery, seq: seq++, kind: 'client' });

  let seenViolations = 0;
  let seenDecisions = 0;
  let seenChosen = 0;
  let quiescent = false;
  while (world.step < opts.steps) {
    for (const fault of faults.due(world, side !== null)) {
      if (fault.kind === 'crash') {
        world.crash(fault.actor);
        note(`${fault.actor} crashed`);
        queue.push({ at: world.now + fault.downFor, seq: seq++, kind: 'restart', actor: fault.actor });
        continue;
      }
      const all = world.actors;
      side = new Set(fault.side);
      partitions++;
      note(`partition {${[...side].join(',')}} | {${all.filter((a) => !side?.has(a)).join(',')}}`);
      opts.onTrace?.({ actor: 'env', kind: 'fault', text: `partition {${[...side].join(',')}} | {${all.filter((a) => !side?.has(a)).join(',')}}`, time: world.now });
      queue.push({ at: world.now + fault.healAfter, seq: seq++, kind: 'heal', part: partitions });
    }
    const ev = queue.pop();
    if (!ev) {
      quiescent = true;
      break;
    }
    if (ev.at > world.now) world.now = ev.at;
    switch (ev.kind) {
      case 'world':
        world.run(ev.id);
        break;
      case 'restart': {
        world.restart(ev.actor);
        const rec = world.durable(ev.actor);
        note(`${ev.actor} restarted from ${rec ? describeRecord(rec) : 'nothing'}`);
        if (config.members.proposers.includes(ev.actor)) queue.push({ at: world.now, seq: seq++, kind: 'propose', actor: ev.actor });
        break;
      }
      case 'heal':
        if (ev.part !== partitions) break; // a later partition replaced this one (only a hand-made schedule does that)
        side = null;
        note('partition healed');
        opts.onTrace?.({ actor: 'env', kind: 'fault', text: 'partition healed', time: world.now });
        break;
      case 'propose': {
        const value = `${ev.actor}:${world.incarnation(ev.actor)}`;
        proposals++;
        world.propose(ev.actor, value);
        note(`${ev.actor} proposes ${describeValue(value)}`);
        break;
      }
      case 'client': {
        // A retry: the same value the proposer's current incarnation was asked for.
        const p = rng.pick(members.proposers);
        if (world.isUp(p)) world.propose(p, `${p}:${world.incarnation(p)}`);
        queue.push({ at: world.now + requestEvery, seq: seq++, kind: 'client' });
        break;
      }
    }
    if (world.chosen.size !== seenChosen || world.decisions.size !== seenDecisions) {
      for (const [p, c] of [...world.chosen].slice(seenChosen)) note(`${p} saw ${describeProposal(c)} chosen`);
      for (const [l, d] of [...world.decisions].slice(seenDecisions)) note(`${l} decided ${describeProposal(d)}`);
      seenChosen = world.chosen.size;
      seenDecisions = world.decisions.size;
    }
    const violations = world.checker.violations;
    if (violations.length !== seenViolations) {
      for (const v of violations.slice(seenViolations)) note(`VIOLATION ${v.kind}: ${v.message}`);
      seenViolations = violations.length;
      if (opts.stopOnViolation) break;
    }
  }
  const violations = world.finish();
  for (const v of violations.slice(seenViolations)) note(`VIOLATION ${v.kind}: ${v.message}`);
  const decided: Record<ActorId, Value> = {};
  for (const l of members.learners) {
    const d = world.decisions.get(l);
    if (d) decided[l] = d.value;
  }
  return {
    seed: opts.seed,
    steps: world.step,
    time: world.now,
    quiescent,
    decided,
    allDecided: members.learners.every((l) => world.decisions.has(l)),
    violations,
    stats: { ...world.stats, partitions, proposals },
    timeline,
    schedule: faults.recorded(),
  };
}

/** The seed of the fault stream, derived from the run's seed (a different stream from the main one). */
function faultSeed(seed: number): number {
  const g = new Prng(seed);
  for (let i = 0; i < 4; i++) g.nextUint32();
  return g.nextUint32() * 2 ** 21 + (g.nextUint32() >>> 11);
}

const NO_FAULTS: readonly (CrashFault | PartitionFault)[] = Object.freeze([]);

/**
 * Where a run's faults come from: drawn from the fault stream (recording each
 * one), or replayed from a schedule. Either way {@link recorded} lists the
 * faults that happened.
 */
class FaultSource {
  private readonly applied: ScheduledFault[] = [];
  /** Replay: crash and partition faults in schedule order, and the next one due. */
  private readonly stepFaults: (CrashFault | PartitionFault)[] = [];
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
  due(world: World, partitioned: boolean): readonly (CrashFault | PartitionFault)[] {
    const step = world.step;
    if (this.schedule) {
      if (this.nextStepFault >= this.stepFaults.length || (this.stepFaults[this.nextStepFault] as ScheduledFault).step > step) return NO_FAULTS;
      const out: (CrashFault | PartitionFault)[] = [];
      while (this.nextStepFault < this.stepFaults.length && (this.stepFaults[this.nextStepFault] as ScheduledFault).step <= step) {
        const fault = this.stepFaults[this.nextStepFault++] as CrashFault | PartitionFault;
        if (fault.kind === 'crash' && !world.isUp(fault.actor)) continue;
        out.push(fault);
        this.applied.push(fault);
      }
      return out;
    }
    if (step === this.lastDrawStep) return NO_FAULTS;
    this.lastDrawStep = step;
    const { f, rng } = this;
    const out: (CrashFault | PartitionFault)[] = [];
    if (rng.chance(f.crash)) {
      const live = world.actors.filter((a) => world.isUp(a));
      if (live.length > 0) out.push({ kind: 'crash', step, actor: rng.pick(live), downFor: rng.int(f.downMin, f.downMax) });
    }
    if (!partitioned && rng.chance(f.partition)) {
      const all = world.actors;
      let side = all.filter(() => rng.chance(0.5));
      if (side.length === 0 || side.length === all.length) side = [rng.pick(all)];
      out.push({ kind: 'partition', step, side, healAfter: rng.int(f.partitionMin, f.partitionMax) });
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
  message(step: number, from: ActorId, to: ActorId, type: MessageFault['type'], d: number): number[] {
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
