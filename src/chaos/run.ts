/**
 * A chaos run on the single-decree cluster: rounds (see single.ts) until a
 * bound, and what they add up to — faults injected by kind, crashes,
 * restarts and their recovery times, decisions, violations, and for a
 * violation the shortest trace that shows it.
 */
import type { Violation } from '../check/types.js';
import type { Trace } from '../trace/types.js';
import { generateRound, singleSchedule, type ClusterShape, type Experiment, type FaultKind, type Round, type SingleSchedule } from './schedule.js';
import { pickShortest, type ShortestTrace } from './shortest.js';
import { runRound, type RoundResult, type TimelineLine } from './single.js';

/** Where a run stops: whichever bound comes first (a round in progress is finished). */
export interface Bounds {
  readonly rounds?: number;
  readonly durationMs?: number;
  /** Rounds in which every learner decided. */
  readonly decisions?: number;
}

export interface ChaosOptions {
  readonly seed: number;
  readonly experiment: Experiment | null;
  readonly cluster: ClusterShape;
  readonly roundTimeoutMs: number;
  /** no-fsync: how often unflushed writes reach the disk. */
  readonly flushMs: number;
  /** Replay these rounds instead of generating them from the seed. */
  readonly rounds?: readonly Round[];
  readonly bounds: Bounds;
  /** With an experiment: keep going after the first violating round (up to the bounds), then show the shortest trace of them all. */
  readonly keepGoing: boolean;
  readonly onLine?: (line: TimelineLine) => void;
  readonly onRound?: (r: RoundResult, soFar: Progress) => void;
}

/** Counts so far, for a progress display. */
export interface Progress {
  readonly rounds: number;
  readonly decisions: number;
  readonly violations: number;
  readonly elapsedMs: number;
}

/** Percentiles of a list of ms. */
export interface Spread {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly maxMs: number | null;
}

/** The outcome of a chaos run. */
export interface ChaosReport {
  readonly ok: boolean;
  readonly protocol: 'single';
  readonly seed: number;
  readonly experiment: Experiment | null;
  readonly cluster: ClusterShape;
  readonly rounds: number;
  /** Rounds in which every learner decided. */
  readonly decisions: number;
  /** Rounds that hit their timeout. */
  readonly timedOutRounds: number;
  readonly elapsedMs: number;
  /** Fault steps carried out, by kind (a link step counts once per kind it sets). */
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>;
  /** Fault steps that had no effect (a crash of an actor that was down). */
  readonly faultsWithoutEffect: number;
  /** Crashes the supervisor saw, by how. */
  readonly crashes: Readonly<Record<string, number>>;
  readonly restarts: Spread & { readonly planned: number };
  /** Time from the start of a round's script to its last learner's decision. */
  readonly decisionTime: Spread;
  /** Messages the link faults dropped, duplicated and delayed. */
  readonly messages: { dropped: number; duplicated: number; delayed: number };
  readonly violations: ReadonlyArray<Violation & { round: number }>;
  readonly violatingRounds: readonly number[];
  /** ms from the start of the run to the first violation, or null. */
  readonly firstViolationMs: number | null;
  /** ms from the start of its round's script (the cluster up) to the first violation, or null. */
  readonly firstViolationInRoundMs: number | null;
  /** The shortest trace of a violation, or null. */
  readonly shortest: { round: number; fullLength: number; trace: ShortestTrace; t0: number } | null;
  /** The schedule actually run. */
  readonly schedule: SingleSchedule;
  readonly timeline: readonly TimelineLine[];
  /** The trace of the violating round (of the shortest trace), else of the last round. */
  readonly trace: Trace | null;
  readonly perRound: ReadonlyArray<Omit<RoundResult, 'trace' | 'traceEvents'>>;
}

/** Percentile spread of `ms`. */
export function spread(ms: readonly number[]): Spread {
  if (ms.length === 0) return { count: 0, p50Ms: null, maxMs: null };
  const sorted = [...ms].sort((a, b) => a - b);
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return { count: ms.length, p50Ms: round1(sorted[Math.floor((sorted.length - 1) / 2)] as number), maxMs: round1(sorted[sorted.length - 1] as number) };
}

