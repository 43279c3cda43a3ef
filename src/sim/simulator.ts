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
import { World, type Pending } from './synod-world.js';
import type { WorldStats } from './world.js';
import { unknownActor, type FaultSchedule } from './schedule.js';

export * from './schedule.js';
export { DEFAULT_FAULTS, type FaultOptions } from './driver.js';
import type { RawTraceEvent } from '../trace/types.js';

/** The control bugs the simulator can switch on. */
export const BUGS = ['amnesia', 'ignore-accepted', 'reuse-ballot', 'no-retry'] as const;
/** One of {@link BUGS}. */
export type BugName = (typeof BUGS)[number];

/** Default spread of the proposers' first requests, in virtual ms. */
export const DEFAULT_STAGGER = 200;
/**
 * Default bound of the single-decree liveness phase: 5 s of virtual time,
 * over 80 phase timeouts and 15 backoffs at their longest, so that only a
 * cluster that has stopped trying is reported, not an unlucky one.
 */
export const DEFAULT_LIVENESS_MS = 5_000;
/** Most steps of a single-decree liveness phase (a run that spins without deciding is reported too). */
export const SYNOD_LIVENESS_MAX_STEPS = 200_000;

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
   * After the fault phase (the step bound), a liveness phase: partitions
   * heal, crashed actors restart, no more faults, clients keep asking; within
   * {@link livenessMs} of virtual time every learner must decide, or the run
   * reports a `liveness` violation. Off unless asked for (sweeps and the
   * command line ask for it).
   */
  readonly liveness?: boolean;
  /** The liveness phase's bound, in virtual ms (default {@link DEFAULT_LIVENESS_MS}). */
  readonly livenessMs?: number;
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
  /** The step at which the fault phase ended (the step bound, quiescence or a violation): what a replay's `steps` needs. */
  readonly faultSteps: number;
  /** The liveness phase, if there was one: whether every learner decided, and how long it took in virtual ms (the whole bound when they did not). */
  readonly liveness: { readonly ok: boolean; readonly ms: number } | null;
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
    if (opts.schedule.some((f) => f.kind === 'reconfig')) throw new RangeError('the fault schedule reconfigures, which only the replicated log does (synod kv-sim); single-decree Paxos has a fixed membership');
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
    { config, amnesia: opts.bug === 'amnesia', noRetry: opts.bug === 'no-retry', ...(opts.trace ? { trace: opts.trace } : {}), ...(opts.onTrace ? { onTrace: opts.onTrace } : {}) },
  );
  world.onPending = (p: Pending) => driver.pending(p);
  let proposals = 0;

  for (const p of members.proposers) driver.push(rng.int(0, opts.stagger ?? DEFAULT_STAGGER), { kind: 'propose', actor: p });
  const requestEvery = opts.requestEveryMs ?? DEFAULT_REQUEST_EVERY;
  if (requestEvery > 0) driver.push(requestEvery, { kind: 'client' });

  let seenViolations = 0;
  let seenDecisions = 0;
  let seenChosen = 0;
  const hooks = {
    event: (ev: Event) => {
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
    restarted: (actor: ActorId) => {
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
  };
  const quiescent = driver.run(world, opts.steps, hooks);
  const faultSteps = world.step;
  const allDecided = () => members.learners.every((l) => world.decisions.has(l));
  const stopped = () => opts.stopOnViolation === true && world.checker.violations.length > 0;
  let liveness: SimResult['liveness'] = null;
  let stuck: Violation | null = null;
  if (opts.liveness === true && !stopped()) {
    const bound = opts.livenessMs ?? DEFAULT_LIVENESS_MS;
    const since = { step: world.step, time: world.now };
    driver.calm(world, hooks);
    if (!allDecided()) {
      // Clients keep asking through the liveness phase (a proposer that restarted in it was asked by its `restarted` hook).
      if (requestEvery === 0) for (const p of members.proposers) driver.push(world.now, { kind: 'propose', actor: p });
      driver.run(world, since.step + SYNOD_LIVENESS_MAX_STEPS, { ...hooks, done: () => hooks.done() || allDecided() }, since.time + bound);
    }
    liveness = { ok: allDecided(), ms: world.now - since.time };
    if (!liveness.ok && !stopped()) {
      const undecided = members.learners.filter((l) => !world.decisions.has(l));
      const why = world.step >= since.step + SYNOD_LIVENESS_MAX_STEPS ? `${SYNOD_LIVENESS_MAX_STEPS} steps` : `${bound} ms of virtual time`;
      stuck = {
        kind: 'liveness',
        step: world.step,
        message: `${undecided.join(', ')} decided nothing in ${why} without faults (from step ${since.step}, time ${since.time} ms)${world.chosen.size > 0 ? '' : '; no proposer saw a value chosen'}`,
        facts: { since, boundMs: bound, undecided, chosen: [...world.chosen.keys()] },
      };
      note(`VIOLATION liveness: ${stuck.message}`);
    }
  }
  const violations = stuck ? [...world.finish(), stuck] : world.finish();
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
    allDecided: allDecided(),
    violations,
    faultSteps,
    liveness,
    stats: { ...world.stats, partitions: driver.partitions, proposals },
    timeline,
    schedule: driver.recorded(),
  };
}
