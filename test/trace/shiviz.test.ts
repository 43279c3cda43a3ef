// The ShiViz export. ShiViz takes the first line of an uploaded log as its
// parser expression (wrapped in ^...$, flags "m" and "g"), the second as the
// multiple-executions delimiter (empty: one execution), and the rest as the
// log; its default expression is (?<event>.*)\n(?<host>\S*) (?<clock>{.*}).
// It then requires, per host, own clock entries 1, 2, 3, ... and entries for
// other hosts that name events that exist. These tests parse our output the
// same way and check those rules, plus that every receive has seen its send.
import { describe, expect, it } from 'vitest';
import { TraceBuilder, toShiViz, type Trace } from '../../src/trace/index.js';
import { traceSimulation } from '../../src/sim/trace.js';

const SHIVIZ_DEFAULT_PARSER = String.raw`(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`;

interface Parsed {
  event: string;
  host: string;
  clock: Record<string, number>;
}

/** Splits a ShiViz log file as ShiViz's upload does, and matches every entry with its parser expression. */
function parseShiViz(file: string): { parser: string; delimiter: string; entries: Parsed[]; log: string } {
  const nl1 = file.indexOf('\n');
  const nl2 = file.indexOf('\n', nl1 + 1);
  const parser = file.slice(0, nl1);
  const delimiter = file.slice(nl1 + 1, nl2);
  const log = file.slice(nl2 + 1);
  const re = new RegExp(`^${parser}$`, 'gm');
  const entries: Parsed[] = [];
  for (const m of log.matchAll(re)) {
    const g = m.groups as Record<string, string>;
    entries.push({ event: g.event as string, host: g.host as string, clock: JSON.parse(g.clock as string) as Record<string, number> });
  }
  return { parser, delimiter, entries, log };
}

/** ShiViz's rules for the clocks of a log, and the send/receive pairing from the event tags; returns the problems. */
function shivizClockProblems(entries: Parsed[]): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  const hosts = new Set(entries.map((e) => e.host));
  const sends = new Map<string, { host: string; own: number }>();
  entries.forEach((e, i) => {
    const own = (counts.get(e.host) ?? 0) + 1;
    counts.set(e.host, own);
    if (e.clock[e.host] !== own) problems.push(`entry ${i}: ${e.host}'s own clock is ${e.clock[e.host]}, expected ${own}`);
    for (const [h, n] of Object.entries(e.clock)) {
      if (!hosts.has(h)) problems.push(`entry ${i}: unknown host ${h}`);
      else if (h !== e.host && (n < 1 || n > (counts.get(h) ?? 0))) problems.push(`entry ${i}: ${h}=${n} names an event not yet logged`);
    }
    const tag = /\[(\w+) t=\d+(?: (\S+))?\]$/.exec(e.event);
    if (tag?.[1] === 'send' && tag[2]) sends.set(tag[2], { host: e.host, own });
    if (tag?.[1] === 'receive' && tag[2]) {
      const s = sends.get(tag[2]);
      if (s && (e.clock[s.host] ?? 0) < s.own) problems.push(`entry ${i}: receive of ${tag[2]} has not seen its send`);
    }
  });
  return problems;
}

describe('ShiViz export', () => {
  const { trace } = traceSimulation({ seed: 21, steps: 1500, proposers: 3, acceptors: 5, learners: 2, faults: { crash: 0.02, partition: 0.01 } });
  const file = toShiViz(trace);

  it('starts with ShiViz’s default parser expression and an empty delimiter line', () => {
    const { parser, delimiter } = parseShiViz(file);
    expect(parser).toBe(SHIVIZ_DEFAULT_PARSER);
    expect(delimiter).toBe('');
  });

  it('every event parses with that expression: host, text and clock as in the trace', () => {
    const { entries, log } = parseShiViz(file);
    expect(entries).toHaveLength(trace.events.length);
    expect(log.split('\n').filter((l) => l !== '')).toHaveLength(2 * trace.events.length);
    entries.forEach((p, i) => {
      const e = trace.events[i];
      expect(p.host).toBe(e?.actor);
      expect(p.event.startsWith(e?.text as string)).toBe(true);
      expect(p.clock).toEqual(e?.vc);
    });
  });

  it('the clocks pass ShiViz’s checks: own entries go 1, 2, 3 along each lane, other entries name logged events, receives have seen their sends', () => {
    const { entries } = parseShiViz(file);
    expect(entries.length).toBeGreaterThan(1000);
    expect(shivizClockProblems(entries)).toEqual([]);
  });

  it('control: a receive that does not merge its send is caught', () => {
    const b = new TraceBuilder();
    b.add({ actor: 'p1', kind: 'send', text: 'send p1->a1 prepare 1.p1', time: 0, msg: 'm1', to: 'a1' });
    b.add({ actor: 'a1', kind: 'persist', text: 'persist', time: 0 });
    b.add({ actor: 'a1', kind: 'receive', text: 'receive p1->a1 prepare 1.p1', time: 1, msg: 'm1', from: 'p1' });
    const good = b.trace({ kind: 'cluster' });
    expect(shivizClockProblems(parseShiViz(toShiViz(good)).entries)).toEqual([]);
    const bad: Trace = { ...good, events: good.events.map((e) => (e.kind === 'receive' ? { ...e, vc: { a1: 2 } } : e)) };
    expect(shivizClockProblems(parseShiViz(toShiViz(bad)).entries)).toEqual(['entry 2: receive of m1 has not seen its send']);
    // And a lane that skips a tick.
    const skip: Trace = { ...good, events: good.events.map((e) => (e.kind === 'receive' ? { ...e, vc: { a1: 3, p1: 1 } } : e)) };
    expect(shivizClockProblems(parseShiViz(toShiViz(skip)).entries)[0]).toMatch(/own clock is 3, expected 2/);
  });

  it('lanes with spaces and texts with line breaks still give one two-line entry per event', () => {
    const b = new TraceBuilder();
    b.add({ actor: 'worker 1', kind: 'send', text: 'hello\nworld', time: 0, msg: 'q', to: 'main' });
    b.add({ actor: 'main', kind: 'receive', text: 'got\r\nit', time: 1, msg: 'q', from: 'worker 1' });
    const { entries } = parseShiViz(toShiViz(b.trace({ kind: 'cluster' })));
    expect(entries.map((e) => e.host)).toEqual(['worker_1', 'main']);
    expect(entries[1]?.clock).toEqual({ worker_1: 1, main: 1 });
    expect(entries[0]?.event).toMatch(/^hello world /);
    expect(shivizClockProblems(entries)).toEqual([]);
  });
});
