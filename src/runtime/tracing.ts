/**
 * Collects a live cluster's trace on the main thread.
 *
 * Workers post their events in the order they happened on their lane, and
 * post a send's event before the message leaves, so a send's event is always
 * posted before any event of its receive. Posts from different workers may
 * still reach the main thread out of that order, so a receive whose send has
 * not arrived yet waits, and with it the rest of its lane, until the send
 * comes (or {@link TraceCollector.trace} is asked for, when whatever still
 * waits is added without the sender's clock: its send was never traced).
 */
import { TraceBuilder } from '../trace/builder.js';
import type { RawTraceEvent, Trace, TraceEvent } from '../trace/types.js';

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

  /** The trace so far; events still waiting for their send are added first. */
  trace(source: Readonly<Record<string, unknown>> = {}): Trace {
    for (const [lane, waiting] of [...this.held]) {
      this.held.delete(lane);
      for (const e of waiting) this.add(e);
    }
    return { format: 'synod-trace', version: 1, source: { ...source, kind: 'cluster' }, actors: [...this.builder.actors], events: [...this.builder.events] };
  }

  private offer(e: RawTraceEvent): void {
    const waiting = this.held.get(e.actor);
    if (waiting !== undefined) return void waiting.push(e);
    if (e.kind === 'receive' && e.msg !== undefined && !this.sent.has(e.msg)) return void this.held.set(e.actor, [e]);
    this.add(e);
  }

  private add(e: RawTraceEvent): void {
    this.onEvent(this.builder.add(e));
    if (e.kind !== 'send' || e.msg === undefined) return;
    this.sent.add(e.msg);
    // Release every lane whose first held event was waiting for this send.
    for (const [lane, waiting] of [...this.held]) {
      if (waiting[0]?.msg !== e.msg) continue;
      this.held.delete(lane);
      for (const w of waiting) this.offer(w);
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
