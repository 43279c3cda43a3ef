/**
 * Checks that a trace's vector clocks are consistent, independently of how
 * they were computed: the checks a space-time viewer such as ShiViz makes
 * before it draws a log, plus the message pairing that only a synod trace
 * knows about.
 *
 * - Along each lane the lane's own entry goes 1, 2, 3, ... (one tick per event).
 * - A clock only names lanes that exist, with counts within what that lane has
 *   done by then (so the trace order is a valid causal order).
 * - Clocks are transitive: an event that has seen event #n of lane L has seen
 *   everything that event had seen.
 * - A receive has seen the send it names (a receive that did not merge the
 *   sender's clock is caught here).
 */
import type { Trace, TraceEvent } from './types.js';

/** One clock inconsistency, at an event. */
export interface ClockProblem {
  readonly index: number;
  readonly message: string;
}

/** Every clock inconsistency in `trace` (empty when its clocks are consistent). */
export function checkClocks(trace: Pick<Trace, 'events'>): ClockProblem[] {
  const problems: ClockProblem[] = [];
  const byLane = new Map<string, TraceEvent[]>();
  const sends = new Map<string, TraceEvent>();
  for (const e of trace.events) {
    const lane = byLane.get(e.actor) ?? [];
    const own = e.vc[e.actor];
    if (own !== lane.length + 1) problems.push({ index: e.index, message: `${e.actor}'s own entry is ${own}, expected ${lane.length + 1} (one tick per event on its lane)` });
    for (const [other, n] of Object.entries(e.vc)) {
      if (other === e.actor) continue;
      const seen = byLane.get(other);
      if (!Number.isSafeInteger(n) || n < 1 || seen === undefined || n > seen.length) {
        problems.push({ index: e.index, message: `entry ${other}=${n} names an event that has not happened (${other} has ${seen?.length ?? 0} so far)` });
        continue;
      }
      // Transitivity: whatever event #n of `other` had seen, this event has seen too.
      const cause = seen[n - 1] as TraceEvent;
      for (const [l, m] of Object.entries(cause.vc)) {
        if ((e.vc[l] ?? 0) < m) problems.push({ index: e.index, message: `has seen ${other}#${n} but not ${l}#${m}, which ${other}#${n} had seen` });
      }
    }
    const prev = lane[lane.length - 1];
    if (prev) {
      for (const [l, m] of Object.entries(prev.vc)) {
        if ((e.vc[l] ?? 0) < m) problems.push({ index: e.index, message: `forgets ${l}#${m}, which the previous event on ${e.actor} had seen` });
      }
    }
    if (e.kind === 'send' && e.msg !== undefined) sends.set(e.msg, e);
    if (e.kind === 'receive' && e.msg !== undefined) {
      const send = sends.get(e.msg);
      if (send && (e.vc[send.actor] ?? 0) < (send.vc[send.actor] ?? 0)) problems.push({ index: e.index, message: `receive of ${e.msg} has not seen its send (${send.actor}#${send.vc[send.actor]})` });
    }
    lane.push(e);
    byLane.set(e.actor, lane);
  }
  return problems;
}
