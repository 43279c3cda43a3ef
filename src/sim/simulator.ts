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
import { DEFAULT_FAULTS, SeededDriver, type FaultOptions } from './driver.js';
import { World, type Pending, type WorldStats } from './world.js';
import { unknownActor, type FaultSchedule } from './schedule.js';

export * from './schedule.js';
export { DEFAULT_FAULTS, type FaultOptions } from './driver.js';
import type { RawTraceEvent } from '../trace/types.js';

/** The control bugs the simulator can switch on. */
export const BUGS = ['amnesia', 'ignore-accepted', 'reuse-ballot'] as const;
/** One of {@link BUGS}. */
export type BugName = (typeof BUGS)[number];

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

/** The single-decree protocol's own events: a proposer's client request, and the periodic retry. */
type Event = { kind: 'propose'; actor: ActorId } | { kind: 'client' };

/** Runs one simulation. */
export function simulate(opts: SimOptions): SimResult {
  const f: FaultOptions = { ...DEFAULT_FAULTS, ...opts.faults };
  const members = membership(opts.proposers, opts.acceptors, opts.learners);
  if (opts.schedule) {
    const unknown = unknownActor(opts.schedule, [...members.proposers, ...members.acceptors, ...members.learners]);
    if (unknown !== null) throw new RangeError(`the fault schedule names ${unknown}, which is not an actor of this cluster`);
  }
  const timeline: TimelineEvent[] = [];
  const note = (text: string) => timeline.push({ step: world.step, time: world.now, text });
  const driver = new SeededDriver<Event>({ seed: opts.seed, faults: f, schedule: opts.schedule ?? null, note, ...(opts.onTrace ? { onTrace: opts.onTrace } : {}) });
  const rng = driver.rng;
  const config: CoreConfig = coreConfig(members, {
    bugs: { ignoreAccepted: opts.bug === 'ignore-accepted', reuseBallot: opts.bug === 'reuse-ballot' },
  });
  const world: World = new World(
    {
      random: () => rng.next(),
      sendDelays: (from, to, msg): number[] => driver.sendDelays(world.step, from, to, msg.type),
      linkUp: driver.linkUp,
      writeDelay: () => driver.writeDelay(),
    },
    { config, amnesia: opts.bug === 'amnesia', ...(opts.trace ? { trace: opts.trace } : {}), ...(opts.onTrace ? { onTrace: opts.onTrace } : {}) },
  );
  world.onPending = (p: Pending) => driver.pending(p);
  let proposals = 0;

  for (const p of members.proposers) driver.push(rng.int(0, opts.stagger ?? DEFAULT_STAGGER), { kind: 'propose', actor: p });
  const requestEvery = opts.requestEveryMs ?? DEFAULT_REQUEST_EVERY;
  if (requestEvery > 0) driver.push(requestEvery, { kind: 'client' });

  let seenViolations = 0;
  let seenDecisions = 0;
  let seenChosen = 0;
  const quiescent = driver.run(world, opts.steps, {
    event: (ev) => {
      if (ev.kind === 'propose') {
        const value = `${ev.actor}:${world.incarnation(ev.actor)}`;
        proposals++;
        world.propose(ev.actor, value);
        note(`${ev.actor} proposes ${describeValue(value)}`);
        return;
      }
      // A retry: the same value the proposer's current incarnation was asked for.
      const p = rng.pick(members.proposers);
      if (world.isUp(p)) world.propose(p, `${p}:${world.incarnation(p)}`);
      driver.push(world.now + requestEvery, { kind: 'client' });
    },
    restarted: (actor) => {
      const rec = world.durable(actor);
      note(`${actor} restarted from ${rec ? describeRecord(rec) : 'nothing'}`);
      if (config.members.proposers.includes(actor)) driver.push(world.now, { kind: 'propose', actor });
    },
    done: () => {
      if (world.chosen.size !== seenChosen || world.decisions.size !== seenDecisions) {
        for (const [p, c] of [...world.chosen].slice(seenChosen)) note(`${p} saw ${describeProposal(c)} chosen`);
        for (const [l, d] of [...world.decisions].slice(seenDecisions)) note(`${l} decided ${describeProposal(d)}`);
        seenChosen = world.chosen.size;
        seenDecisions = world.decisions.size;
      }
      const violations = world.checker.violations;
      if (violations.length === seenViolations) return false;
      for (const v of violations.slice(seenViolations)) note(`VIOLATION ${v.kind}: ${v.message}`);
      seenViolations = violations.length;
      return opts.stopOnViolation === true;
    },
  });
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
    stats: { ...world.stats, partitions: driver.partitions, proposals },
    timeline,
    schedule: driver.recorded(),
  };
}
