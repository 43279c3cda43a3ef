/**
 * Chaos rounds on the single-decree cluster. Single-decree Paxos decides one
 * value per cluster, so a chaos run is a series of rounds: each a fresh
 * cluster (its own temporary data directory) whose proposers get client
 * proposals while the round's script injects faults; the round ends once
 * the script is done and every learner decided and every proposal was
 * answered, or at the round timeout. The safety checker watches throughout.
 */
import type { Violation } from '../check/types.js';
import { describeValue } from '../core/describe.js';
import { allActors, type ActorId } from '../core/ids.js';
import { quorumSize } from '../core/quorum.js';
import type { Value } from '../core/value.js';
import type { Trace, TraceEvent } from '../trace/types.js';
import { describeStep, faultKindsOf, type ClusterShape, type Experiment, type FaultKind, type Round, type Step } from './schedule.js';
import type { Cluster } from '../runtime/cluster.js';
import { startCluster } from './tracing.js';

/** A line of the timeline. */
export interface TimelineLine {
  /** ms since the run started. */
  readonly ms: number;
  /** Round number, from 1. */
  readonly round: number;
  readonly text: string;
}

/** A fault step carried out. */
export interface Injected {
  readonly ms: number;
  readonly step: Step;
  readonly kinds: readonly FaultKind[];
  /** Why it had no effect (a crash of an actor that was down already), if so. */
  readonly skipped?: string;
}

/** What one round did. */
export interface RoundResult {
  /** Round number, from 1. */
  readonly round: number;
  readonly scenario: Round['scenario'];
  /** ms since the run started, when the cluster was up and the script began. */
  readonly startMs: number;
  /** From the script's start to the end of the round. */
  readonly durationMs: number;
  readonly injected: readonly Injected[];
  readonly crashes: ReadonlyArray<{ ms: number; id: ActorId; how: string }>;
  readonly restarts: ReadonlyArray<{ ms: number; id: ActorId; recoveryMs: number; planned: boolean }>;
  /** What each learner decided. */
  readonly decided: Readonly<Record<ActorId, Value>>;
  /** Every learner decided. */
  readonly allDecided: boolean;
  /** ms from the script's start to the last learner's decision, if all decided. */
  readonly decisionMs: number | null;
  /** The answers proposers gave their clients. */
  readonly answers: ReadonlyArray<{ proposer: ActorId; asked: Value; answer: Value | null; error?: string }>;
  /** Messages the link faults dropped, duplicated and delayed (from the actors' counters). */
  readonly messages: { dropped: number; duplicated: number; delayed: number };
  readonly violations: readonly Violation[];
  /** ms from the script's start to the round's first violation, or null. */
  readonly firstViolationMs: number | null;
  /** The round hit its timeout. */
  readonly timedOut: boolean;
  /** The whole trace of the round. */
  readonly trace: Trace;
  readonly traceEvents: readonly TraceEvent[];
  /** A majority of acceptors. */
  readonly quorum: number;
}

