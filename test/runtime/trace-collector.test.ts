// The main thread's trace collector (src/runtime/tracing.ts): reports from
// different workers arrive in any order, so a receive waits for its send.
// A snapshot taken meanwhile must not settle it without the sender's clock
// (the race a live-trace test of the key-value cluster once hit), and a send
// that died with a crashed actor's last report releases its receivers at the
// crash.
import { describe, expect, it } from 'vitest';
import { TraceCollector } from '../../src/runtime/tracing.js';
import { happenedBefore } from '../../src/trace/builder.js';
import type { RawTraceEvent, TraceEvent } from '../../src/trace/types.js';

/** Event times are made up: a counter, in order (the collector only shifts them). */
let tick = 0;
const ev = (actor: string, kind: RawTraceEvent['kind'], msg?: string): RawTraceEvent => ({ actor, kind, time: ++tick, text: `${actor} ${kind}${msg ? ` ${msg}` : ''}`, ...(msg ? { msg } : {}) });
const find = (events: readonly TraceEvent[], kind: string, msg: string) => events.find((e) => e.kind === kind && e.msg === msg) as TraceEvent;

describe('TraceCollector', () => {
  it('gives a receive that arrived before its send the send\'s clock once the send comes, even if a snapshot was taken in between', () => {
    const emitted: TraceEvent[] = [];
    const c = new TraceCollector(['p1', 'a1'], (e) => emitted.push(e));
    // a1's report (its receive, then a later event of its lane) comes before p1's (the send).
    c.addFromWorker([ev('a1', 'receive', 'p1.1.1'), ev('a1', 'persist')]);
    expect(c.events).toHaveLength(0);
    expect(c.waiting).toBe(2);
    // A snapshot now has the waiting events, without the sender's clock, and leaves them waiting.
    const early = c.trace();
    expect(early.events.map((e) => `${e.actor} ${e.kind}`)).toEqual(['a1 receive', 'a1 persist']);
    expect(c.waiting).toBe(2);
    c.addFromWorker([ev('p1', 'send', 'p1.1.1')]);
    expect(c.waiting).toBe(0);
    const late = c.trace();
    expect(late.events.map((e) => `${e.actor} ${e.kind}`)).toEqual(['p1 send', 'a1 receive', 'a1 persist']);
    const send = find(late.events, 'send', 'p1.1.1');
    const receive = find(late.events, 'receive', 'p1.1.1');
    expect(happenedBefore(send, receive)).toBe(true);
    expect(send.index).toBeLessThan(receive.index);
    // What was emitted as it was added is the final trace, in order.
    expect(emitted.map((e) => e.index)).toEqual([0, 1, 2]);
  });

  it('releases the receivers of a crashed actor\'s messages at its crash, and only those', () => {
    const c = new TraceCollector(['p1', 'p2', 'a1', 'a2']);
    c.addFromWorker([ev('a1', 'receive', 'p1.1.7'), ev('a1', 'persist')]);
    c.addFromWorker([ev('a2', 'receive', 'p2.1.3')]);
    expect(c.waiting).toBe(3);
    c.addHere({ actor: 'p1', kind: 'crash', text: 'p1 crashed' });
    expect(c.waiting).toBe(1);
    expect(c.events.map((e) => `${e.actor} ${e.kind}`)).toEqual(['p1 crash', 'a1 receive', 'a1 persist']);
    c.addFromWorker([ev('p2', 'send', 'p2.1.3')]);
    expect(c.waiting).toBe(0);
    expect(happenedBefore(find(c.events, 'send', 'p2.1.3'), find(c.events, 'receive', 'p2.1.3'))).toBe(true);
  });
});
