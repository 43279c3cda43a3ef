/**
 * The HTML trace viewer: the script `html.ts` inlines into each page. It runs
 * in the browser, so it is checked against the DOM (tsconfig.json next to it)
 * and bundled into one classic script by `bundle.ts`.
 *
 * It draws a space-time diagram on one <canvas>: lanes are rows (one per
 * actor), events sit at x = their position in the trace, messages are arrows
 * from a send to its receive (or, dashed red, to the one mark of its drop,
 * which the sender's side records). Only
 * the visible window is drawn, and a click is mapped back to an event by
 * arithmetic and a binary search on that lane, so a trace of tens of
 * thousands of events stays responsive. Wheel zooms around the pointer,
 * dragging pans, the strip at the top is an overview of the whole run (click
 * it to jump), and the side panel shows the clicked event's text, its message
 * partner and its vector clock.
 *
 * Times read as time since the trace's first event, with a unit (see
 * `model.ts`, which also picks each event's glyph).
 *
 * For tests and scripting it publishes `window.synodTrace` (counts of lanes,
 * events, arrows and dropped arrows; what the last frame drew, glyph by
 * glyph, and the ruler's labels; positionOf,
 * eventAt, select, fit, zoom) and mirrors the counts as data attributes of
 * the canvas.
 */
import type { Trace, TraceEvent } from '../types.js';
import { crashTarget, formatDuration, glyphOf, timeOrigin, type Glyph } from './model.js';

/** A message: its send, where its copy ended (a receive or a drop), and the lanes it joins. */
interface Arrow {
  readonly s: number;
  readonly e: number;
  readonly lo: number;
  readonly hi: number;
  readonly from: number;
  /** The lane of the end event (a drop sits on the sender's lane in the simulator). */
  readonly to: number;
  /** Where a dropped copy was headed: its line bows toward that lane. */
  readonly toward: number;
  readonly dropped: boolean;
}

/** What the last frame drew. */
interface Drawn {
  events: number;
  arrows: number;
  droppedArrows: number;
  frames: number;
  /** Events drawn per glyph. */
  glyphs: Partial<Record<Glyph, number>>;
  /** The ruler's labels, left to right. */
  ruler: string[];
}

/** What the page publishes for tests and scripting. */
interface SynodTraceApi {
  readonly ready: true;
  readonly lanes: number;
  readonly laneNames: string[];
  readonly events: number;
  readonly arrows: number;
  readonly droppedArrows: number;
  readonly decisions: number;
  readonly timeOrigin: number;
  readonly drawn: Drawn;
  readonly selected: number | null;
  readonly view: { start: number; step: number; scrollY: number; laneHeight: number; width: number; height: number };
  positionOf(i: number): { x: number; y: number; visible: boolean } | null;
  eventAt(x: number, y: number): number | null;
  select(i: number | null): void;
  show(i: number): void;
  fit(): void;
  zoom(factor: number, atX?: number): void;
  panBy(dx: number, dy?: number): void;
}

declare global {
  interface Window {
    synodTrace?: SynodTraceApi;
  }
}

/** The element with this id; the page `html.ts` writes has every one the viewer uses. */
function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** A 2D context; every canvas the viewer makes or finds has one. */
function context2d(c: HTMLCanvasElement): CanvasRenderingContext2D {
  const got = c.getContext('2d');
  if (!got) throw new Error('no 2D canvas context');
  return got;
}

// ---- the data ---------------------------------------------------------
const trace = JSON.parse(byId('synod-trace-data').textContent ?? '') as Trace;
const events: readonly TraceEvent[] = trace.events;
const n = events.length;
const ev = (i: number) => events[i] as TraceEvent;

// Lanes: the declared order, then any actor that only shows up in events.
const lanes: string[] = trace.actors.slice();
const laneOf = new Map<string, number>();
lanes.forEach((a, i) => laneOf.set(a, i));
for (const e of events) {
  if (!laneOf.has(e.actor)) {
    laneOf.set(e.actor, lanes.length);
    lanes.push(e.actor);
  }
}
const laneIndex = (actor: string) => laneOf.get(actor) as number;

// Event indices per lane, in order (for hit-testing by binary search).
const laneEvents: number[][] = lanes.map(() => []);
events.forEach((e, i) => (laneEvents[laneIndex(e.actor)] as number[]).push(i));