/** How to run a round. */
export interface RoundOptions {
  readonly cluster: ClusterShape;
  readonly experiment: Experiment | null;
  readonly roundTimeoutMs: number;
  readonly flushMs: number;
  /** ms timestamps (performance.now()) of the run's start. */
  readonly t0: number;
  /** Called with every timeline line as it happens. */
  readonly onLine?: (line: TimelineLine) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs round number `round` (from 1) with `script`. */
export async function runRound(round: number, script: Round, o: RoundOptions): Promise<RoundResult> {
  const since = () => Math.round((performance.now() - o.t0) * 10) / 10;
  const note = (text: string) => o.onLine?.({ ms: since(), round, text });
  const cluster = await startCluster(o.cluster, o.experiment, o.flushMs);
  const started = performance.now();
  const startMs = since();
  const deadline = started + o.roundTimeoutMs;
  const injected: Injected[] = [];
  const crashes: Array<{ ms: number; id: ActorId; how: string }> = [];
  const restarts: Array<{ ms: number; id: ActorId; recoveryMs: number; planned: boolean }> = [];
  const violations: Violation[] = [];
  const answers: Array<{ proposer: ActorId; asked: Value; answer: Value | null; error?: string }> = [];
  const proposing: Array<Promise<void>> = [];
  let lastDecisionAt = 0;
  let firstViolationAt = 0;
  let over = false;
  try {
    note(`round ${round} (${script.scenario} schedule${o.experiment ? `, ${o.experiment} switched on` : ''}): cluster up`);
    cluster.on('crash', (e) => {
      crashes.push({ ms: since(), id: e.id, how: e.how });
      note(`${e.id} crashed (${e.how})`);
    });
    cluster.on('restart', (e) => {
      restarts.push({ ms: since(), id: e.id, recoveryMs: e.recoveryMs, planned: e.planned });
      note(`${e.id} ${e.planned ? 'restarted (planned)' : 'restarted by the supervisor'}, serving again after ${e.recoveryMs.toFixed(1)} ms`);
    });
    cluster.on('decide', (e) => {
      lastDecisionAt = performance.now();
      note(`${e.id} decided ${describeValue(e.value)}`);
    });
    cluster.on('violation', (v) => {
      if (violations.length === 0) firstViolationAt = performance.now();
      violations.push(v);
      note(`VIOLATION ${v.kind}: ${v.message}`);
    });
    cluster.on('failed', (e) => note(`${e.id} FAILED, not restarted: ${e.cause.message}`));

    /** Decisions read from learners' durable state at the end (see askLearners). */
    const recovered = new Map<ActorId, Value>();
    const allDecided = () => cluster.members.learners.every((l) => cluster.decisions.has(l) || recovered.has(l));
    const allUp = () => allActors(cluster.members).every((id) => cluster.status(id) === 'running');
    const settled = () => answers.length === proposing.length;
    const holds = (event: 'chosen' | 'decided' | 'answered' | 'up') =>
      event === 'chosen' ? cluster.checker.chosenValues.length > 0 : event === 'decided' ? allDecided() : event === 'answered' ? settled() : allUp();

    /** A client: proposes `value` through `proposer`, asking again after each timeout, until answered or the round ends. */
    const client = async (proposer: ActorId, value: Value) => {
      for (;;) {
        try {
          const answer = await cluster.propose(value, { proposer, timeoutMs: 400 });
          answers.push({ proposer, asked: value, answer });
          note(`${proposer} answered its client: ${describeValue(answer)} was chosen`);
          return;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'SYNOD_TIMEOUT' && !over && performance.now() < deadline) continue;
          answers.push({ proposer, asked: value, answer: null, error: (err as Error).message });
          return;
        }
      }
    };

    const run = async (step: Step): Promise<void> => {
      const kinds = faultKindsOf(step);
      const record = (skipped?: string) => {
        injected.push({ ms: since(), step, kinds, ...(skipped ? { skipped } : {}) });
        note(`inject: ${describeStep(step)}${skipped ? ` (no effect: ${skipped})` : ''}`);
      };
      switch (step.op) {
        case 'propose':
          note(`${describeStep(step)}`);
          proposing.push(client(step.proposer, step.value as Value));
          return;
        case 'wait':
          return sleep(Math.max(0, Math.min(step.ms, deadline - performance.now())));
        case 'await': {
          const until = Math.min(deadline, performance.now() + (step.timeoutMs ?? o.roundTimeoutMs));
          while (!holds(step.event) && performance.now() < until) await sleep(2);
          if (!holds(step.event)) note(`gave up waiting until ${step.event}`);
          return;
        }
        case 'crash': {
          const status = cluster.status(step.actor);
          record(status === 'running' || status === 'starting' ? undefined : `${step.actor} is ${status}`);
          return cluster.crash(step.actor, step.how);
        }
        case 'restart':
          record();
          // A planned restart can meet a crash of the same actor; the supervisor sorts that out.
          return cluster.restart(step.actor).catch((err: Error) => note(`restart of ${step.actor} failed: ${err.message}`));
        case 'partition':
          record();
          return cluster.partition(step.sides[0], step.sides[1]);
        case 'heal':
          record();
          return cluster.heal();
        case 'link':
          record();
          return cluster.setLinkFaults(step.from, step.to, { drop: step.drop, dup: step.dup, delay: step.delay, delayMs: step.delayMs });
        case 'pause':
          record();
          return cluster.pause(step.actor).catch((err: Error) => note(`pause of ${step.actor} failed: ${err.message}`));
        case 'resume':
          record();
          return cluster.resume(step.actor).catch((err: Error) => note(`resume of ${step.actor} failed: ${err.message}`));
      }
    };

    for (const step of script.steps) {
      if (performance.now() >= deadline) break;
      await run(step);
    }
    // A learner that crashed after making its decision durable but before reporting it reports nothing after its restart: ask its state now and then.
    let asked = performance.now();
    while (!(allDecided() && settled()) && performance.now() < deadline) {
      await sleep(5);
      if (settled() && !allDecided() && performance.now() - asked > 100) {
        for (const [l, v] of await askLearners(cluster, deadline)) recovered.set(l, v);
        asked = performance.now();
      }
    }
    over = true;
    // The end-of-run checks: every decision must be backed by a majority of durable accepts at its ballot.
    const seen = cluster.checker.violations.length;
    for (const v of cluster.checker.finish(Number.MAX_SAFE_INTEGER).slice(seen)) {
      if (violations.length === 0) firstViolationAt = performance.now();
      violations.push(v);
      note(`VIOLATION ${v.kind}: ${v.message}`);
    }
    const timedOut = !(allDecided() && settled());
    if (timedOut) note(`round ${round} timed out after ${o.roundTimeoutMs} ms`);
    const messages = await linkCounters(cluster);
    const decided = Object.fromEntries([...[...cluster.decisions].map(([l, p]) => [l, p.value] as const), ...recovered]);
    // One snapshot gives both the trace written out and the events the shortest trace is cut from: a snapshot adds the
    // receives still waiting for their sends (src/runtime/tracing.ts), which the collector's own list does not have yet.
    const trace = cluster.traceOf({ round, scenario: script.scenario, experiment: o.experiment });
    const result: RoundResult = {
      round,
      scenario: script.scenario,
      startMs,
      durationMs: Math.round(performance.now() - started),
      injected,
      crashes,
      restarts,
      decided,
      allDecided: allDecided(),
      decisionMs: allDecided() && lastDecisionAt > 0 ? Math.round((lastDecisionAt - started) * 10) / 10 : null,
      answers,
      messages,
      violations,
      firstViolationMs: violations.length > 0 ? Math.round((firstViolationAt - started) * 10) / 10 : null,
      timedOut,
      trace,
      traceEvents: trace.events,
      quorum: quorumSize(o.cluster.acceptors),
    };
    return result;
  } finally {
    over = true;
    await cluster.close();
    await Promise.allSettled(proposing);
  }
}

/** Learners' decisions from their durable state, for those that reported none. */
async function askLearners(cluster: Cluster, deadline: number): Promise<Map<ActorId, Value>> {
  const found = new Map<ActorId, Value>();
  for (const l of cluster.members.learners) {
    if (cluster.decisions.has(l)) continue;
    const report = await within(cluster.state(l), Math.max(50, deadline - performance.now()));
    const rec = report?.durable;
    if (rec?.role === 'learner' && rec.decided) found.set(l, rec.decided.value);
  }
  return found;
}

/** `p`, or null if it does not settle within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([p.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The link-fault counters summed over every actor that answers (an actor's counters start again after a restart). */
async function linkCounters(cluster: Cluster): Promise<{ dropped: number; duplicated: number; delayed: number }> {
  const reports = await Promise.all(allActors(cluster.members).map((id) => within(cluster.state(id), 300)));
  const sum = { dropped: 0, duplicated: 0, delayed: 0 };
  for (const r of reports) {
    if (r === null) continue;
    sum.dropped += r.counters.dropped.link;
    sum.duplicated += r.counters.duplicated;
    sum.delayed += r.counters.delayed;
  }
  return sum;
}
