/**
 * The code of the HTML trace viewer, inlined by `html.ts` into each page.
 * Plain browser JavaScript in a string (it runs in the page, not in Node).
 *
 * It draws a space-time diagram on one <canvas>: lanes are rows (one per
 * actor), events sit at x = their position in the trace, messages are arrows
 * from a send to its receive (or, dashed red and ending in a cross, to where
 * it was dropped). Only the visible window is drawn, and a click is mapped
 * back to an event by arithmetic and a binary search on that lane, so a trace
 * of tens of thousands of events stays responsive. Wheel zooms around the
 * pointer, dragging pans, the strip at the top is an overview of the whole
 * run (click it to jump), and the side panel shows the clicked event's text,
 * its message partner and its vector clock.
 *
 * For tests and scripting it publishes `window.synodTrace` (counts of lanes,
 * events, arrows and dropped arrows; what the last frame drew; positionOf,
 * eventAt, select, fit, zoom) and mirrors the counts as data attributes of
 * the canvas.
 */

export const VIEWER_CSS = String.raw`
:root { --bg: #fbfbfc; --fg: #1d2330; --muted: #6b7280; --line: #d9dde5; --panel: #f3f4f7; --accent: #2457c5; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: var(--bg); color: var(--fg); font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
body { display: flex; flex-direction: column; }
header { padding: 8px 12px 6px; border-bottom: 1px solid var(--line); }
h1 { font-size: 15px; margin: 0 0 2px; font-weight: 600; }
#summary { color: var(--muted); margin-bottom: 6px; }
#summary .decided { color: #8a5a00; font-weight: 600; }
#summary .violation { color: #b91c1c; font-weight: 600; }
#controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
#controls button { min-width: 30px; padding: 2px 8px; border: 1px solid var(--line); border-radius: 4px; background: #fff; cursor: pointer; font: inherit; }
#controls button:hover { border-color: var(--accent); }
#controls .hint { color: var(--muted); margin-left: 8px; }
#legend { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 6px; color: var(--muted); }
#legend span { display: inline-flex; align-items: center; gap: 4px; }
#legend canvas { width: 18px; height: 14px; }
main { flex: 1; display: flex; min-height: 0; }
#stage { flex: 1; position: relative; min-width: 0; }
#diagram { position: absolute; inset: 0; width: 100%; height: 100%; display: block; cursor: grab; outline: none; }
#diagram.dragging { cursor: grabbing; }
#panel { width: 340px; flex: none; overflow: auto; border-left: 1px solid var(--line); background: var(--panel); padding: 10px 12px; }
#panel .empty { color: var(--muted); }
#panel h2 { font-size: 14px; margin: 0 0 6px; }
#panel .text { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px; font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0 0 8px; }
#panel dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0 0 8px; }
#panel dt { color: var(--muted); }
#panel dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
#panel button.jump { border: none; background: none; color: var(--accent); cursor: pointer; padding: 0; font: inherit; text-decoration: underline; }
#panel h3 { font-size: 12px; margin: 10px 0 4px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; }
#panel table { border-collapse: collapse; font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
#panel td { padding: 1px 10px 1px 0; }
#panel tr.own td { font-weight: 700; }
#panel tr.zero td { color: var(--muted); }
`;

