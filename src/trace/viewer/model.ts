/**
 * What the trace viewer shows, worked out without a browser: how an event's
 * time reads, and which glyph draws it. `app.ts` draws with these; the tests
 * call them directly.
 */
import type { TraceEvent, TraceKind } from '../types.js';

/**
 * The glyph of an event: its kind, except that an injected crash (a live
 * cluster puts `crash a1 (exception)` or `arm crash point … in a1` on the
 * `env` lane as a fault) gets a glyph of its own instead of the
 * partition/heal bar.
 */
export type Glyph = TraceKind | 'injected-crash';

/** The glyph `e` is drawn with. */
export function glyphOf(e: Pick<TraceEvent, 'kind' | 'text'>): Glyph {
  if (e.kind === 'fault' && /^(?:crash\b|arm crash point\b)/.test(e.text)) return 'injected-crash';
  return e.kind;
}

/** The actor an injected crash strikes (`crash a1 (exception)`, `arm crash point after-persist in a1`), or null. */
export function crashTarget(e: Pick<TraceEvent, 'kind' | 'text'>): string | null {
  if (glyphOf(e) !== 'injected-crash') return null;
  const m = /^crash (\S+)|^arm crash point \S+ in (\S+)/.exec(e.text);
  return m?.[1] ?? m?.[2] ?? null;
}

/**
 * Where the trace's clock starts: its earliest event time. Simulator traces
 * start at 0 already; a cluster's times count from when tracing began, which
 * is some way before its first event.
 */
export function timeOrigin(events: readonly Pick<TraceEvent, 'time'>[]): number {
  let t0 = Infinity;
  for (const e of events) if (Number.isFinite(e.time) && e.time < t0) t0 = e.time;
  return t0 === Infinity ? 0 : t0;
}

/** Rounds to `digits` decimals and drops trailing zeros: 2.50 -> "2.5", 3.00 -> "3". */
function trim(x: number, digits: number): string {
  const s = String(Number(x.toFixed(digits)));
  return s === '-0' ? '0' : s;
}

/**
 * A span of milliseconds with its unit, as precise as it is worth reading:
 * `0 ms`, `0.25 ms`, `7.5 ms`, `312 ms`, `1.25 s`, `42.1 s`, `3 min 7 s`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const a = Math.abs(ms);
  if (a < 10) return `${trim(ms, 2)} ms`;
  if (a < 1000) return `${trim(ms, a < 100 ? 1 : 0)} ms`;
  const s = ms / 1000;
  if (a < 10_000) return `${trim(s, 2)} s`;
  if (a < 60_000) return `${trim(s, 1)} s`;
  const sign = ms < 0 ? '-' : '';
  const whole = Math.round(a / 1000);
  return `${sign}${Math.floor(whole / 60)} min ${whole % 60} s`;
}
