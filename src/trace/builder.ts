/**
 * Numbers raw trace events and gives each a vector clock.
 *
 * Each lane ticks its own entry once per event. A receive also merges the
 * clock of the send it names (`msg`); a receive whose send was not traced
 * (it happened before tracing started) only ticks. Lanes keep their clocks
 * across crashes and restarts: a restarted actor is the same lane.
 */
import type { RawTraceEvent, Trace, TraceEvent } from './types.js';

type Clock = Record<string, number>;

/** Numbers raw trace events and gives each a vector clock (see the module comment). */
export class TraceBuilder {
  readonly events: TraceEvent[] = [];
  private readonly clocks = new Map<string, Clock>();
  private readonly sends = new Map<string, Clock>();
  private readonly lanes: string[] = [];

  /** Lanes in the order they first appeared (or were declared with {@link lane}). */
  get actors(): readonly string[] {
    return this.lanes;
  }

  /** Declares a lane up front, so lanes show in this order whatever happens first. */
  lane(actor: string): void {
    if (!this.clocks.has(actor)) {
      this.clocks.set(actor, {});
      this.lanes.push(actor);
    }
  }

  /** Adds one event; events of one lane must come in the order they happened there. */
  add(raw: RawTraceEvent): TraceEvent {
    this.lane(raw.actor);
    const clock = this.clocks.get(raw.actor) as Clock;
    if (raw.kind === 'receive' && raw.msg !== undefined) {
      const sent = this.sends.get(raw.msg);
      if (sent !== undefined) for (const [lane, n] of Object.entries(sent)) if ((clock[lane] ?? 0) < n) clock[lane] = n;
    }
    clock[raw.actor] = (clock[raw.actor] ?? 0) + 1;
    const vc = { ...clock };
    if (raw.kind === 'send' && raw.msg !== undefined) this.sends.set(raw.msg, vc);
    // One key order for every event, whoever produced it, so equal traces serialise equally;
    // fields a producer adds beyond the known ones are kept, before the clock.
    const { actor, kind, time, text, msg, from, to, value, index: _i, vc: _v, ...extra } = raw as RawTraceEvent & { index?: unknown; vc?: unknown };
    const event: TraceEvent = {
      index: this.events.length,
      actor,
      kind,
      time,
      text,
      ...(msg !== undefined ? { msg } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(value !== undefined ? { value } : {}),
      ...extra,
      vc,
    };
    this.events.push(event);
    return event;
  }

  /**
   * A copy to add to without changing this builder: a snapshot of the trace
   * with events that are not final yet (see TraceCollector.trace). The
   * events and the clocks already given out are shared; they never change.
   */
  fork(): TraceBuilder {
    const copy = new TraceBuilder();
    for (const e of this.events) copy.events.push(e);
    for (const [lane, clock] of this.clocks) copy.clocks.set(lane, { ...clock });
    for (const [msg, vc] of this.sends) copy.sends.set(msg, vc);
    for (const lane of this.lanes) copy.lanes.push(lane);
    return copy;
  }

  /** The whole trace so far, with `source` saying where it came from. */
  trace(source: Trace['source']): Trace {
    return { format: 'synod-trace', version: 1, source, actors: [...this.lanes], events: [...this.events] };
  }
}

/** True when `a` happened before `b` (or is `b`): b's clock has seen a's tick on a's lane. */
export function happenedBefore(a: TraceEvent, b: TraceEvent): boolean {
  return (b.vc[a.actor] ?? 0) >= (a.vc[a.actor] ?? 0);
}
