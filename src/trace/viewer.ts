/**
 * What `html.ts` inlines into each trace page: the viewer's style sheet, and
 * its script — the browser code in `viewer/app.ts`, bundled by
 * `viewer/bundle.ts` (see there for what it draws).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUNDLE_FILE, bundleViewer } from './viewer/bundle.js';

/** The viewer's style sheet. */

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

// Built, the script sits in dist next to the compiled bundle.js; running from
// the TypeScript sources (the tests) there is none, and it is bundled on first use.
const built = fileURLToPath(new URL(`./viewer/${BUNDLE_FILE}`, import.meta.url));
let script: string | undefined;

/** The viewer's script, ready to inline into a <script> element. */
export function viewerScript(): string {
  script ??= existsSync(built) ? readFileSync(built, 'utf8') : bundleViewer();
  return script;
}