// Messages: a send, and where its copy ended (a receive or a drop). Sends are
// collected first, so a trace recorded out of order still pairs them.
const sendOf = new Map<string, number>();
const endsOf = new Map<string, number[]>();
const arrows: Arrow[] = [];
let droppedTotal = 0;
events.forEach((e, i) => {
  if (e.msg !== undefined && e.kind === 'send') sendOf.set(e.msg, i);
});
events.forEach((e, i) => {
  if (e.msg === undefined || (e.kind !== 'receive' && e.kind !== 'drop')) return;
  const ends = endsOf.get(e.msg) ?? [];
  ends.push(i);
  endsOf.set(e.msg, ends);
  const s = sendOf.get(e.msg);
  if (s === undefined) return;
  const dropped = e.kind === 'drop';
  // A drop ends its line where it was recorded, with its one mark there; the
  // receiver it never reached only gives the line a direction.
  const to = laneIndex(e.actor);
  const toward = dropped && e.to !== undefined && laneOf.has(e.to) ? laneIndex(e.to) : to;
  arrows.push({ s, e: i, lo: Math.min(s, i), hi: Math.max(s, i), from: laneIndex(ev(s).actor), to, toward, dropped });
  if (dropped) droppedTotal++;
});

// Down periods: from a crash to the next restart on the same lane.
const downs: { lane: number; from: number; to: number }[] = [];
const crashedAt = new Map<string, number>();
events.forEach((e, i) => {
  if (e.kind === 'crash') crashedAt.set(e.actor, i);
  const since = crashedAt.get(e.actor);
  if (e.kind === 'restart' && since !== undefined) {
    downs.push({ lane: laneIndex(e.actor), from: since, to: i });
    crashedAt.delete(e.actor);
  }
});
for (const [a, since] of crashedAt) downs.push({ lane: laneIndex(a), from: since, to: n });

const t0 = timeOrigin(events);
/** An event's time as time since the first event, with a unit. */
const sinceStart = (e: TraceEvent) => formatDuration(e.time - t0);

// Injected crashes, each with the lane it strikes (drawn as a dotted line from the bolt to that lane).
const strikes: { at: number; lane: number }[] = [];
events.forEach((e, i) => {
  const target = crashTarget(e);
  if (target !== null && laneOf.has(target)) strikes.push({ at: i, lane: laneIndex(target) });
});

const decides: number[] = [];
events.forEach((e, i) => {
  if (e.kind === 'decide') decides.push(i);
});

// ---- the page around the canvas --------------------------------------
const canvas = byId<HTMLCanvasElement>('diagram');
let ctx = context2d(canvas);
const panel = byId('panel');
const causalBox = byId<HTMLInputElement>('causal');

function el(tag: string, cls?: string | null, text?: string): HTMLElement {
  const x = document.createElement(tag);
  if (cls) x.className = cls;
  if (text !== undefined) x.textContent = text;
  return x;
}

(function summary() {
  const s = trace.source;
  const box = byId('summary');
  const parts: string[] = [];
  if (s.kind === 'sim') parts.push(`simulator, seed ${String(s.seed)}${s.bug ? `, bug ${String(s.bug)}` : ''}`);
  else if (s.kind) parts.push(String(s.kind));
  parts.push(`${n} events, ${lanes.length} lanes, ${arrows.length} messages (${droppedTotal} dropped)`);
  box.appendChild(document.createTextNode(parts.join(' \u00b7 ')));
  // What each lane decided (its last decision, when it made several, as a replicated log does).
  const byLearner = new Map<string, string>();
  for (const i of decides) {
    const e = ev(i);
    byLearner.set(e.actor, e.value !== undefined ? e.value : e.text);
  }
  if (byLearner.size > 0) {
    box.appendChild(document.createTextNode(' \u00b7 '));
    const label = decides.length > byLearner.size ? `${decides.length} decisions, the last: ` : 'decided: ';
    box.appendChild(el('span', 'decided', label + [...byLearner].map(([l, v]) => `${l}=${v}`).join(' ')));
  }
  if (typeof s.violations === 'number' && s.violations > 0) {
    box.appendChild(document.createTextNode(' \u00b7 '));
    box.appendChild(el('span', 'violation', `${s.violations} safety violation(s) in this run`));
  }
})();

// ---- looks ------------------------------------------------------------
const ROLE_COLORS: Record<string, string> = { p: '#6d3fc0', a: '#0f7c74', l: '#a86200' };
function laneColor(lane: number): string {
  const name = lanes[lane] ?? '';
  if (name === 'env' || name === 'main') return '#6b7280';
  return ROLE_COLORS[name.charAt(0)] ?? '#334155';
}
const C = { arrow: 'rgba(55, 72, 110, 0.55)', arrowHot: '#111827', drop: '#d12c2c', persist: '#2b6cb0', restart: '#1b8a3a', decide: '#f2b705', decideEdge: '#7a5300', timer: '#d97706', fault: '#6b7280', down: 'rgba(209, 44, 44, 0.08)' };

