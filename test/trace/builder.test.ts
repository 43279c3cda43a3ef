// The vector clocks of traces: the builder's rules, the independent
// consistency check, and controls showing the check catches wrong clocks.
import { describe, expect, it } from 'vitest';
import { TraceBuilder, checkClocks, happenedBefore, type RawTraceEvent, type TraceEvent } from '../../src/trace/index.js';
import { traceSimulation } from '../../src/sim/trace.js';

const ev = (actor: string, kind: RawTraceEvent['kind'], extra: Partial<RawTraceEvent> = {}): RawTraceEvent => ({ actor, kind, text: `${actor} ${kind}`, time: 0, ...extra });

/** A small exchange: p1 sends to a1 and a2, a1 replies, p1 receives the reply. */
function exchange(): TraceBuilder {
  const b = new TraceBuilder();
  b.add(ev('p1', 'send', { msg: 'm1', to: 'a1' }));
  b.add(ev('p1', 'send', { msg: 'm2', to: 'a2' }));
  b.add(ev('a1', 'receive', { msg: 'm1', from: 'p1' }));
  b.add(ev('a1', 'persist'));
  b.add(ev('a1', 'send', { msg: 'm3', to: 'p1' }));
  b.add(ev('a2', 'receive', { msg: 'm2', from: 'p1' }));
  b.add(ev('p1', 'receive', { msg: 'm3', from: 'a1' }));
  return b;
}

/** The same events with one clock replaced. */
function withClock(events: readonly TraceEvent[], index: number, vc: Record<string, number>): TraceEvent[] {
  return events.map((e) => (e.index === index ? { ...e, vc } : e));
}

describe('TraceBuilder', () => {
  it('numbers events, ticks one lane per event, and merges the send into its receive', () => {
    const b = exchange();
    const e = b.events;
    expect(e.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(b.actors).toEqual(['p1', 'a1', 'a2']);
    // The own entry counts the lane's events.
    for (const lane of b.actors) {
      const own = e.filter((x) => x.actor === lane).map((x) => x.vc[lane]);
      expect(own).toEqual(own.map((_, i) => i + 1));
    }
    // a1's receive has seen p1's first send, a2's receive both sends, p1's receive a1's send.
    expect(happenedBefore(e[0] as TraceEvent, e[2] as TraceEvent)).toBe(true);
    expect(happenedBefore(e[1] as TraceEvent, e[2] as TraceEvent)).toBe(false);
    expect(happenedBefore(e[1] as TraceEvent, e[5] as TraceEvent)).toBe(true);
    expect(happenedBefore(e[4] as TraceEvent, e[6] as TraceEvent)).toBe(true);
    // Concurrent: a2's receive and a1's persist.
    expect(happenedBefore(e[3] as TraceEvent, e[5] as TraceEvent)).toBe(false);
    expect(happenedBefore(e[5] as TraceEvent, e[3] as TraceEvent)).toBe(false);
    expect(checkClocks({ events: e })).toEqual([]);
  });

  it('a receive whose send was not traced only ticks; declared lanes keep their order', () => {
    const b = new TraceBuilder();
    b.lane('p1');
    b.lane('a1');
    const r = b.add(ev('a1', 'receive', { msg: 'never-sent', from: 'p9' }));
    expect(r.vc).toEqual({ a1: 1 });
    expect(b.actors).toEqual(['p1', 'a1']);
    const t = b.trace({ kind: 'cluster' });
    expect(t.format).toBe('synod-trace');
    expect(t.actors).toEqual(['p1', 'a1']);
    expect(t.events).toHaveLength(1);
  });

  it('keeps fields a producer adds, in one key order', () => {
    const b = new TraceBuilder();
    const raw = { time: 3, text: 'x', kind: 'note', actor: 'main', incarnation: 2 } as RawTraceEvent & { incarnation: number };
    const e = b.add(raw);
    expect(Object.keys(e)).toEqual(['index', 'actor', 'kind', 'time', 'text', 'incarnation', 'vc']);
  });
});

describe('checkClocks catches wrong clocks (controls)', () => {
  const good = exchange().events;

  it('a receive that does not merge its send', () => {
    // p1's receive of a1's reply (index 6) with only p1's own tick.
    const bad = withClock(good, 6, { p1: 3 });
    const problems = checkClocks({ events: bad });
    expect(problems.map((p) => p.index)).toContain(6);
    expect(problems.some((p) => /has not seen its send/.test(p.message))).toBe(true);
  });

  it('a lane that skips a tick, or repeats one', () => {
    expect(checkClocks({ events: withClock(good, 1, { p1: 3 }) }).some((p) => p.index === 1 && /own entry/.test(p.message))).toBe(true);
    expect(checkClocks({ events: withClock(good, 1, { p1: 1 }) }).some((p) => p.index === 1 && /own entry/.test(p.message))).toBe(true);
  });

  it('a clock that forgets, is not transitive, or names an event that has not happened', () => {
    // a1's send (index 4) without p1#1, which a1's earlier events had seen.
    expect(checkClocks({ events: withClock(good, 4, { a1: 3 }) }).some((p) => p.index === 4 && /forgets p1#1/.test(p.message))).toBe(true);
    // a2's receive (index 5) claiming a1#3 (which had seen p1#1) but nothing of p1.
    expect(checkClocks({ events: withClock(good, 5, { a2: 1, a1: 3 }) }).some((p) => p.index === 5 && /has seen a1#3 but not p1#1/.test(p.message))).toBe(true);
    // p1's receive (index 6) claiming a2#5 while a2 has had one event.
    expect(checkClocks({ events: withClock(good, 6, { p1: 3, a1: 3, a2: 5 }) }).some((p) => p.index === 6 && /has not happened/.test(p.message))).toBe(true);
  });

  it('the clocks of simulated runs are consistent (with faults and with a control bug)', () => {
    for (const [seed, bug] of [[1, null], [2, 'amnesia'], [3, 'ignore-accepted']] as const) {
      const { trace } = traceSimulation({ seed, steps: 1500, proposers: 3, acceptors: 5, learners: 2, faults: { crash: 0.02, partition: 0.01 }, bug });
      expect(trace.events.length).toBeGreaterThan(500);
      expect(checkClocks(trace)).toEqual([]);
    }
  });
});
