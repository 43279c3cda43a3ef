// Simulator traces: deterministic, complete (every kind of event, matched
// against the simulator's own counters), and harmless (tracing does not
// change the run).
import { describe, expect, it } from 'vitest';
import { coreConfig } from '../../src/core/config.js';
import { describeValue } from '../../src/core/describe.js';
import { membership } from '../../src/core/ids.js';
import { simulate, type SimOptions } from '../../src/sim/simulator.js';
import { World } from '../../src/sim/synod-world.js';
import { TraceBuilder, checkClocks, toHtml, toJson, toShiViz, type RawTraceEvent } from '../../src/trace/index.js';
import { STEPS_AFTER_DECISION, traceSimulation, traceUntilDecided } from '../../src/sim/trace.js';

const base: Omit<SimOptions, 'seed'> = { steps: 2000, proposers: 3, acceptors: 5, learners: 2 };
const stormy = { drop: 0.1, dup: 0.1, crash: 0.02, partition: 0.01 };

describe('simulator traces', () => {
  it('the same seed gives the same trace byte for byte, in every format; another seed another trace', () => {
    const a = traceSimulation({ ...base, seed: 42, faults: stormy }).trace;
    const b = traceSimulation({ ...base, seed: 42, faults: stormy }).trace;
    const c = traceSimulation({ ...base, seed: 43, faults: stormy }).trace;
    expect(toJson(b)).toBe(toJson(a));
    expect(toShiViz(b)).toBe(toShiViz(a));
    expect(toHtml(b)).toBe(toHtml(a));
    expect(toJson(c)).not.toBe(toJson(a));
  });

  it('traceUntilDecided stops soon after every learner decided, keeps every violation, and traces a run that never decided whole', () => {
    const short = traceUntilDecided({ ...base, seed: 7 });
    expect(short.cut).toBe(true);
    expect(short.result.allDecided).toBe(true);
    expect(short.trace.source.steps).toBe((short.decidedAt as number) + STEPS_AFTER_DECISION);
    expect(toJson(short.trace)).not.toBe(toJson(traceSimulation({ ...base, seed: 7 }).trace));
    expect(checkClocks(short.trace)).toEqual([]);
    // Cut off before anyone decided: nothing to stop at, the run is traced as asked.
    const early = traceUntilDecided({ ...base, seed: 7, steps: 20 });
    expect(early).toMatchObject({ cut: false, decidedAt: null });
    expect(toJson(early.trace)).toBe(toJson(traceSimulation({ ...base, seed: 7, steps: 20 }).trace));
    // A run with a safety violation keeps going until the violation is in the trace.
    const buggy = { ...base, faults: { crash: 0.02 }, bug: 'amnesia' as const };
    let seed = 1;
    while (simulate({ ...buggy, seed }).violations.length === 0) {
      seed++;
      expect(seed).toBeLessThan(2000);
    }
    const whole = simulate({ ...buggy, seed });
    expect(traceUntilDecided({ ...buggy, seed }).result.violations).toEqual(whole.violations);
  });

  it('tracing does not change the run', () => {
    for (const seed of [1, 5, 9]) {
      const plain = simulate({ ...base, seed, faults: stormy });
      const traced = traceSimulation({ ...base, seed, faults: stormy }).result;
      expect(JSON.stringify(traced)).toBe(JSON.stringify(plain));
    }
  });

  it('has every kind of event, and its counts agree with the simulator’s own counters', () => {
    const { trace, result } = traceSimulation({ ...base, seed: 7, faults: stormy });
    const kinds = new Set(trace.events.map((e) => e.kind));
    for (const k of ['send', 'receive', 'drop', 'persist', 'durable', 'crash', 'restart', 'decide', 'propose', 'timer', 'fault'] as const) expect(kinds, k).toContain(k);
    const count = (pred: (e: (typeof trace.events)[number]) => boolean) => trace.events.filter(pred).length;
    const s = result.stats;
    // One send event per copy: every send effect once, plus the extra copies of duplicated messages.
    expect(count((e) => e.kind === 'send')).toBe(s.sent + s.duplicated);
    expect(count((e) => e.kind === 'receive' && e.msg !== undefined)).toBe(s.delivered);
    expect(count((e) => e.kind === 'drop' && e.msg !== undefined)).toBe(s.dropped);
    expect(count((e) => e.kind === 'crash')).toBe(s.crashes);
    expect(count((e) => e.kind === 'restart')).toBe(s.restarts);
    expect(count((e) => e.kind === 'durable')).toBe(s.writes);
    expect(count((e) => e.kind === 'timer')).toBe(s.timers);
    expect(count((e) => e.kind === 'fault' && e.actor === 'env' && e.text.startsWith('partition {'))).toBe(s.partitions);
    // The decisions in the trace are the simulator's decisions.
    const decided = Object.fromEntries(trace.events.filter((e) => e.kind === 'decide').map((e) => [e.actor, e.value]));
    expect(decided).toEqual(Object.fromEntries(Object.entries(result.decided).map(([l, v]) => [l, describeValue(v)])));
    expect(checkClocks(trace)).toEqual([]);
  });

  it('message ids pair each copy with at most one fate, and a receive names the copy’s sender and text', () => {
    const { trace } = traceSimulation({ ...base, seed: 11, faults: stormy });
    const sends = new Map(trace.events.filter((e) => e.kind === 'send').map((e) => [e.msg as string, e]));
    expect(sends.size).toBe(trace.events.filter((e) => e.kind === 'send').length); // unique per copy
    const fates = new Map<string, number>();
    for (const e of trace.events) {
      if ((e.kind !== 'receive' && e.kind !== 'drop') || e.msg === undefined) continue;
      fates.set(e.msg, (fates.get(e.msg) ?? 0) + 1);
      const send = sends.get(e.msg);
      expect(send, `${e.kind} ${e.msg} has a send`).toBeDefined();
      if (!send) continue;
      expect(send.index).toBeLessThan(e.index);
      if (e.kind === 'receive') {
        expect(e.actor).toBe(send.to);
        expect(e.from).toBe(send.actor);
        expect(e.text.replace(/^receive /, '')).toBe(send.text.replace(/^send /, ''));
      } else {
        expect(e.to).toBe(send.to);
      }
    }
    expect(Math.max(...fates.values())).toBe(1);
    const why = new Set(trace.events.filter((e) => e.kind === 'drop').map((e) => /\(([^)]*)\)$/.exec(e.text)?.[1]));
    expect(why).toContain('lost by the network');
    expect(why).toContain('partitioned');
  });

  it('a crash loses the pending write and the replies riding on it: both are traced', () => {
    const events: RawTraceEvent[] = [];
    const config = coreConfig(membership(1, 3, 1));
    const world = new World({ random: () => 0.5, sendDelays: () => [1], linkUp: () => true, writeDelay: () => 1 }, { config, onTrace: (e) => events.push(e) });
    const ids: number[] = [];
    world.onPending = (p) => ids.push(p.id);
    world.propose('p1', 'v');
    // Run p1's round write, then deliver its prepare to a1 only: a1 starts writing its promise.
    const next = (pred: (p: NonNullable<ReturnType<World['pendingItem']>>) => boolean) => ids.map((i) => world.pendingItem(i)).find((p) => p !== undefined && pred(p));
    const round = next((p) => p.kind === 'write' && p.actor === 'p1');
    world.run(round?.id as number);
    const prepare = next((p) => p.kind === 'msg' && p.to === 'a1');
    world.run(prepare?.id as number);
    expect(next((p) => p.kind === 'write' && p.actor === 'a1')).toBeDefined();
    world.crash('a1');
    const a1 = events.filter((e) => e.actor === 'a1').map((e) => `${e.kind}: ${e.text}`);
    expect(a1[0]).toMatch(/^receive: receive p1->a1 prepare/);
    expect(a1[1]).toMatch(/^persist: persist \{promised=/);
    expect(a1[2]).toBe('crash: crash');
    expect(a1[3]).toMatch(/^drop: write lost with the crash \{promised=/);
    expect(a1[4]).toMatch(/^drop: never sent, lost with the crash: a1->p1 promise/);
    world.restart('a1');
    expect(events.at(-1)).toMatchObject({ actor: 'a1', kind: 'restart', text: 'restart from {nothing}' });
    // And the builder accepts the world's events as they come.
    const b = new TraceBuilder();
    for (const e of events) b.add(e);
    expect(checkClocks({ events: b.events })).toEqual([]);
  });
});