/** Draws one glyph centred at (x, y); r is the size. */
function mark(kind: Glyph, x: number, y: number, r: number, color: string, e?: TraceEvent): void {
  ctx.lineWidth = 1.5;
  switch (kind) {
    case 'send':
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(x, y, r * 0.8, 0, 2 * Math.PI);
      ctx.fill();
      break;
    case 'receive':
      ctx.strokeStyle = color;
      ctx.fillStyle = '#fff';
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      break;
    case 'drop':
      // A struck-through ring ("lost"): small, and unlike the crash's cross.
      ctx.strokeStyle = C.drop;
      ctx.fillStyle = '#fff';
      ctx.lineWidth = 1.6;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(x - r * 0.7, y + r * 0.7);
      ctx.lineTo(x + r * 0.7, y - r * 0.7);
      ctx.stroke();
      break;
    case 'persist':
      ctx.strokeStyle = C.persist;
      ctx.fillStyle = '#fff';
      ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
      ctx.strokeRect(x - r, y - r, 2 * r, 2 * r);
      break;
    case 'durable':
      ctx.fillStyle = C.persist;
      ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
      break;
    case 'crash':
      cross(x, y, r * 1.7, '#fff', 5);
      cross(x, y, r * 1.7, C.drop, 3);
      break;
    case 'restart':
      ctx.fillStyle = C.restart;
      ctx.beginPath();
      ctx.moveTo(x, y - r * 1.6);
      ctx.lineTo(x + r * 1.4, y + r);
      ctx.lineTo(x - r * 1.4, y + r);
      ctx.closePath();
      ctx.fill();
      break;
    case 'decide':
      diamond(x, y, r * 2, C.decide, C.decideEdge);
      break;
    case 'propose':
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, r * 1.3, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(x, y, r * 0.5, 0, 2 * Math.PI);
      ctx.fill();
      break;
    case 'timer':
      ctx.strokeStyle = C.timer;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.moveTo(x, y);
      ctx.lineTo(x, y - r * 0.8);
      ctx.moveTo(x, y);
      ctx.lineTo(x + r * 0.6, y);
      ctx.stroke();
      break;
    case 'fault':
      ctx.fillStyle = C.fault;
      ctx.fillRect(x - 1.5, y - r * 2.2, 3, r * 4.4);
      break;
    case 'injected-crash': {
      // A lightning bolt: the environment striking an actor down.
      ctx.fillStyle = C.drop;
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 1;
      const b = r * 1.5;
      ctx.beginPath();
      ctx.moveTo(x + b * 0.6, y - b * 1.6);
      ctx.lineTo(x - b * 0.8, y + b * 0.25);
      ctx.lineTo(x - b * 0.05, y + b * 0.25);
      ctx.lineTo(x - b * 0.6, y + b * 1.6);
      ctx.lineTo(x + b * 0.8, y - b * 0.25);
      ctx.lineTo(x + b * 0.05, y - b * 0.25);
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
      break;
    }
    default:
      if (e && e.value !== undefined) diamond(x, y, r * 1.5, '#fff', C.decide);
      else {
        ctx.fillStyle = '#94a3b8';
        ctx.beginPath();
        ctx.arc(x, y, r * 0.6, 0, 2 * Math.PI);
        ctx.fill();
      }
  }
}
function cross(x: number, y: number, r: number, color: string, width: number): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(x - r, y - r);
  ctx.lineTo(x + r, y + r);
  ctx.moveTo(x + r, y - r);
  ctx.lineTo(x - r, y + r);
  ctx.stroke();
}
function diamond(x: number, y: number, r: number, fill: string, edge: string): void {
  ctx.fillStyle = fill;
  ctx.strokeStyle = edge;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(x, y - r);
  ctx.lineTo(x + r, y);
  ctx.lineTo(x, y + r);
  ctx.lineTo(x - r, y);
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
}

// The legend uses the same marks, on little canvases of its own.
(function legend() {
  const box = byId('legend');
  const items: [Glyph | 'arrow' | 'dropped', string][] = [
    ['send', 'send'],
    ['receive', 'receive'],
    ['arrow', 'message'],
    ['dropped', 'dropped message'],
    ['persist', 'persist'],
    ['durable', 'write durable'],
    ['crash', 'crash'],
    ['injected-crash', 'crash injected'],
    ['restart', 'restart'],
    ['timer', 'timer'],
    ['propose', 'client request'],
    ['decide', 'decision'],
    ['fault', 'partition / heal'],
  ];
  const saved = ctx;
  for (const [kind, label] of items) {
    const c = el('canvas') as HTMLCanvasElement;
    c.width = 36;
    c.height = 28;
    ctx = context2d(c);
    ctx.scale(2, 2);
    if (kind === 'arrow' || kind === 'dropped') {
      ctx.strokeStyle = kind === 'arrow' ? C.arrow : C.drop;
      ctx.lineWidth = 1.5;
      if (kind === 'dropped') {
        // As drawn: from the send, bowing toward the receiver, back to the drop's mark.
        ctx.setLineDash([3, 2]);
        ctx.beginPath();
        ctx.moveTo(2, 9);
        ctx.quadraticCurveTo(8, 1, 13, 9);
        ctx.stroke();
        ctx.setLineDash([]);
        mark('drop', 14, 9, 2.6, C.drop);
      } else {
        ctx.beginPath();
        ctx.moveTo(1, 11);
        ctx.lineTo(15, 3);
        ctx.stroke();
      }
    } else mark(kind, 9, 7, 3.5, '#334155');
    const s = el('span');
    s.appendChild(c);
    s.appendChild(document.createTextNode(label));
    box.appendChild(s);
  }
  ctx = saved;
})();

