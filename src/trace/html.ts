/**
 * The trace as one self-contained HTML file: a space-time diagram drawn on a
 * <canvas>, one lane per actor, with the trace embedded as JSON. No network:
 * inline CSS and JavaScript only (a Content-Security-Policy forbids anything
 * else), no external fonts or scripts. The viewer's style and script come from `viewer.ts`.
 */
import type { Trace } from './types.js';
import { VIEWER_CSS, viewerScript } from './viewer.js';

/** Options of {@link toHtml}. */
export interface HtmlOptions {
  /** The page title; by default it says where the trace came from. */
  readonly title?: string;
}

/** The HTML page that shows `trace`. */
export function toHtml(trace: Trace, opts: HtmlOptions = {}): string {
  const title = opts.title ?? defaultTitle(trace);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${VIEWER_CSS}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `  <h1>${escapeHtml(title)}</h1>`,
    '  <div id="summary"></div>',
    '  <nav id="controls">',
    '    <button type="button" id="zoom-out" title="zoom out (-)">&minus;</button>',
    '    <button type="button" id="zoom-in" title="zoom in (+)">+</button>',
    '    <button type="button" id="fit" title="fit the whole trace (0)">fit</button>',
    '    <button type="button" id="pan-left" title="pan left (&larr;)">&larr;</button>',
    '    <button type="button" id="pan-right" title="pan right (&rarr;)">&rarr;</button>',
    '    <label title="fade events that are neither in the causal past nor in the causal future of the selected event (c)"><input type="checkbox" id="causal" checked> causal cone</label>',
    '    <span class="hint">wheel: zoom &middot; drag: pan &middot; click: inspect &middot; keys: + - 0 &larr; &rarr; [ ] Esc</span>',
    '  </nav>',
    '  <div id="legend"></div>',
    '</header>',
    '<main>',
    '  <div id="stage"><canvas id="diagram" tabindex="0" aria-label="space-time diagram of the trace"></canvas></div>',
    '  <aside id="panel"><p class="empty">Click an event to see its text and vector clock.</p></aside>',
    '</main>',
    `<script type="application/json" id="synod-trace-data">${embedJson(trace)}</script>`,
    `<script>${viewerScript()}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function defaultTitle(trace: Trace): string {
  const s = trace.source;
  const seed = typeof s.seed === 'number' ? ` seed ${s.seed}` : '';
  return `synod trace: ${s.kind}${seed}, ${trace.events.length} events on ${trace.actors.length} lanes`;
}

/** JSON that can sit inside a <script> element: no `<` can close it. */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