export const VIEWER_JS = String.raw`
(function () {
  'use strict';

  // ---- the data ---------------------------------------------------------
  var trace = JSON.parse(document.getElementById('synod-trace-data').textContent);
  var events = trace.events;
  var n = events.length;

  // Lanes: the declared order, then any actor that only shows up in events.
  var lanes = trace.actors.slice();
  var laneOf = Object.create(null);
  lanes.forEach(function (a, i) { laneOf[a] = i; });
  events.forEach(function (e) { if (!(e.actor in laneOf)) { laneOf[e.actor] = lanes.length; lanes.push(e.actor); } });

  // Event indices per lane, in order (for hit-testing by binary search).
  var laneEvents = lanes.map(function () { return []; });
  events.forEach(function (e, i) { laneEvents[laneOf[e.actor]].push(i); });

  // Messages: a send, and where its copy ended (a receive or a drop). Sends are
  // collected first, so a trace recorded out of order still pairs them.
  var sendOf = Object.create(null);
  var endsOf = Object.create(null);
  var arrows = [];
  var droppedTotal = 0;
  events.forEach(function (e, i) { if (e.msg !== undefined && e.kind === 'send') sendOf[e.msg] = i; });
  events.forEach(function (e, i) {
    if (e.msg === undefined || (e.kind !== 'receive' && e.kind !== 'drop')) return;
    (endsOf[e.msg] = endsOf[e.msg] || []).push(i);
    var s = sendOf[e.msg];
    if (s === undefined) return;
    var dropped = e.kind === 'drop';
    var toLane = dropped ? (e.to !== undefined && e.to in laneOf ? laneOf[e.to] : laneOf[e.actor]) : laneOf[e.actor];
    arrows.push({ s: s, e: i, lo: Math.min(s, i), hi: Math.max(s, i), from: laneOf[events[s].actor], to: toLane, dropped: dropped });
    if (dropped) droppedTotal++;
  });

  // Down periods: from a crash to the next restart on the same lane.
  var downs = [];
  var crashedAt = Object.create(null);
  events.forEach(function (e, i) {
    if (e.kind === 'crash') crashedAt[e.actor] = i;
    if (e.kind === 'restart' && crashedAt[e.actor] !== undefined) { downs.push({ lane: laneOf[e.actor], from: crashedAt[e.actor], to: i }); delete crashedAt[e.actor]; }
  });
  Object.keys(crashedAt).forEach(function (a) { downs.push({ lane: laneOf[a], from: crashedAt[a], to: n }); });

  var decides = [];
  events.forEach(function (e, i) { if (e.kind === 'decide') decides.push(i); });

  // ---- the page around the canvas --------------------------------------
  var canvas = document.getElementById('diagram');
  var ctx = canvas.getContext('2d');
  var panel = document.getElementById('panel');
  var causalBox = document.getElementById('causal');

  function el(tag, cls, text) {
    var x = document.createElement(tag);
    if (cls) x.className = cls;
    if (text !== undefined) x.textContent = text;
    return x;
  }

  (function summary() {
    var s = trace.source || {};
    var box = document.getElementById('summary');
    var parts = [];
    if (s.kind === 'sim') parts.push('simulator, seed ' + s.seed + (s.bug ? ', bug ' + s.bug : ''));
    else if (s.kind) parts.push(String(s.kind));
    parts.push(n + ' events, ' + lanes.length + ' lanes, ' + arrows.length + ' messages (' + droppedTotal + ' dropped)');
    box.appendChild(document.createTextNode(parts.join(' \u00b7 ')));
    // What each lane decided (its last decision, when it made several, as a replicated log does).
    var byLearner = Object.create(null);
    decides.forEach(function (i) { var e = events[i]; byLearner[e.actor] = e.value !== undefined ? e.value : e.text; });
    var learners = Object.keys(byLearner);
    if (learners.length > 0) {
      box.appendChild(document.createTextNode(' \u00b7 '));
      var label = decides.length > learners.length ? decides.length + ' decisions, the last: ' : 'decided: ';
      box.appendChild(el('span', 'decided', label + learners.map(function (l) { return l + '=' + byLearner[l]; }).join(' ')));
    }
    if (typeof s.violations === 'number' && s.violations > 0) {
      box.appendChild(document.createTextNode(' \u00b7 '));
      box.appendChild(el('span', 'violation', s.violations + ' safety violation(s) in this run'));
    }
  })();

  // ---- looks ------------------------------------------------------------
  var ROLE_COLORS = { p: '#6d3fc0', a: '#0f7c74', l: '#a86200' };
  function laneColor(lane) {
    var name = lanes[lane];
    if (name === 'env' || name === 'main') return '#6b7280';
    return ROLE_COLORS[name.charAt(0)] || '#334155';
  }
  var C = { arrow: 'rgba(55, 72, 110, 0.55)', arrowHot: '#111827', drop: '#d12c2c', persist: '#2b6cb0', restart: '#1b8a3a', decide: '#f2b705', decideEdge: '#7a5300', timer: '#d97706', fault: '#6b7280', down: 'rgba(209, 44, 44, 0.08)' };

  // Draws the mark of one event kind centred at (x, y); r is the size.
  function mark(kind, x, y, r, color, e) {
    ctx.lineWidth = 1.5;
    switch (kind) {
      case 'send':
        ctx.fillStyle = color; ctx.beginPath(); ctx.arc(x, y, r * 0.8, 0, 2 * Math.PI); ctx.fill(); break;
      case 'receive':
        ctx.strokeStyle = color; ctx.fillStyle = '#fff'; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill(); ctx.stroke(); break;
      case 'drop':
        cross(x, y, r, C.drop, 2); break;
      case 'persist':
        ctx.strokeStyle = C.persist; ctx.fillStyle = '#fff'; ctx.fillRect(x - r, y - r, 2 * r, 2 * r); ctx.strokeRect(x - r, y - r, 2 * r, 2 * r); break;
      case 'durable':
        ctx.fillStyle = C.persist; ctx.fillRect(x - r, y - r, 2 * r, 2 * r); break;
      case 'crash':
        cross(x, y, r * 1.7, '#fff', 5); cross(x, y, r * 1.7, C.drop, 3); break;
      case 'restart':
        ctx.fillStyle = C.restart; ctx.beginPath(); ctx.moveTo(x, y - r * 1.6); ctx.lineTo(x + r * 1.4, y + r); ctx.lineTo(x - r * 1.4, y + r); ctx.closePath(); ctx.fill(); break;
      case 'decide':
        diamond(x, y, r * 2, C.decide, C.decideEdge); break;
      case 'propose':
        ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(x, y, r * 1.3, 0, 2 * Math.PI); ctx.stroke();
        ctx.fillStyle = color; ctx.beginPath(); ctx.arc(x, y, r * 0.5, 0, 2 * Math.PI); ctx.fill(); break;
      case 'timer':
        ctx.strokeStyle = C.timer; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.moveTo(x, y); ctx.lineTo(x, y - r * 0.8); ctx.moveTo(x, y); ctx.lineTo(x + r * 0.6, y); ctx.stroke(); break;
      case 'fault':
        ctx.fillStyle = C.fault; ctx.fillRect(x - 1.5, y - r * 2.2, 3, r * 4.4); break;
      default:
        if (e && e.value !== undefined) diamond(x, y, r * 1.5, '#fff', C.decide);
        else { ctx.fillStyle = '#94a3b8'; ctx.beginPath(); ctx.arc(x, y, r * 0.6, 0, 2 * Math.PI); ctx.fill(); }
    }
  }
  function cross(x, y, r, color, width) {
    ctx.strokeStyle = color; ctx.lineWidth = width; ctx.beginPath();
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r); ctx.stroke();
  }
  function diamond(x, y, r, fill, edge) {
    ctx.fillStyle = fill; ctx.strokeStyle = edge; ctx.lineWidth = 1.5; ctx.beginPath();
    ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); ctx.fill(); ctx.stroke();
  }

  // The legend uses the same marks, on little canvases of its own.
  (function legend() {
    var box = document.getElementById('legend');
    var items = [['send', 'send'], ['receive', 'receive'], ['arrow', 'message'], ['dropped', 'dropped message'], ['persist', 'persist'], ['durable', 'write durable'],
      ['crash', 'crash'], ['restart', 'restart'], ['timer', 'timer'], ['propose', 'client request'], ['decide', 'decision'], ['fault', 'partition / heal']];
    var saved = ctx;
    items.forEach(function (it) {
      var c = el('canvas'); c.width = 36; c.height = 28;
      ctx = c.getContext('2d'); ctx.scale(2, 2);
      if (it[0] === 'arrow' || it[0] === 'dropped') {
        ctx.strokeStyle = it[0] === 'arrow' ? C.arrow : C.drop; ctx.lineWidth = 1.5;
        if (it[0] === 'dropped') ctx.setLineDash([3, 2]);
        ctx.beginPath(); ctx.moveTo(1, 11); ctx.lineTo(15, 3); ctx.stroke(); ctx.setLineDash([]);
        if (it[0] === 'dropped') cross(15, 3, 2.5, C.drop, 1.5);
      } else mark(it[0], 9, 7, 3.5, '#334155');
      var s = el('span'); s.appendChild(c); s.appendChild(document.createTextNode(it[1])); box.appendChild(s);
    });
    ctx = saved;
  })();

  // ---- geometry ---------------------------------------------------------
  var OVERVIEW_H = 26, RULER_H = 22, GUTTER = 64, MAX_STEP = 120;
  var W = 0, H = 0, dpr = 1, laneH = 40;
  var view = { start: 0, step: 12, scrollY: 0 };
  var selected = null;
  var drawn = { events: 0, arrows: 0, droppedArrows: 0, frames: 0 };

  function top() { return OVERVIEW_H + RULER_H; }
  function plotW() { return Math.max(10, W - GUTTER); }
  function fitStep() { return plotW() / Math.max(1, n); }
  function xOf(i) { return GUTTER + (i - view.start + 0.5) * view.step; }
  function yOf(lane) { return top() + lane * laneH + laneH / 2 - view.scrollY; }
  function indexAtX(x) { return view.start + (x - GUTTER) / view.step - 0.5; }

  function resize() {
    var r = canvas.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    W = Math.max(100, r.width); H = Math.max(100, r.height);
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
    laneH = Math.max(28, Math.min(90, (H - top() - 8) / Math.max(1, lanes.length)));
    clampView();
  }

  function clampView() {
    view.step = Math.min(MAX_STEP, Math.max(fitStep(), view.step));
    var visible = plotW() / view.step;
    view.start = Math.max(-0.5, Math.min(Math.max(-0.5, n - visible + 0.5), view.start));
    var contentH = lanes.length * laneH + 8;
    view.scrollY = Math.max(0, Math.min(Math.max(0, contentH - (H - top())), view.scrollY));
  }

  // ---- drawing ----------------------------------------------------------
  var pending = false;
  function requestDraw() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; draw(); });
  }

  function formatTime(t) { return typeof t === 'number' && !Number.isInteger(t) ? String(Math.round(t * 1000) / 1000) : String(t); }

  function happenedBefore(a, b) { return (b.vc[a.actor] || 0) >= (a.vc[a.actor] || 0); }
  function related(i) {
    if (selected === null || !causalBox.checked) return true;
    var a = events[i], b = events[selected];
    return happenedBefore(a, b) || happenedBefore(b, a);
  }

  function draw() {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    var i0 = Math.max(0, Math.floor(indexAtX(GUTTER)) - 1);
    var i1 = Math.min(n - 1, Math.ceil(indexAtX(W)) + 1);
    var r = Math.max(1.5, Math.min(5, view.step * 0.35));
    var detail = view.step >= 3;

    // Lanes, clipped below the overview and ruler.
    ctx.save();
    ctx.beginPath(); ctx.rect(0, top(), W, H - top()); ctx.clip();
    lanes.forEach(function (name, l) {
      var y = yOf(l);
      if (l % 2 === 1) { ctx.fillStyle = 'rgba(15, 23, 42, 0.025)'; ctx.fillRect(GUTTER, y - laneH / 2, W - GUTTER, laneH); }
      ctx.strokeStyle = laneColor(l); ctx.globalAlpha = 0.35; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(GUTTER, y); ctx.lineTo(W, y); ctx.stroke(); ctx.globalAlpha = 1;
    });
    downs.forEach(function (d) {
      if (d.to < i0 || d.from > i1) return;
      var y = yOf(d.lane), xa = Math.max(GUTTER, xOf(d.from)), xb = Math.min(W, xOf(d.to));
      ctx.fillStyle = C.down; ctx.fillRect(xa, y - laneH * 0.32, xb - xa, laneH * 0.64);
    });

    // Arrows that cross the visible window.
    var nArrows = 0, nDropped = 0;
    ctx.lineWidth = 1;
    for (var k = 0; k < arrows.length; k++) {
      var a = arrows[k];
      if (a.lo > i1 || a.hi < i0) continue;
      var hot = selected !== null && (a.s === selected || a.e === selected);
      var faded = !hot && selected !== null && causalBox.checked && !(related(a.s) && related(a.e));
      var x1 = xOf(a.s), y1 = yOf(a.from), x2 = xOf(a.e), y2 = yOf(a.to);
      ctx.globalAlpha = faded ? 0.12 : 1;
      ctx.strokeStyle = hot ? (a.dropped ? C.drop : C.arrowHot) : (a.dropped ? C.drop : C.arrow);
      ctx.lineWidth = hot ? 2.5 : (a.dropped ? 1.3 : 1);
      if (a.dropped) ctx.setLineDash([5, 3]);
      ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
      ctx.setLineDash([]);
      if (a.dropped) { cross(x2, y2, Math.max(3, r), C.drop, hot ? 2.5 : 1.5); nDropped++; }
      else if (detail) arrowHead(x1, y1, x2, y2, hot ? 8 : 6, r + 1.5);
      nArrows++;
    }
    ctx.globalAlpha = 1;

    // Events of the visible window.
    var nEvents = 0;
    for (var i = i0; i <= i1; i++) {
      var e = events[i], lane = laneOf[e.actor], y = yOf(lane);
      if (y < top() - laneH || y > H + laneH) continue;
      ctx.globalAlpha = related(i) ? 1 : 0.18;
      mark(e.kind, xOf(i), y, r, laneColor(lane), e);
      nEvents++;
    }
    ctx.globalAlpha = 1;
    // Decided values are labelled wherever they are on screen.
    ctx.font = '600 11px system-ui, sans-serif'; ctx.textBaseline = 'bottom'; ctx.textAlign = 'center';
    decides.forEach(function (i) {
      if (i < i0 || i > i1) return;
      var e = events[i], x = xOf(i), y = yOf(laneOf[e.actor]) - r * 2 - 3;
      var label = e.value !== undefined ? e.value : 'decided';
      ctx.lineWidth = 3; ctx.strokeStyle = '#fff'; ctx.strokeText(label, x, y);
      ctx.fillStyle = C.decideEdge; ctx.fillText(label, x, y);
    });
    if (selected !== null && selected >= i0 - 1 && selected <= i1 + 1) {
      ctx.strokeStyle = '#111827'; ctx.lineWidth = 2; ctx.beginPath();
      ctx.arc(xOf(selected), yOf(laneOf[events[selected].actor]), Math.max(7, r + 4), 0, 2 * Math.PI); ctx.stroke();
    }
    ctx.restore();

    drawGutter();
    drawRuler();
    drawOverview();

    drawn = { events: nEvents, arrows: nArrows, droppedArrows: nDropped, frames: drawn.frames + 1 };
    canvas.dataset.lanes = String(lanes.length);
    canvas.dataset.eventsDrawn = String(nEvents);
    canvas.dataset.arrowsDrawn = String(nArrows);
    canvas.dataset.droppedDrawn = String(nDropped);
  }

  // An arrowhead pointing at (x2, y2), its tip stopping short by gap (the receive mark's radius).
  function arrowHead(x1, y1, x2, y2, size, gap) {
    var ang = Math.atan2(y2 - y1, x2 - x1);
    x2 -= gap * Math.cos(ang); y2 -= gap * Math.sin(ang);
    ctx.fillStyle = ctx.strokeStyle; ctx.beginPath();
    ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - size * Math.cos(ang - 0.4), y2 - size * Math.sin(ang - 0.4));
    ctx.lineTo(x2 - size * Math.cos(ang + 0.4), y2 - size * Math.sin(ang + 0.4));
    ctx.closePath(); ctx.fill();
  }

  function drawGutter() {
    ctx.save();
    ctx.beginPath(); ctx.rect(0, top(), GUTTER, H - top()); ctx.clip();
    ctx.fillStyle = '#fff'; ctx.fillRect(0, top(), GUTTER, H - top());
    ctx.strokeStyle = '#d9dde5'; ctx.beginPath(); ctx.moveTo(GUTTER - 0.5, top()); ctx.lineTo(GUTTER - 0.5, H); ctx.stroke();
    ctx.font = '600 12px system-ui, sans-serif'; ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    lanes.forEach(function (name, l) {
      ctx.fillStyle = laneColor(l);
      ctx.fillText(name.length > 9 ? name.slice(0, 8) + '\u2026' : name, GUTTER - 8, yOf(l));
    });
    ctx.restore();
  }

  function drawRuler() {
    var y0 = OVERVIEW_H;
    ctx.fillStyle = '#fff'; ctx.fillRect(0, y0, W, RULER_H);
    ctx.strokeStyle = '#d9dde5'; ctx.beginPath(); ctx.moveTo(0, y0 + RULER_H - 0.5); ctx.lineTo(W, y0 + RULER_H - 0.5); ctx.stroke();
    var every = 1;
    var choices = [1, 2, 5];
    for (var p = 1; every * view.step < 110; p *= 10) {
      for (var c = 0; c < choices.length && every * view.step < 110; c++) every = choices[c] * p;
    }
    ctx.font = '11px system-ui, sans-serif'; ctx.textAlign = 'left'; ctx.textBaseline = 'middle'; ctx.fillStyle = '#6b7280';
    var first = Math.max(0, Math.ceil(indexAtX(GUTTER) / every) * every);
    for (var i = first; i < n && xOf(i) <= W; i += every) {
      var x = xOf(i);
      ctx.fillRect(x, y0 + RULER_H - 6, 1, 6);
      ctx.fillText('#' + i + ' t=' + formatTime(events[i].time), x + 3, y0 + RULER_H / 2 - 1);
    }
    ctx.fillStyle = '#fff'; ctx.fillRect(0, y0, GUTTER, RULER_H);
    ctx.fillStyle = '#6b7280'; ctx.textAlign = 'right'; ctx.fillText('event', GUTTER - 8, y0 + RULER_H / 2 - 1);
  }

  // The overview: a minimap of the whole run (a thin row per lane, shaded where
  // that lane is busy), crashes in red, decisions in gold, and the visible window.
  var minimap = null;
  function drawOverview() {
    var w = Math.ceil(plotW());
    var rowH = (OVERVIEW_H - 4) / Math.max(1, lanes.length);
    if (!minimap || minimap.width !== w) {
      var counts = new Uint16Array(w * lanes.length);
      var max = 1;
      for (var i = 0; i < n; i++) {
        var c = laneOf[events[i].actor] * w + Math.min(w - 1, Math.floor((i / n) * w));
        counts[c]++;
        if (counts[c] > max) max = counts[c];
      }
      minimap = { width: w, counts: counts, max: max };
    }
    ctx.fillStyle = '#eef0f4'; ctx.fillRect(0, 0, W, OVERVIEW_H);
    for (var l = 0; l < lanes.length; l++) {
      ctx.fillStyle = laneColor(l);
      for (var col = 0; col < w; col++) {
        var k = minimap.counts[l * w + col];
        if (k === 0) continue;
        ctx.globalAlpha = 0.25 + 0.75 * Math.sqrt(k / minimap.max);
        ctx.fillRect(GUTTER + col, 2 + l * rowH, 1, Math.max(1, rowH));
      }
    }
    ctx.globalAlpha = 1;
    function tick(i, color) { ctx.fillStyle = color; ctx.fillRect(GUTTER + (i / Math.max(1, n)) * w - 1, 1, 2, OVERVIEW_H - 2); }
    downs.forEach(function (d) { tick(d.from, C.drop); });
    decides.forEach(function (i) { tick(i, C.decide); });
    var a = GUTTER + Math.max(0, (view.start + 0.5) / Math.max(1, n)) * w;
    var b = GUTTER + Math.min(1, (indexAtX(W) + 0.5) / Math.max(1, n)) * w;
    ctx.strokeStyle = '#2457c5'; ctx.lineWidth = 1.5; ctx.strokeRect(a, 1, Math.max(3, b - a), OVERVIEW_H - 2);
    ctx.fillStyle = '#eef0f4'; ctx.fillRect(0, 0, GUTTER, OVERVIEW_H);
    ctx.fillStyle = '#6b7280'; ctx.font = '11px system-ui, sans-serif'; ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    ctx.fillText('overview', GUTTER - 8, OVERVIEW_H / 2);
  }

  // ---- hit-testing and selection ----------------------------------------
  function eventAt(x, y) {
    if (y < top() || x < GUTTER || n === 0) return null;
    var lane = Math.floor((y - top() + view.scrollY) / laneH);
    if (lane < 0 || lane >= lanes.length) return null;
    var list = laneEvents[lane];
    if (list.length === 0) return null;
    var target = indexAtX(x);
    var lo = 0, hi = list.length - 1;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (list[mid] < target) lo = mid + 1; else hi = mid; }
    var best = null, bestD = Infinity;
    for (var k = Math.max(0, lo - 1); k <= Math.min(list.length - 1, lo + 1); k++) {
      var d = Math.abs(xOf(list[k]) - x);
      if (d < bestD) { bestD = d; best = list[k]; }
    }
    return bestD <= Math.max(8, view.step / 2) ? best : null;
  }

  function positionOf(i) {
    if (i < 0 || i >= n) return null;
    var x = xOf(i), y = yOf(laneOf[events[i].actor]);
    return { x: x, y: y, visible: x >= GUTTER && x <= W && y >= top() && y <= H };
  }

  function select(i) {
    selected = i === null || i === undefined || i < 0 || i >= n ? null : i;
    canvas.dataset.selected = selected === null ? '' : String(selected);
    showPanel();
    draw();
  }

  function show(i) {
    if (i < 0 || i >= n) return;
    var visible = plotW() / view.step;
    if (i < view.start + 1 || i > view.start + visible - 2) view.start = i - visible / 2;
    var y = yOf(laneOf[events[i].actor]);
    if (y < top() + laneH / 2 || y > H - laneH / 2) view.scrollY += y - (top() + (H - top()) / 2);
    clampView();
    select(i);
  }

  function jumpButton(label, i) {
    var b = el('button', 'jump', label);
    b.type = 'button';
    b.addEventListener('click', function () { show(i); });
    return b;
  }

  function showPanel() {
    panel.textContent = '';
    panel.dataset.index = selected === null ? '' : String(selected);
    if (selected === null) { panel.appendChild(el('p', 'empty', 'Click an event to see its text and vector clock.')); return; }
    var e = events[selected];
    panel.appendChild(el('h2', null, '#' + e.index + ' ' + e.kind + ' on ' + e.actor));
    panel.appendChild(el('pre', 'text', e.text));
    var dl = el('dl');
    function row(k, v) { dl.appendChild(el('dt', null, k)); var dd = el('dd'); if (typeof v === 'string') dd.textContent = v; else dd.appendChild(v); dl.appendChild(dd); }
    row('lane', e.actor);
    row('kind', e.kind);
    row('time', formatTime(e.time));
    if (e.msg !== undefined) row('message', e.msg);
    if (e.from !== undefined) row('from', e.from);
    if (e.to !== undefined) row('to', e.to);
    if (e.value !== undefined) row('value', e.value);
    if (e.msg !== undefined) {
      if (e.kind !== 'send' && sendOf[e.msg] !== undefined) row('sent at', jumpButton('#' + sendOf[e.msg], sendOf[e.msg]));
      if (e.kind === 'send') {
        var ends = endsOf[e.msg] || [];
        if (ends.length === 0) row('fate', 'not received by the end of the trace');
        ends.forEach(function (j) { row(events[j].kind === 'drop' ? 'dropped at' : 'received at', jumpButton('#' + j, j)); });
      }
    }
    panel.appendChild(dl);
    var laneList = laneEvents[laneOf[e.actor]];
    var pos = laneList.indexOf(selected);
    var nav = el('div');
    if (pos > 0) { nav.appendChild(jumpButton('\u2190 previous on ' + e.actor, laneList[pos - 1])); nav.appendChild(document.createTextNode('  ')); }
    if (pos >= 0 && pos < laneList.length - 1) nav.appendChild(jumpButton('next on ' + e.actor + ' \u2192', laneList[pos + 1]));
    panel.appendChild(nav);
    panel.appendChild(el('h3', null, 'vector clock'));
    var table = el('table', 'vc');
    lanes.forEach(function (l) {
      var v = e.vc[l] || 0;
      var tr = el('tr', l === e.actor ? 'own' : (v === 0 ? 'zero' : null));
      tr.appendChild(el('td', null, l)); tr.appendChild(el('td', null, String(v)));
      table.appendChild(tr);
    });
    panel.appendChild(table);
  }

  // ---- input --------------------------------------------------------------
  function zoom(factor, atX) {
    var x = atX === undefined ? GUTTER + plotW() / 2 : atX;
    var idx = indexAtX(x);
    view.step = Math.min(MAX_STEP, Math.max(fitStep(), view.step * factor));
    view.start = idx - (x - GUTTER) / view.step + 0.5;
    clampView();
    requestDraw();
  }
  function panBy(dx, dy) {
    view.start -= dx / view.step;
    view.scrollY -= dy || 0;
    clampView();
    requestDraw();
  }
  function fit() { view.step = fitStep(); view.start = -0.5; view.scrollY = 0; clampView(); requestDraw(); }

  function local(ev) { var r = canvas.getBoundingClientRect(); return { x: ev.clientX - r.left, y: ev.clientY - r.top }; }

  canvas.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var p = local(ev);
    if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) panBy(-(ev.deltaX || ev.deltaY), 0);
    else zoom(Math.exp(-ev.deltaY * 0.0015), p.x);
  }, { passive: false });

  var drag = null;
  canvas.addEventListener('pointerdown', function (ev) {
    var p = local(ev);
    if (p.y < OVERVIEW_H) { jumpTo(p.x); drag = { overview: true }; canvas.setPointerCapture(ev.pointerId); return; }
    drag = { x: ev.clientX, y: ev.clientY, moved: false, at: p };
    canvas.setPointerCapture(ev.pointerId);
    canvas.focus();
  });
  canvas.addEventListener('pointermove', function (ev) {
    if (!drag) return;
    if (drag.overview) { jumpTo(local(ev).x); return; }
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    canvas.classList.add('dragging');
    drag.x = ev.clientX; drag.y = ev.clientY;
    panBy(dx, dy);
  });
  canvas.addEventListener('pointerup', function (ev) {
    var d = drag;
    drag = null;
    canvas.classList.remove('dragging');
    if (!d || d.overview || d.moved) return;
    var p = local(ev);
    select(eventAt(p.x, p.y));
  });

  function jumpTo(x) {
    var frac = Math.max(0, Math.min(1, (x - GUTTER) / plotW()));
    view.start = frac * n - plotW() / view.step / 2;
    clampView();
    requestDraw();
  }

  function step(delta) {
    if (selected === null) return;
    var list = laneEvents[laneOf[events[selected].actor]];
    var pos = list.indexOf(selected) + delta;
    if (pos >= 0 && pos < list.length) show(list[pos]);
  }

  window.addEventListener('keydown', function (ev) {
    if (ev.target && (ev.target.tagName === 'INPUT' || ev.target.tagName === 'TEXTAREA') && ev.target.type !== 'checkbox') return;
    var page = plotW() * 0.8;
    switch (ev.key) {
      case '+': case '=': zoom(1.5); break;
      case '-': case '_': zoom(1 / 1.5); break;
      case '0': case 'f': fit(); break;
      case 'ArrowLeft': panBy(ev.shiftKey ? page : 80, 0); break;
      case 'ArrowRight': panBy(ev.shiftKey ? -page : -80, 0); break;
      case 'ArrowUp': panBy(0, 40); break;
      case 'ArrowDown': panBy(0, -40); break;
      case 'Home': view.start = -0.5; clampView(); requestDraw(); break;
      case 'End': view.start = n; clampView(); requestDraw(); break;
      case '[': step(-1); break;
      case ']': step(1); break;
      case 'c': causalBox.checked = !causalBox.checked; requestDraw(); break;
      case 'Escape': select(null); break;
      default: return;
    }
    ev.preventDefault();
  });

  document.getElementById('zoom-in').addEventListener('click', function () { zoom(1.5); });
  document.getElementById('zoom-out').addEventListener('click', function () { zoom(1 / 1.5); });
  document.getElementById('fit').addEventListener('click', fit);
  document.getElementById('pan-left').addEventListener('click', function () { panBy(plotW() * 0.5, 0); });
  document.getElementById('pan-right').addEventListener('click', function () { panBy(-plotW() * 0.5, 0); });
  causalBox.addEventListener('change', requestDraw);
  window.addEventListener('resize', function () { resize(); draw(); });

  // ---- start --------------------------------------------------------------
  resize();
  // Small traces fit the window; large ones open readable at the start (the overview shows the rest).
  if (fitStep() >= 6) fit(); else { view.step = 14; view.start = -0.5; clampView(); }
  draw();

  window.synodTrace = {
    ready: true,
    lanes: lanes.length,
    laneNames: lanes.slice(),
    events: n,
    arrows: arrows.length,
    droppedArrows: droppedTotal,
    decisions: decides.length,
    get drawn() { return { events: drawn.events, arrows: drawn.arrows, droppedArrows: drawn.droppedArrows, frames: drawn.frames }; },
    get selected() { return selected; },
    get view() { return { start: view.start, step: view.step, scrollY: view.scrollY, laneHeight: laneH, width: W, height: H }; },
    positionOf: positionOf,
    eventAt: eventAt,
    select: select,
    show: show,
    fit: function () { fit(); draw(); },
    zoom: function (factor, atX) { zoom(factor, atX); draw(); },
    panBy: function (dx, dy) { panBy(dx, dy); draw(); }
  };
  canvas.dataset.events = String(n);
  canvas.dataset.arrows = String(arrows.length);
  canvas.dataset.droppedArrows = String(droppedTotal);
  document.body.dataset.ready = 'true';
})();
`;