// ---- geometry ---------------------------------------------------------
const OVERVIEW_H = 26;
const RULER_H = 22;
const GUTTER = 64;
const MAX_STEP = 120;
let W = 0;
let H = 0;
let dpr = 1;
let laneH = 40;
const view = { start: 0, step: 12, scrollY: 0 };
let selected: number | null = null;
let drawn: Drawn = { events: 0, arrows: 0, droppedArrows: 0, frames: 0, glyphs: {}, ruler: [] };

const top = () => OVERVIEW_H + RULER_H;
const plotW = () => Math.max(10, W - GUTTER);
const fitStep = () => plotW() / Math.max(1, n);
const xOf = (i: number) => GUTTER + (i - view.start + 0.5) * view.step;
const yOf = (lane: number) => top() + lane * laneH + laneH / 2 - view.scrollY;
const indexAtX = (x: number) => view.start + (x - GUTTER) / view.step - 0.5;

function resize(): void {
  const r = canvas.getBoundingClientRect();
  dpr = window.devicePixelRatio || 1;
  W = Math.max(100, r.width);
  H = Math.max(100, r.height);
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  laneH = Math.max(28, Math.min(90, (H - top() - 8) / Math.max(1, lanes.length)));
  clampView();
}

function clampView(): void {
  view.step = Math.min(MAX_STEP, Math.max(fitStep(), view.step));
  const visible = plotW() / view.step;
  view.start = Math.max(-0.5, Math.min(Math.max(-0.5, n - visible + 0.5), view.start));
  const contentH = lanes.length * laneH + 8;
  view.scrollY = Math.max(0, Math.min(Math.max(0, contentH - (H - top())), view.scrollY));
}

// ---- drawing ----------------------------------------------------------
let pending = false;
function requestDraw(): void {
  if (pending) return;
  pending = true;
  window.requestAnimationFrame(() => {
    pending = false;
    draw();
  });
}

function happenedBefore(a: TraceEvent, b: TraceEvent): boolean {
  return (b.vc[a.actor] ?? 0) >= (a.vc[a.actor] ?? 0);
}
function related(i: number): boolean {
  if (selected === null || !causalBox.checked) return true;
  const a = ev(i);
  const b = ev(selected);
  return happenedBefore(a, b) || happenedBefore(b, a);
}

