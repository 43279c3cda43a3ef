/**
 * Collects a live cluster's trace on the main thread.
 *
 * Workers post their events in the order they happened on their lane, and
 * post a send's event before the message leaves, so a send's event is always
 * posted before any event of its receive. Posts from different workers may
 * still reach the main thread out of that order, so a receive whose send has
 * not arrived yet waits, and with it the rest of its lane, until the send
 * comes. A send that will never come is one a crashed actor traced in a
 * report that died with it (the supervisor ignores reports after a death):
 * when an actor's crash is added, the receives waiting for its messages go in
 * without the sender's clock. {@link TraceCollector.trace} gives a snapshot
 * with whatever still waits added at the end of its lane, in a copy: the
 * events stay waiting, so a later trace has them with their sender's clock
 * once the send arrives. (Adding them for good at every snapshot gave a
 * receive whose send was merely late no happened-before edge from it.)
 */
import { TraceBuilder } from '../trace/builder.js';
import type { RawTraceEvent, Trace, TraceEvent } from '../trace/types.js';
import { sentBy } from './worker-glue.js';

/** A live cluster's trace, collected on the main thread (see the module comment). */
export class TraceCollector {
  private readonly builder = new TraceBuilder();
  /** Message ids whose send was added. */
  private readonly sent = new Set<string>();
  /** Per lane, events held behind a receive whose send has not arrived. */
  private readonly held = new Map<string, RawTraceEvent[]>();
  /** Epoch ms the trace's times count from. */
  private readonly origin: number;

  constructor(
    lanes: readonly string[],
    private readonly onEvent: (e: TraceEvent) => void = () => {},
  ) {
    this.origin = performance.timeOrigin + performance.now();
    for (const lane of lanes) this.builder.lane(lane);
  }

  /** The events added so far, in trace order. */
  get events(): readonly TraceEvent[] {
    return this.builder.events;
  }

  /** Adds events a worker posted (epoch-ms times). */
  addFromWorker(events: readonly RawTraceEvent[]): void {
    for (const e of events) this.offer({ ...e, time: round(e.time - this.origin) });
  }

  /** Adds an event seen on the main thread (crash, restart, fault), stamped now. */
  addHere(event: Omit<RawTraceEvent, 'time'>): void {
    this.offer({ ...event, time: round(performance.timeOrigin + performance.now() - this.origin) } as RawTraceEvent);
  }

  /** The trace so far, events still waiting for their send included (in a copy, see the module comment). */
  trace(source: Readonly<Record<string, unknown>> = {}): Trace {
    let builder = this.builder;
    if (this.held.size > 0) {
      builder = this.builder.fork();
      for (const waiting of this.held.values()) for (const e of waiting) builder.add(e);
    }
    return { format: 'synod-trace', version: 1, source: { ...source, kind: 'cluster' }, actors: [...builder.actors], events: [...builder.events] };
  }

  /** Events held behind a receive whose send has not arrived, over every lane. */
  get waiting(): number {
    let n = 0;
    for (const w of this.held.values()) n += w.length;
    return n;
  }

  private offer(e: RawTraceEvent): void {
    const waiting = this.held.get(e.actor);
    if (waiting !== undefined) return void waiting.push(e);
    if (e.kind === 'receive' && e.msg !== undefined && !this.sent.has(e.msg)) return void this.held.set(e.actor, [e]);
    this.add(e);
  }

  private add(e: RawTraceEvent): void {
    this.onEvent(this.builder.add(e));
    if (e.kind === 'crash') return this.release((msg) => sentBy(msg, e.actor));
    if (e.kind !== 'send' || e.msg === undefined) return;
    this.sent.add(e.msg);
    this.release((msg) => msg === e.msg);
  }

  /**
   * Releases every lane whose first held event waits for a message `waitsFor`
   * names. On a crash of actor X that is any message of X's: no receive of
   * the next incarnation's messages can be added before the crash that
   * precedes its start.
   */
  private release(waitsFor: (msg: string) => boolean): void {
    for (const [lane, waiting] of [...this.held]) {
      const head = waiting[0]?.msg;
      if (head === undefined || !waitsFor(head)) continue;
      this.held.delete(lane);
      // The head goes in as it is (without a sender's clock when its send never came); the rest are offered again.
      const [first, ...rest] = waiting as [RawTraceEvent, ...RawTraceEvent[]];
      this.add(first);
      for (const w of rest) this.offer(w);
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
