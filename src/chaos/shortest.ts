/**
 * The shortest trace that shows a violation. From a violation's facts (see
 * src/check/safety.ts) pick the trace events that established them — the
 * acceptors' durable writes of the conflicting values, the learners'
 * decisions, an acceptor's write and the restart that forgot it — and keep
 * only the events in their causal past (by vector clock: `happenedBefore`),
 * in trace order. Everything else in the run, however close in time, is
 * left out: it could not have influenced the facts.
 */
import { describeBallot, type Ballot } from '../core/ballot.js';
import { describeProposal, describeValue } from '../core/describe.js';
import type { AcceptedProposal } from '../core/messages.js';
import type { Value } from '../core/value.js';
import type { Violation, ViolationKind } from '../check/types.js';
import { happenedBefore } from '../trace/builder.js';
import type { TraceEvent } from '../trace/types.js';

/** The events that establish a violation's facts, and their causal past. */
export interface ShortestTrace {
  /** The violation it shows. */
  readonly violation: Violation;
  /** The events that establish the facts (a subset of `events`). */
  readonly anchors: readonly TraceEvent[];
  /** The anchors and everything in their causal past, in trace order. */
  readonly events: readonly TraceEvent[];
}

/** How telling a violation is for a reader: conflicts between values first. Lower is more telling. */
const PRIORITY: Partial<Record<ViolationKind, number>> = {
  'chosen-conflict': 0,
  agreement: 1,
  validity: 2,
  'not-chosen': 3,
  integrity: 4,
  'promise-regressed': 5,
  'accepted-regressed': 5,
  'accepted-above-promised': 6,
  invariant: 7,
};

/** Sort key of a violation: lower first. */
export function violationPriority(v: Violation): number {
  return PRIORITY[v.kind] ?? 9;
}

const isProposal = (x: unknown): x is AcceptedProposal => typeof x === 'object' && x !== null && 'ballot' in x && 'value' in x;

/**
 * The sets of trace events that each establish `v`'s facts (several when a
 * value was accepted by more acceptors than a majority: any majority of them
 * shows it was chosen); empty when none can be found (for instance a trace
 * recorded without the events the facts come from). `quorum` is the size of
 * a majority of acceptors.
 */
export function anchorCandidates(v: Violation, events: readonly TraceEvent[], quorum: number): TraceEvent[][] {
  if (v.kind !== 'chosen-conflict') {
    const one = anchorsOf(v, events, quorum);
    return one.length > 0 ? [one] : [];
  }
  const f = v.facts;
  const a = acceptedBy({ ballot: f.ballot as Ballot, value: f.value as Value }, events);
  const b = acceptedBy({ ballot: f.otherBallot as Ballot, value: f.otherValue as Value }, events);
  if (a.length < quorum || b.length < quorum) return [];
  const as = subsets(a, quorum);
  const bs = subsets(b, quorum);
  // Few acceptors make few majorities; past a bound, take the earliest majority of each.
  if (as.length * bs.length > 400) return [[...a.slice(0, quorum), ...b.slice(0, quorum)].sort(byIndex)];
  return as.flatMap((x) => bs.map((y) => [...x, ...y].sort(byIndex)));
}

/** Every subset of `items` of size `k`, in order. */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [head, ...s]), ...subsets(rest, k)];
}

/**
 * The trace events that establish `v`'s facts (for a chosen-conflict, the
 * earliest majority of durable accepts of each value); empty when none can
 * be found. `quorum` is the size of a majority of acceptors.
 */
export function anchorsOf(v: Violation, events: readonly TraceEvent[], quorum: number): TraceEvent[] {
  const f = v.facts;
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : null);
  const decideOf = (learner: string | null, value?: unknown) =>
    events.filter((e) => e.kind === 'decide' && e.actor === learner && (value === undefined || decidedValue(e) === describeValue(value as Value)));
  switch (v.kind) {
    case 'chosen-conflict':
    {
      const a = acceptedBy({ ballot: f.ballot as Ballot, value: f.value as Value }, events);
      const b = acceptedBy({ ballot: f.otherBallot as Ballot, value: f.otherValue as Value }, events);
      return a.length >= quorum && b.length >= quorum ? [...a.slice(0, quorum), ...b.slice(0, quorum)].sort(byIndex) : [];
    }
    case 'agreement':
      return [...decideOf(str('learner'), f.value).slice(0, 1), ...decideOf(str('otherLearner'), f.otherValue).slice(0, 1)].sort(byIndex);
    case 'validity':
    case 'integrity':
    case 'not-chosen':
      return decideOf(str('learner')).slice(0, v.kind === 'integrity' ? 2 : 1);
    case 'promise-regressed':
    case 'accepted-regressed':
      return regression(v, events);
    case 'accepted-above-promised': {
      const a = str('acceptor');
      const accepted = f.accepted;
      const hit = events.find((e) => e.actor === a && e.kind === 'durable' && isProposal(accepted) && e.text.includes(`accepted=${describeProposal(accepted)}`));
      return hit ? [hit] : [];
    }
    case 'invariant': {
      const hit = events.find((e) => e.actor === str('actor') && e.kind === 'crash');
      return hit ? [hit] : [];
    }
    default:
      return [];
  }
}