function draw(): void {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const i0 = Math.max(0, Math.floor(indexAtX(GUTTER)) - 1);
  const i1 = Math.min(n - 1, Math.ceil(indexAtX(W)) + 1);
  const r = Math.max(1.5, Math.min(5, view.step * 0.35));
  const detail = view.step >= 3;

  // Lanes, clipped below the overview and ruler.
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, top(), W, H - top());
  ctx.clip();
  lanes.forEach((_name, l) => {
    const y = yOf(l);
    if (l % 2 === 1) {
      ctx.fillStyle = 'rgba(15, 23, 42, 0.025)';
      ctx.fillRect(GUTTER, y - laneH / 2, W - GUTTER, laneH);
    }
    ctx.strokeStyle = laneColor(l);
    ctx.globalAlpha = 0.35;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(GUTTER, y);
    ctx.lineTo(W, y);
    ctx.stroke();
    ctx.globalAlpha = 1;
  });
  for (const d of downs) {
    if (d.to < i0 || d.from > i1) continue;
    const y = yOf(d.lane);
    const xa = Math.max(GUTTER, xOf(d.from));
    const xb = Math.min(W, xOf(d.to));
    ctx.fillStyle = C.down;
    ctx.fillRect(xa, y - laneH * 0.32, xb - xa, laneH * 0.64);
  }

  for (const k of strikes) {
    if (k.at < i0 || k.at > i1) continue;
    const x = xOf(k.at);
    ctx.strokeStyle = C.drop;
    ctx.globalAlpha = related(k.at) ? 0.7 : 0.12;
    ctx.lineWidth = 1.2;
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(x, yOf(laneIndex(ev(k.at).actor)));
    ctx.lineTo(x, yOf(k.lane));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  }

  // Arrows that cross the visible window.
  let nArrows = 0;
  let nDropped = 0;
  ctx.lineWidth = 1;
  for (const a of arrows) {
    if (a.lo > i1 || a.hi < i0) continue;
    const hot = selected !== null && (a.s === selected || a.e === selected);
    const faded = !hot && selected !== null && causalBox.checked && !(related(a.s) && related(a.e));
    const x1 = xOf(a.s);
    const y1 = yOf(a.from);
    const x2 = xOf(a.e);
    const y2 = yOf(a.to);
    ctx.globalAlpha = faded ? 0.12 : 1;
    ctx.strokeStyle = hot ? (a.dropped ? C.drop : C.arrowHot) : a.dropped ? C.drop : C.arrow;
    ctx.lineWidth = hot ? 2.5 : a.dropped ? 1.3 : 1;
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    if (a.dropped) {
      // Dashed, and ending at the drop's own mark (drawn with the events), not
      // on the receiver's lane. A drop on the sender's lane would run along
      // it, so the line bows toward the receiver it was headed for.
      ctx.setLineDash([5, 3]);
      const bow = a.to === a.toward ? 0 : Math.sign(yOf(a.toward) - y1) * Math.min(laneH * 0.6, Math.abs(yOf(a.toward) - y1) / 2, 8 + Math.abs(x2 - x1) / 2);
      if (y1 === y2 && bow !== 0) ctx.quadraticCurveTo((x1 + x2) / 2, y1 + 2 * bow, x2, y2);
      else ctx.lineTo(x2, y2);
      ctx.stroke();
      ctx.setLineDash([]);
      nDropped++;
    } else {
      ctx.lineTo(x2, y2);
      ctx.stroke();
      if (detail) arrowHead(x1, y1, x2, y2, hot ? 8 : 6, r + 1.5);
    }
    nArrows++;
  }
  ctx.globalAlpha = 1;

  // Events of the visible window.
  let nEvents = 0;
  const glyphs: Partial<Record<Glyph, number>> = {};
  for (let i = i0; i <= i1; i++) {
    const e = ev(i);
    const lane = laneIndex(e.actor);
    const y = yOf(lane);
    if (y < top() - laneH || y > H + laneH) continue;
    ctx.globalAlpha = related(i) ? 1 : 0.18;
    const glyph = glyphOf(e);
    mark(glyph, xOf(i), y, r, laneColor(lane), e);
    glyphs[glyph] = (glyphs[glyph] ?? 0) + 1;
    nEvents++;
  }
  ctx.globalAlpha = 1;
  // Decided values are labelled wherever they are on screen.
  ctx.font = '600 11px system-ui, sans-serif';
  ctx.textBaseline = 'bottom';
  ctx.textAlign = 'center';
  for (const i of decides) {
    if (i < i0 || i > i1) continue;
    const e = ev(i);
    const x = xOf(i);
    const y = yOf(laneIndex(e.actor)) - r * 2 - 3;
    const label = e.value !== undefined ? e.value : 'decided';
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#fff';
    ctx.strokeText(label, x, y);
    ctx.fillStyle = C.decideEdge;
    ctx.fillText(label, x, y);
  }
  if (selected !== null && selected >= i0 - 1 && selected <= i1 + 1) {
    ctx.strokeStyle = '#111827';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(xOf(selected), yOf(laneIndex(ev(selected).actor)), Math.max(7, r + 4), 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.restore();

  drawGutter();
  const ruler = drawRuler();
  drawOverview();

  drawn = { events: nEvents, arrows: nArrows, droppedArrows: nDropped, frames: drawn.frames + 1, glyphs, ruler };
  canvas.dataset.lanes = String(lanes.length);
  canvas.dataset.eventsDrawn = String(nEvents);
  canvas.dataset.arrowsDrawn = String(nArrows);
  canvas.dataset.droppedDrawn = String(nDropped);
}

/** An arrowhead pointing at (x2, y2), its tip stopping short by gap (the receive mark's radius). */
function arrowHead(x1: number, y1: number, x2: number, y2: number, size: number, gap: number): void {
  const ang = Math.atan2(y2 - y1, x2 - x1);
  const tx = x2 - gap * Math.cos(ang);
  const ty = y2 - gap * Math.sin(ang);
  ctx.fillStyle = ctx.strokeStyle;
  ctx.beginPath();
  ctx.moveTo(tx, ty);
  ctx.lineTo(tx - size * Math.cos(ang - 0.4), ty - size * Math.sin(ang - 0.4));
  ctx.lineTo(tx - size * Math.cos(ang + 0.4), ty - size * Math.sin(ang + 0.4));
  ctx.closePath();
  ctx.fill();
}

function drawGutter(): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, top(), GUTTER, H - top());
  ctx.clip();
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, top(), GUTTER, H - top());
  ctx.strokeStyle = '#d9dde5';
  ctx.beginPath();
  ctx.moveTo(GUTTER - 0.5, top());
  ctx.lineTo(GUTTER - 0.5, H);
  ctx.stroke();
  ctx.font = '600 12px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  lanes.forEach((name, l) => {
    ctx.fillStyle = laneColor(l);
    ctx.fillText(name.length > 9 ? `${name.slice(0, 8)}\u2026` : name, GUTTER - 8, yOf(l));
  });
  ctx.restore();
}

