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
import type { Violation } from '../check/safety.js';
import { EventHeap } from './heap.js';
import { Prng } from './prng.js';
import { World, type Pending, type WorldStats } from './world.js';
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
  readonly delayMax: number;
  /** Upper bound of a long delay. */
  readonly delayLongMax: number;
  /** How long a storage write takes to become durable. */
  readonly writeMin: number;
  readonly writeMax: number;
  /** How long a crashed actor stays down. */
  readonly downMin: number;
  readonly downMax: number;
  /** How long a partition lasts. */
  readonly partitionMin: number;
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
  readonly seed: number;
  /** Upper bound on steps; the run also ends when nothing is left to happen. */
  readonly steps: number;
  readonly proposers: number;
  readonly acceptors: number;
  readonly learners: number;
  readonly faults?: Partial<FaultOptions>;
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
}

type Event =
  | { at: number; seq: number; kind: 'world'; id: number }
  | { at: number; seq: number; kind: 'restart'; actor: ActorId }
  | { at: number; seq: number; kind: 'heal' }
  | { at: number; seq: number; kind: 'propose'; actor: ActorId }
  | { at: number; seq: number; kind: 'client' };

/** Runs one simulation. */
export function simulate(opts: SimOptions): SimResult {
  const f: FaultOptions = { ...DEFAULT_FAULTS, ...opts.faults };
  const rng = new Prng(opts.seed);
  const members = membership(opts.proposers, opts.acceptors, opts.learners);
  const config: CoreConfig = coreConfig(members, {
    bugs: { ignoreAccepted: opts.bug === 'ignore-accepted', reuseBallot: opts.bug === 'reuse-ballot' },
  });
  let side: Set<ActorId> | null = null; // one side of the current partition
  const linkUp = (a: ActorId, b: ActorId) => side === null || side.has(a) === side.has(b);
  const world = new World(
    {
      random: () => rng.next(),
      sendDelays: (from, to) => {
        if (!linkUp(from, to) || rng.chance(f.drop)) return [];
        const delay = () => (rng.chance(f.delay) ? rng.int(f.delayMax, f.delayLongMax) : rng.int(f.delayMin, f.delayMax));
        const d = delay();
        return rng.chance(f.dup) ? [d, delay()] : [d];
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
    if (rng.chance(f.crash)) {
      const live = world.actors.filter((a) => world.isUp(a));
      if (live.length > 0) {
        const victim = rng.pick(live);
        world.crash(victim);
        note(`${victim} crashed`);
        queue.push({ at: world.now + rng.int(f.downMin, f.downMax), seq: seq++, kind: 'restart', actor: victim });
      }
    }
    if (side === null && rng.chance(f.partition)) {
      const all = world.actors;
      side = new Set(all.filter(() => rng.chance(0.5)));
      if (side.size === 0 || side.size === all.length) side = new Set([rng.pick(all)]);
      partitions++;
      note(`partition {${[...side].join(',')}} | {${all.filter((a) => !side?.has(a)).join(',')}}`);
      opts.onTrace?.({ actor: 'env', kind: 'fault', text: `partition {${[...side].join(',')}} | {${all.filter((a) => !side?.has(a)).join(',')}}`, time: world.now });
      queue.push({ at: world.now + rng.int(f.partitionMin, f.partitionMax), seq: seq++, kind: 'heal' });
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
  };
}