/** Each acceptor's first durable write of `p`, earliest first. */
function acceptedBy(p: AcceptedProposal, events: readonly TraceEvent[]): TraceEvent[] {
  if (!isProposal(p)) return [];
  const needle = `accepted=${describeProposal(p)}`;
  const seen = new Set<string>();
  const out: TraceEvent[] = [];
  for (const e of events) {
    if (e.kind !== 'durable' || seen.has(e.actor) || !e.text.includes(needle)) continue;
    seen.add(e.actor);
    out.push(e);
  }
  return out;
}

/**
 * An acceptor went back on its word: its last durable write that made the
 * earlier promise (or acceptance), and the restart or write after it that
 * came back with less.
 */
function regression(v: Violation, events: readonly TraceEvent[]): TraceEvent[] {
  const a = v.facts.acceptor;
  const before = v.facts.before;
  const needle = v.kind === 'promise-regressed' ? `promised=${describeBallot((before ?? null) as Ballot | null)}` : `accepted=${describeProposal(isProposal(before) ? before : null)}`;
  const lane = events.filter((e) => e.actor === a);
  const made = lane.filter((e) => e.kind === 'durable' && e.text.includes(needle)).at(-1);
  if (!made) return [];
  const afterKind = v.facts.when === 'restart' ? 'restart' : 'durable';
  const undone = lane.find((e) => e.index > made.index && e.kind === afterKind);
  return undone ? [made, undone] : [made];
}

/** The value a decide event names (its `value` field, or the text after "decided "). */
function decidedValue(e: TraceEvent): string | undefined {
  if (e.value !== undefined) return e.value;
  const m = /decided (.*)$/.exec(e.text);
  return m?.[1];
}

function byIndex(a: TraceEvent, b: TraceEvent): number {
  return a.index - b.index;
}

/** Every event that happened before one of `anchors` (the anchors included), in trace order. */
export function causalPast(events: readonly TraceEvent[], anchors: readonly TraceEvent[]): TraceEvent[] {
  if (anchors.length === 0) return [];
  return events.filter((e) => anchors.some((a) => happenedBefore(e, a)));
}

/**
 * The shortest trace of `v`: of the sets of events that establish its facts,
 * the one with the smallest causal past, and that past. Null when no event
 * establishing its facts is in the trace.
 */
export function shortestTraceOf(v: Violation, events: readonly TraceEvent[], quorum: number): ShortestTrace | null {
  let best: ShortestTrace | null = null;
  for (const anchors of anchorCandidates(v, events, quorum)) {
    const past = causalPast(events, anchors);
    if (best === null || past.length < best.events.length) best = { violation: v, anchors, events: past };
  }
  return best;
}

/** A candidate: a violating round's violations and trace. */
export interface ViolatingRun<R> {
  readonly run: R;
  readonly violations: readonly Violation[];
  readonly events: readonly TraceEvent[];
}

/**
 * Among several violating runs, the one whose most telling violation
 * (see {@link violationPriority}) has the shortest trace: the most telling
 * kind first, then the fewest events. Null if no violation could be traced.
 */
export function pickShortest<R>(runs: readonly ViolatingRun<R>[], quorum: number): { run: R; trace: ShortestTrace } | null {
  let best: { run: R; trace: ShortestTrace } | null = null;
  for (const r of runs) {
    for (const v of r.violations) {
      const t = shortestTraceOf(v, r.events, quorum);
      if (t === null) continue;
      if (best === null) {
        best = { run: r.run, trace: t };
        continue;
      }
      const dp = violationPriority(v) - violationPriority(best.trace.violation);
      if (dp < 0 || (dp === 0 && t.events.length < best.trace.events.length)) best = { run: r.run, trace: t };
    }
  }
  return best;
}

/** One line per event: time since `t0`, lane, kind and text; anchors marked with `*`. */
export function traceLines(t: ShortestTrace, t0: number): string[] {
  const anchors = new Set(t.anchors.map((e) => e.index));
  return t.events.map((e) => `${anchors.has(e.index) ? '*' : ' '} ${(e.time - t0).toFixed(1).padStart(8)} ms  ${e.actor.padEnd(6)} ${e.kind.padEnd(8)} ${e.text}`);
}