/** Draws the ruler (event numbers and times since the start); returns its labels. */
function drawRuler(): string[] {
  const y0 = OVERVIEW_H;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, y0, W, RULER_H);
  ctx.strokeStyle = '#d9dde5';
  ctx.beginPath();
  ctx.moveTo(0, y0 + RULER_H - 0.5);
  ctx.lineTo(W, y0 + RULER_H - 0.5);
  ctx.stroke();
  let every = 1;
  const choices = [1, 2, 5];
  for (let p = 1; every * view.step < 110; p *= 10) {
    for (let c = 0; c < choices.length && every * view.step < 110; c++) every = (choices[c] as number) * p;
  }
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#6b7280';
  const first = Math.max(0, Math.ceil(indexAtX(GUTTER) / every) * every);
  const labels: string[] = [];
  for (let i = first; i < n && xOf(i) <= W; i += every) {
    const x = xOf(i);
    const label = `#${i} t=${sinceStart(ev(i))}`;
    ctx.fillRect(x, y0 + RULER_H - 6, 1, 6);
    ctx.fillText(label, x + 3, y0 + RULER_H / 2 - 1);
    labels.push(label);
  }
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, y0, GUTTER, RULER_H);
  ctx.fillStyle = '#6b7280';
  ctx.textAlign = 'right';
  ctx.fillText('event', GUTTER - 8, y0 + RULER_H / 2 - 1);
  return labels;
}

// The overview: a minimap of the whole run (a thin row per lane, shaded where
// that lane is busy), crashes in red, decisions in gold, and the visible window.
let minimap: { width: number; counts: Uint16Array; max: number } | null = null;
function drawOverview(): void {
  const w = Math.ceil(plotW());
  const rowH = (OVERVIEW_H - 4) / Math.max(1, lanes.length);
  if (!minimap || minimap.width !== w) {
    const counts = new Uint16Array(w * lanes.length);
    let max = 1;
    for (let i = 0; i < n; i++) {
      const c = laneIndex(ev(i).actor) * w + Math.min(w - 1, Math.floor((i / n) * w));
      counts[c] = (counts[c] as number) + 1;
      if ((counts[c] as number) > max) max = counts[c] as number;
    }
    minimap = { width: w, counts, max };
  }
  const map = minimap;
  ctx.fillStyle = '#eef0f4';
  ctx.fillRect(0, 0, W, OVERVIEW_H);
  for (let l = 0; l < lanes.length; l++) {
    ctx.fillStyle = laneColor(l);
    for (let col = 0; col < w; col++) {
      const k = map.counts[l * w + col] as number;
      if (k === 0) continue;
      ctx.globalAlpha = 0.25 + 0.75 * Math.sqrt(k / map.max);
      ctx.fillRect(GUTTER + col, 2 + l * rowH, 1, Math.max(1, rowH));
    }
  }
  ctx.globalAlpha = 1;
  const tick = (i: number, color: string) => {
    ctx.fillStyle = color;
    ctx.fillRect(GUTTER + (i / Math.max(1, n)) * w - 1, 1, 2, OVERVIEW_H - 2);
  };
  for (const d of downs) tick(d.from, C.drop);
  for (const i of decides) tick(i, C.decide);
  const a = GUTTER + Math.max(0, (view.start + 0.5) / Math.max(1, n)) * w;
  const b = GUTTER + Math.min(1, (indexAtX(W) + 0.5) / Math.max(1, n)) * w;
  ctx.strokeStyle = '#2457c5';
  ctx.lineWidth = 1.5;
  ctx.strokeRect(a, 1, Math.max(3, b - a), OVERVIEW_H - 2);
  ctx.fillStyle = '#eef0f4';
  ctx.fillRect(0, 0, GUTTER, OVERVIEW_H);
  ctx.fillStyle = '#6b7280';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ctx.fillText('overview', GUTTER - 8, OVERVIEW_H / 2);
}

// ---- hit-testing and selection ----------------------------------------
function eventAt(x: number, y: number): number | null {
  if (y < top() || x < GUTTER || n === 0) return null;
  const lane = Math.floor((y - top() + view.scrollY) / laneH);
  if (lane < 0 || lane >= lanes.length) return null;
  const list = laneEvents[lane] as number[];
  if (list.length === 0) return null;
  const target = indexAtX(x);
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  let best: number | null = null;
  let bestD = Infinity;
  for (let k = Math.max(0, lo - 1); k <= Math.min(list.length - 1, lo + 1); k++) {
    const d = Math.abs(xOf(list[k] as number) - x);
    if (d < bestD) {
      bestD = d;
      best = list[k] as number;
    }
  }
  return bestD <= Math.max(8, view.step / 2) ? best : null;
}