/** Runs rounds until a bound (or, with an experiment, the first violation), and sums them up. */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const t0 = performance.now();
  const timeline: TimelineLine[] = [];
  const results: RoundResult[] = [];
  const scripts: Round[] = [];
  let decisions = 0;
  let violations = 0;
  let firstViolationMs: number | null = null;
  const elapsed = () => performance.now() - t0;
  const reached = () =>
    (o.rounds !== undefined && results.length >= o.rounds.length) ||
    (o.bounds.rounds !== undefined && results.length >= o.bounds.rounds) ||
    (o.bounds.durationMs !== undefined && elapsed() >= o.bounds.durationMs) ||
    (o.bounds.decisions !== undefined && decisions >= o.bounds.decisions) ||
    (o.experiment !== null && !o.keepGoing && violations > 0);
  while (!reached()) {
    const index = results.length;
    const script = o.rounds ? (o.rounds[index] as Round) : generateRound(o.seed, index, o.cluster, o.experiment);
    scripts.push(script);
    const r = await runRound(index + 1, script, {
      cluster: o.cluster,
      experiment: o.experiment,
      roundTimeoutMs: o.roundTimeoutMs,
      flushMs: o.flushMs,
      t0,
      onLine: (line) => {
        timeline.push(line);
        if (firstViolationMs === null && line.text.startsWith('VIOLATION')) firstViolationMs = line.ms;
        o.onLine?.(line);
      },
    });
    if (r.allDecided) decisions++;
    violations += r.violations.length;
    // Keep whole traces only where they may be needed: violating rounds and the latest.
    const prev = results[results.length - 1];
    if (prev && prev.violations.length === 0) results[results.length - 1] = { ...prev, trace: { ...prev.trace, events: [] }, traceEvents: [] };
    results.push(r);
    o.onRound?.(r, { rounds: results.length, decisions, violations, elapsedMs: elapsed() });
  }
  return summarize(o, results, scripts, timeline, decisions, elapsed(), firstViolationMs);
}

function summarize(o: ChaosOptions, results: readonly RoundResult[], scripts: readonly Round[], timeline: readonly TimelineLine[], decisions: number, elapsedMs: number, firstViolationMs: number | null): ChaosReport {
  const faults: Partial<Record<FaultKind, number>> = {};
  let faultsWithoutEffect = 0;
  const crashes: Record<string, number> = {};
  const recoveries: number[] = [];
  let planned = 0;
  const decisionTimes: number[] = [];
  const messages = { dropped: 0, duplicated: 0, delayed: 0 };
  const violations: Array<Violation & { round: number }> = [];
  for (const r of results) {
    for (const f of r.injected) {
      if (f.skipped) faultsWithoutEffect++;
      for (const k of f.kinds) faults[k] = (faults[k] ?? 0) + 1;
    }
    for (const c of r.crashes) crashes[c.how] = (crashes[c.how] ?? 0) + 1;
    for (const x of r.restarts) {
      recoveries.push(x.recoveryMs);
      if (x.planned) planned++;
    }
    if (r.decisionMs !== null) decisionTimes.push(r.decisionMs);
    messages.dropped += r.messages.dropped;
    messages.duplicated += r.messages.duplicated;
    messages.delayed += r.messages.delayed;
    for (const v of r.violations) violations.push({ ...v, round: r.round });
  }
  const violating = results.filter((r) => r.violations.length > 0);
  const quorum = results[0]?.quorum ?? 1;
  const best = pickShortest(
    violating.map((r) => ({ run: r, violations: r.violations, events: r.traceEvents })),
    quorum,
  );
  const traced = best?.run ?? violating[0] ?? results[results.length - 1];
  return {
    ok: violations.length === 0,
    protocol: 'single',
    seed: o.seed,
    experiment: o.experiment,
    cluster: o.cluster,
    rounds: results.length,
    decisions,
    timedOutRounds: results.filter((r) => r.timedOut).length,
    elapsedMs: Math.round(elapsedMs),
    faults,
    faultsWithoutEffect,
    crashes,
    restarts: { ...spread(recoveries), planned },
    decisionTime: spread(decisionTimes),
    messages,
    violations,
    violatingRounds: violating.map((r) => r.round),
    firstViolationMs,
    firstViolationInRoundMs: violating[0]?.firstViolationMs ?? null,
    shortest: best ? { round: best.run.round, fullLength: best.run.traceEvents.length, trace: best.trace, t0: best.run.traceEvents[0]?.time ?? 0 } : null,
    schedule: singleSchedule(o.seed, o.experiment, o.cluster, o.roundTimeoutMs, scripts),
    timeline,
    trace: traced?.trace ?? null,
    perRound: results.map(({ trace: _t, traceEvents: _e, ...rest }) => rest),
  };
}