function positionOf(i: number): { x: number; y: number; visible: boolean } | null {
  if (i < 0 || i >= n) return null;
  const x = xOf(i);
  const y = yOf(laneIndex(ev(i).actor));
  return { x, y, visible: x >= GUTTER && x <= W && y >= top() && y <= H };
}

function select(i: number | null | undefined): void {
  selected = i === null || i === undefined || i < 0 || i >= n ? null : i;
  canvas.dataset.selected = selected === null ? '' : String(selected);
  showPanel();
  draw();
}

function show(i: number): void {
  if (i < 0 || i >= n) return;
  const visible = plotW() / view.step;
  if (i < view.start + 1 || i > view.start + visible - 2) view.start = i - visible / 2;
  const y = yOf(laneIndex(ev(i).actor));
  if (y < top() + laneH / 2 || y > H - laneH / 2) view.scrollY += y - (top() + (H - top()) / 2);
  clampView();
  select(i);
}

function jumpButton(label: string, i: number): HTMLElement {
  const b = el('button', 'jump', label) as HTMLButtonElement;
  b.type = 'button';
  b.addEventListener('click', () => show(i));
  return b;
}

function showPanel(): void {
  panel.textContent = '';
  panel.dataset.index = selected === null ? '' : String(selected);
  if (selected === null) {
    panel.appendChild(el('p', 'empty', 'Click an event to see its text and vector clock.'));
    return;
  }
  const sel = selected;
  const e = ev(sel);
  panel.appendChild(el('h2', null, `#${e.index} ${e.kind} on ${e.actor}`));
  panel.appendChild(el('pre', 'text', e.text));
  const dl = el('dl');
  const row = (k: string, v: string | HTMLElement) => {
    dl.appendChild(el('dt', null, k));
    const dd = el('dd');
    if (typeof v === 'string') dd.textContent = v;
    else dd.appendChild(v);
    dl.appendChild(dd);
  };
  row('lane', e.actor);
  row('kind', e.kind);
  row('time', `${sinceStart(e)} since the start`);
  // A cluster's clock does not start at the first event; its own reading helps match other logs.
  if (t0 !== 0) row('clock', `${e.time} ms`);
  if (e.msg !== undefined) row('message', e.msg);
  if (e.from !== undefined) row('from', e.from);
  if (e.to !== undefined) row('to', e.to);
  if (e.value !== undefined) row('value', e.value);
  if (e.msg !== undefined) {
    const sentAt = sendOf.get(e.msg);
    if (e.kind !== 'send' && sentAt !== undefined) row('sent at', jumpButton(`#${sentAt}`, sentAt));
    if (e.kind === 'send') {
      const ends = endsOf.get(e.msg) ?? [];
      if (ends.length === 0) row('fate', 'not received by the end of the trace');
      for (const j of ends) row(ev(j).kind === 'drop' ? 'dropped at' : 'received at', jumpButton(`#${j}`, j));
    }
  }
  panel.appendChild(dl);
  const laneList = laneEvents[laneIndex(e.actor)] as number[];
  const pos = laneList.indexOf(sel);
  const nav = el('div');
  if (pos > 0) {
    nav.appendChild(jumpButton(`\u2190 previous on ${e.actor}`, laneList[pos - 1] as number));
    nav.appendChild(document.createTextNode('  '));
  }
  if (pos >= 0 && pos < laneList.length - 1) nav.appendChild(jumpButton(`next on ${e.actor} \u2192`, laneList[pos + 1] as number));
  panel.appendChild(nav);
  panel.appendChild(el('h3', null, 'vector clock'));
  const table = el('table', 'vc');
  for (const l of lanes) {
    const v = e.vc[l] ?? 0;
    const tr = el('tr', l === e.actor ? 'own' : v === 0 ? 'zero' : null);
    tr.appendChild(el('td', null, l));
    tr.appendChild(el('td', null, String(v)));
    table.appendChild(tr);
  }
  panel.appendChild(table);
}

// ---- input --------------------------------------------------------------
function zoom(factor: number, atX?: number): void {
  const x = atX === undefined ? GUTTER + plotW() / 2 : atX;
  const idx = indexAtX(x);
  view.step = Math.min(MAX_STEP, Math.max(fitStep(), view.step * factor));
  view.start = idx - (x - GUTTER) / view.step + 0.5;
  clampView();
  requestDraw();
}
function panBy(dx: number, dy?: number): void {
  view.start -= dx / view.step;
  view.scrollY -= dy ?? 0;
  clampView();
  requestDraw();
}
function fit(): void {
  view.step = fitStep();
  view.start = -0.5;
  view.scrollY = 0;
  clampView();
  requestDraw();
}

function local(e: MouseEvent): { x: number; y: number } {
  const r = canvas.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

canvas.addEventListener(
  'wheel',
  (e) => {
    e.preventDefault();
    const p = local(e);
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) panBy(-(e.deltaX || e.deltaY), 0);
    else zoom(Math.exp(-e.deltaY * 0.0015), p.x);
  },
  { passive: false },
);

let drag: { overview: true } | { overview: false; x: number; y: number; moved: boolean } | null = null;
canvas.addEventListener('pointerdown', (e) => {
  const p = local(e);
  if (p.y < OVERVIEW_H) {
    jumpTo(p.x);
    drag = { overview: true };
    canvas.setPointerCapture(e.pointerId);
    return;
  }
  drag = { overview: false, x: e.clientX, y: e.clientY, moved: false };
  canvas.setPointerCapture(e.pointerId);
  canvas.focus();
});
canvas.addEventListener('pointermove', (e) => {
  if (!drag) return;
  if (drag.overview) {
    jumpTo(local(e).x);
    return;
  }
  const dx = e.clientX - drag.x;
  const dy = e.clientY - drag.y;
  if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
  drag.moved = true;
  canvas.classList.add('dragging');
  drag.x = e.clientX;
  drag.y = e.clientY;
  panBy(dx, dy);
});
canvas.addEventListener('pointerup', (e) => {
  const d = drag;
  drag = null;
  canvas.classList.remove('dragging');
  if (!d || d.overview || d.moved) return;
  const p = local(e);
  select(eventAt(p.x, p.y));
});

function jumpTo(x: number): void {
  const frac = Math.max(0, Math.min(1, (x - GUTTER) / plotW()));
  view.start = frac * n - plotW() / view.step / 2;
  clampView();
  requestDraw();
}

function step(delta: number): void {
  if (selected === null) return;
  const list = laneEvents[laneIndex(ev(selected).actor)] as number[];
  const pos = list.indexOf(selected) + delta;
  if (pos >= 0 && pos < list.length) show(list[pos] as number);
}

window.addEventListener('keydown', (e) => {
  const target = e.target as HTMLInputElement | null;
  if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA') && target.type !== 'checkbox') return;
  const page = plotW() * 0.8;
  switch (e.key) {
    case '+':
    case '=':
      zoom(1.5);
      break;
    case '-':
    case '_':
      zoom(1 / 1.5);
      break;
    case '0':
    case 'f':
      fit();
      break;
    case 'ArrowLeft':
      panBy(e.shiftKey ? page : 80, 0);
      break;
    case 'ArrowRight':
      panBy(e.shiftKey ? -page : -80, 0);
      break;
    case 'ArrowUp':
      panBy(0, 40);
      break;
    case 'ArrowDown':
      panBy(0, -40);
      break;
    case 'Home':
      view.start = -0.5;
      clampView();
      requestDraw();
      break;
    case 'End':
      view.start = n;
      clampView();
      requestDraw();
      break;
    case '[':
      step(-1);
      break;
    case ']':
      step(1);
      break;
    case 'c':
      causalBox.checked = !causalBox.checked;
      requestDraw();
      break;
    case 'Escape':
      select(null);
      break;
    default:
      return;
  }
  e.preventDefault();
});

byId('zoom-in').addEventListener('click', () => zoom(1.5));
byId('zoom-out').addEventListener('click', () => zoom(1 / 1.5));
byId('fit').addEventListener('click', fit);
byId('pan-left').addEventListener('click', () => panBy(plotW() * 0.5, 0));
byId('pan-right').addEventListener('click', () => panBy(-plotW() * 0.5, 0));
causalBox.addEventListener('change', requestDraw);
window.addEventListener('resize', () => {
  resize();
  draw();
});

// ---- start --------------------------------------------------------------
resize();
// Small traces fit the window; large ones open readable at the start (the overview shows the rest).
if (fitStep() >= 6) fit();
else {
  view.step = 14;
  view.start = -0.5;
  clampView();
}
draw();

window.synodTrace = {
  ready: true,
  lanes: lanes.length,
  laneNames: lanes.slice(),
  events: n,
  arrows: arrows.length,
  droppedArrows: droppedTotal,
  decisions: decides.length,
  timeOrigin: t0,
  get drawn() {
    return { ...drawn, glyphs: { ...drawn.glyphs }, ruler: drawn.ruler.slice() };
  },
  get selected() {
    return selected;
  },
  get view() {
    return { start: view.start, step: view.step, scrollY: view.scrollY, laneHeight: laneH, width: W, height: H };
  },
  positionOf,
  eventAt,
  select,
  show,
  fit: () => {
    fit();
    draw();
  },
  zoom: (factor, atX) => {
    zoom(factor, atX);
    draw();
  },
  panBy: (dx, dy) => {
    panBy(dx, dy);
    draw();
  },
};
canvas.dataset.events = String(n);
canvas.dataset.arrows = String(arrows.length);
canvas.dataset.droppedArrows = String(droppedTotal);
document.body.dataset.ready = 'true';
