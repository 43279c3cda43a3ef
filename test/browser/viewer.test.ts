// The HTML trace viewer in a real headless browser (Debian's chromium, driven
// by playwright-core): lanes and arrows are drawn, a click on an event's spot
// on the canvas shows its text and vector clock, zoom and pan work, nothing
// is fetched from the network, and a 10,000-event trace renders and answers
// clicks. Leaves a screenshot in test-results/trace-viewer.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TraceBuilder, toHtml, type Trace } from '../../src/trace/index.js';
import { traceSimulation } from '../../src/sim/trace.js';
import { formatDuration, type Glyph } from '../../src/trace/viewer/model.js';

const CHROMIUM = '/usr/bin/chromium';
const results = join(import.meta.dirname, '..', '..', 'test-results');
const dir = mkdtempSync(join(tmpdir(), 'synod-viewer-'));

const MISSING = `${CHROMIUM} is missing: the viewer test needs Debian's chromium. Install it with \`apt-get install chromium\` (the tests never download a browser).`;
let launched: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // every test then fails with MISSING
  launched = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

/** The browser; without Debian's chromium this throws, so the test fails saying what to install. */
function browser(): Browser {
  if (!launched) throw new Error(MISSING);
  return launched;
}

afterAll(async () => {
  await launched?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Stats {
  ready: boolean;
  lanes: number;
  laneNames: string[];
  events: number;
  arrows: number;
  droppedArrows: number;
  drawn: { events: number; arrows: number; droppedArrows: number; frames: number; glyphs: Partial<Record<Glyph, number>>; ruler: string[] };
  view: { start: number; step: number; scrollY: number };
  selected: number | null;
}

/** What the page publishes as window.synodTrace. */
interface Viewer extends Stats {
  positionOf(i: number): { x: number; y: number; visible: boolean };
  select(i: number | null): void;
  show(i: number): void;
}

// The page's globals as these tests use them inside page.evaluate (the test project has no DOM types).
interface PageCanvas {
  dataset: Record<string, string | undefined>;
  width: number;
  getBoundingClientRect(): { width: number };
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
declare const window: { synodTrace?: Viewer };
declare const document: { getElementById(id: string): PageCanvas | null };

/** What the viewer should find in `trace`, counted here from the data: message arrows (send matched to a receive or a drop) and dropped ones. */
function expected(trace: Trace) {
  const sent = new Set<string>();
  let arrows = 0;
  let dropped = 0;
  for (const e of trace.events) {
    if (e.msg === undefined) continue;
    if (e.kind === 'send') sent.add(e.msg);
    else if ((e.kind === 'receive' || e.kind === 'drop') && sent.has(e.msg)) {
      arrows++;
      if (e.kind === 'drop') dropped++;
    }
  }
  return { arrows, dropped };
}

/** Opens `trace` as an HTML file in a fresh page; records every request the page makes. */
async function open(trace: Trace, name: string): Promise<{ page: Page; requests: string[]; errors: string[]; file: string }> {
  const file = join(dir, name);
  writeFileSync(file, toHtml(trace));
  const page = await browser().newPage({ viewport: { width: 1400, height: 820 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => window.synodTrace?.ready === true);
  return { page, requests, errors, file };
}

const stats = (page: Page) =>
  page.evaluate((): Stats => {
    const t = window.synodTrace as Viewer;
    return { ready: t.ready, lanes: t.lanes, laneNames: t.laneNames, events: t.events, arrows: t.arrows, droppedArrows: t.droppedArrows, drawn: t.drawn, view: t.view, selected: t.selected };
  });
const positionOf = (page: Page, i: number) => page.evaluate((k) => (window.synodTrace as Viewer).positionOf(k), i);
const select = (page: Page, i: number | null) => page.evaluate((k) => (window.synodTrace as Viewer).select(k), i);
const show = (page: Page, i: number) => page.evaluate((k) => (window.synodTrace as Viewer).show(k), i);

/** Clicks the canvas where event `i` is drawn (after bringing it into view), and returns the side panel's text. */
async function clickEvent(page: Page, i: number): Promise<string> {
  const pos = await positionOf(page, i);
  if (!pos.visible) await show(page, i);
  const p = await positionOf(page, i);
  expect(p.visible).toBe(true);
  const box = await page.locator('#diagram').boundingBox();
  if (!box) throw new Error('no canvas');
  await select(page, null);
  await page.mouse.click(box.x + p.x, box.y + p.y);
  await page.waitForFunction((k) => document.getElementById('panel')?.dataset.index === String(k), i);
  return page.locator('#panel').innerText();
}

describe('the HTML trace viewer in chromium', () => {
  it(`runs in Debian's chromium at ${CHROMIUM}`, () => {
    expect(existsSync(CHROMIUM), MISSING).toBe(true);
    expect(browser().version()).toMatch(/^\d+\./);
  });

  const { trace } = traceSimulation({ seed: 3, steps: 700, proposers: 3, acceptors: 5, learners: 2, faults: { drop: 0.1, crash: 0.02, partition: 0.01 } });

  it('draws one lane per actor and every message arrow, dropped ones counted apart, with no network access', async () => {
    const { page, requests, errors } = await open(trace, 'small.html');
    const want = expected(trace);
    expect(want.dropped).toBeGreaterThan(0);
    let s = await stats(page);
    expect(s.lanes).toBe(trace.actors.length);
    expect(s.laneNames).toEqual(trace.actors);
    expect(s.events).toBe(trace.events.length);
    expect(s.arrows).toBe(want.arrows);
    expect(s.droppedArrows).toBe(want.dropped);
    // The canvas mirrors the counts for anyone reading the DOM.
    expect(await page.locator('#diagram').getAttribute('data-lanes')).toBe(String(trace.actors.length));
    // The whole trace fitted: every event and arrow is drawn.
    await page.keyboard.press('0');
    await page.waitForFunction(() => (window.synodTrace as Viewer).drawn.events > 0);
    s = await stats(page);
    expect(s.drawn.events).toBe(trace.events.length);
    expect(s.drawn.arrows).toBe(want.arrows);
    expect(s.drawn.droppedArrows).toBe(want.dropped);
    expect(Number(await page.locator('#diagram').getAttribute('data-dropped-drawn'))).toBe(want.dropped);
    // Each drop is one mark of its own, and each crash one cross: a dropped
    // message adds no second mark that could read as a crash.
    const count = (kind: string) => trace.events.filter((e) => e.kind === kind).length;
    expect(count('crash')).toBeGreaterThan(0);
    expect(s.drawn.glyphs.drop).toBe(count('drop'));
    expect(s.drawn.glyphs.crash).toBe(count('crash'));
    expect(s.drawn.glyphs.fault).toBe(count('fault'));
    expect(s.drawn.glyphs['injected-crash']).toBeUndefined();
    // Decisions are in the header.
    const decided = trace.events.filter((e) => e.kind === 'decide');
    expect(decided.length).toBeGreaterThan(0);
    for (const d of decided) expect(await page.locator('#summary').innerText()).toContain(`${d.actor}=${d.value}`);
    expect(requests.every((u) => u.startsWith('file://'))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('lays events out in lanes: one row per lane, left to right in trace order, and paints them', async () => {
    const { page } = await open(trace, 'layout.html');
    const sample = trace.events.slice(0, 40);
    const pos = await Promise.all(sample.map((e) => positionOf(page, e.index)));
    const yOfLane = new Map<string, number>();
    sample.forEach((e, k) => {
      const y = pos[k]?.y as number;
      if (yOfLane.has(e.actor)) expect(y).toBe(yOfLane.get(e.actor));
      else yOfLane.set(e.actor, y);
      if (k > 0) expect(pos[k]?.x).toBeGreaterThan(pos[k - 1]?.x as number);
    });
    expect(new Set(yOfLane.values()).size).toBe(yOfLane.size);
    // Something is painted at an event's spot (the lane background is near-white).
    const p = pos[0] as { x: number; y: number };
    const pixel = await page.evaluate(({ x, y }) => {
      const c = document.getElementById('diagram') as PageCanvas;
      const r = c.width / c.getBoundingClientRect().width;
      return Array.from(c.getContext('2d')?.getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data ?? []);
    }, p);
    expect(Math.min(pixel[0] ?? 255, pixel[1] ?? 255, pixel[2] ?? 255)).toBeLessThan(200);
    await page.close();
  });

  it('a click on an event shows its text, lane, message partner and vector clock; a click on empty space clears it', async () => {
    const { page, errors } = await open(trace, 'click.html');
    const receive = trace.events.find((e) => e.kind === 'receive' && e.index > 20);
    if (!receive) throw new Error('no receive in the trace');
    const text = await clickEvent(page, receive.index);
    expect(text).toContain(receive.text);
    expect(text).toContain(`#${receive.index} receive on ${receive.actor}`);
    const send = trace.events.find((e) => e.kind === 'send' && e.msg === receive.msg);
    expect(text).toContain(`sent at\n#${send?.index}`);
    const rows = await page.locator('#panel table.vc tr').allInnerTexts();
    expect(rows).toEqual(trace.actors.map((a) => `${a}\t${receive.vc[a] ?? 0}`));
    // Jump to the send from the panel.
    await page.locator('#panel button.jump', { hasText: `#${send?.index}` }).click();
    expect((await stats(page)).selected).toBe(send?.index);
    expect(await page.locator('#panel .text').innerText()).toBe(send?.text);
    // A decision.
    const decide = trace.events.find((e) => e.kind === 'decide');
    if (!decide) throw new Error('no decision in the trace');
    expect(await clickEvent(page, decide.index)).toContain(decide.text);
    // Empty space: the env lane far from any of its events, or below the lanes.
    const box = await page.locator('#diagram').boundingBox();
    if (!box) throw new Error('no canvas');
    await page.mouse.click(box.x + box.width - 5, box.y + box.height - 3);
    await page.waitForFunction(() => document.getElementById('panel')?.dataset.index === '');
    expect(errors).toEqual([]);
    // Leave a picture of the viewer with something selected.
    await clickEvent(page, receive.index);
    mkdirSync(results, { recursive: true });
    await page.screenshot({ path: join(results, 'trace-viewer.png') });
    expect(statSync(join(results, 'trace-viewer.png')).size).toBeGreaterThan(10_000);
    await page.close();
  });

  it('zooms with the wheel, buttons and keys, and pans by dragging', async () => {
    const { page } = await open(trace, 'zoom.html');
    const box = await page.locator('#diagram').boundingBox();
    if (!box) throw new Error('no canvas');
    const before = (await stats(page)).view;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((s) => (window.synodTrace as Viewer).view.step > s, before.step);
    const zoomed = (await stats(page)).view;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 300, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction((s) => (window.synodTrace as Viewer).view.start > s, zoomed.start);
    expect((await stats(page)).selected).toBeNull(); // a drag is not a click
    await page.locator('#zoom-out').click();
    await page.waitForFunction((s) => (window.synodTrace as Viewer).view.step < s, zoomed.step);
    await page.locator('#zoom-in').click();
    await page.keyboard.press('+');
    await page.waitForFunction((s) => (window.synodTrace as Viewer).view.step > s, zoomed.step);
    await page.locator('#fit').click();
    await page.waitForFunction((n) => (window.synodTrace as Viewer).drawn.events === n, trace.events.length);
    await page.close();
  });

  it('shows a trace from the worker-thread cluster too: other lanes, fractional times, a receive recorded before its send', async () => {
    const b = new TraceBuilder();
    for (const lane of ['p1', 'a1', 'main']) b.lane(lane);
    b.add({ actor: 'main', kind: 'note', text: 'cluster started', time: 0.25 });
    b.add({ actor: 'a1', kind: 'receive', text: 'receive p1->a1 prepare 1.p1', time: 2.5, msg: 'w7', from: 'p1' });
    b.add({ actor: 'p1', kind: 'send', text: 'send p1->a1 prepare 1.p1', time: 1.125, msg: 'w7', to: 'a1' });
    b.add({ actor: 'p1', kind: 'send', text: 'send p1->a1 accept 1.p1 value="v"', time: 3, msg: 'w8', to: 'a1' });
    b.add({ actor: 'p1', kind: 'drop', text: 'drop p1->a1 accept (link cut)', time: 3.5, msg: 'w8', to: 'a1' });
    const { page, errors } = await open(b.trace({ kind: 'cluster' }), 'cluster.html');
    const s = await stats(page);
    expect(s.laneNames).toEqual(['p1', 'a1', 'main']);
    expect(s.arrows).toBe(2);
    expect(s.droppedArrows).toBe(1);
    expect(s.drawn.arrows).toBe(2);
    const text = await clickEvent(page, 0);
    expect(text).toContain('cluster started');
    expect(text).toContain('0.25');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws a cluster’s faults apart: an injected crash has its own glyph, a drop one mark on the sender’s side; times read since the start, with a unit', async () => {
    const b = new TraceBuilder();
    for (const lane of ['p1', 'a1', 'a2', 'env']) b.lane(lane);
    // A cluster's clock counts from when tracing began, well before its first event.
    b.add({ actor: 'p1', kind: 'send', text: 'send p1->a1 prepare 1.p1', time: 1500.25, msg: 'w1', to: 'a1' });
    b.add({ actor: 'a1', kind: 'receive', text: 'receive p1->a1 prepare 1.p1', time: 1501.5, msg: 'w1', from: 'p1' });
    b.add({ actor: 'p1', kind: 'send', text: 'send p1->a2 prepare 1.p1', time: 1502, msg: 'w2', to: 'a2' });
    b.add({ actor: 'p1', kind: 'drop', text: 'drop p1->a2 prepare 1.p1 (link cut)', time: 1502.5, msg: 'w2', to: 'a2' });
    b.add({ actor: 'env', kind: 'fault', text: 'crash a1 (exception)', time: 1510 });
    b.add({ actor: 'a1', kind: 'crash', text: 'crashed (exception): injected', time: 1510.75 });
    b.add({ actor: 'env', kind: 'fault', text: 'partition {p1} | {a1,a2}', time: 1600 });
    b.add({ actor: 'a1', kind: 'restart', text: 'recovered after 1239.5 ms (thread 4)', time: 2750.25 });
    b.add({ actor: 'env', kind: 'fault', text: 'heal every partition', time: 2800 });
    const t = b.trace({ kind: 'cluster' });
    const { page, errors } = await open(t, 'faults.html');
    const s = await stats(page);
    expect(s.drawn.events).toBe(t.events.length);
    expect(s.drawn.glyphs).toEqual({ send: 2, receive: 1, drop: 1, 'injected-crash': 1, crash: 1, fault: 2, restart: 1 });
    expect(s.droppedArrows).toBe(1);
    // The ruler: time since the first event, with a unit, never the clock's raw reading.
    expect(s.drawn.ruler[0]).toBe('#0 t=0 ms');
    expect(s.drawn.ruler.length).toBeGreaterThan(1);
    for (const label of s.drawn.ruler) {
      const i = Number(/^#(\d+) /.exec(label)?.[1]);
      expect(label).toBe(`#${i} t=${formatDuration((t.events[i]?.time as number) - 1500.25)}`);
      expect(label).toMatch(/ t=\d+(\.\d+)? (ms|s)$/);
    }
    // The panel gives both: since the start, and the clock as recorded.
    const text = await clickEvent(page, 1);
    expect(text).toContain('1.25 ms since the start');
    expect(text).toContain('1501.5 ms');
    // The drop is drawn once, on the sender's lane; nothing red sits on the receiver's lane.
    const red = (x: number, y: number) =>
      page.evaluate(
        ({ x, y }) => {
          const c = document.getElementById('diagram') as PageCanvas;
          const k = c.width / c.getBoundingClientRect().width;
          const size = Math.round(14 * k);
          const d = c.getContext('2d')?.getImageData(Math.round((x - 7) * k), Math.round((y - 7) * k), size, size).data ?? [];
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if ((d[i] as number) > 150 && (d[i + 1] as number) < 90 && (d[i + 2] as number) < 90) n++;
          return n;
        },
        { x, y },
      );
    await select(page, null);
    const drop = (await positionOf(page, 3)) as { x: number; y: number };
    const { laneHeight } = (await page.evaluate(() => (window.synodTrace as Viewer).view)) as unknown as { laneHeight: number };
    const a2 = drop.y + 2 * laneHeight; // lanes p1, a1, a2
    expect(await red(drop.x, drop.y)).toBeGreaterThan(0);
    expect(await red(drop.x, a2)).toBe(0);
    // The injected crash's bolt on env has a dotted line up to the lane it strikes (a1), and no further.
    const bolt = (await positionOf(page, 4)) as { x: number; y: number };
    expect(await red(bolt.x, a2 + laneHeight / 2)).toBeGreaterThan(0);
    expect(await red(bolt.x, drop.y + laneHeight)).toBeGreaterThan(0);
    expect(await red(bolt.x, drop.y + laneHeight / 2)).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('renders a 10,000-event trace and still answers a click', async () => {
    const big = traceSimulation({ seed: 1, steps: 5000, proposers: 3, acceptors: 5, learners: 2 }).trace;
    expect(big.events.length).toBeGreaterThanOrEqual(10_000);
    const { page, errors, file, requests } = await open(big, 'big.html');
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(0);
    process.stdout.write(`viewer: ${big.events.length} events -> ${(size / 1e6).toFixed(2)} MB of HTML\n`);
    let s = await stats(page);
    expect(s.events).toBe(big.events.length);
    expect(s.arrows).toBe(expected(big).arrows);
    // It opens on a window of the trace, not all of it.
    expect(s.drawn.events).toBeGreaterThan(0);
    expect(s.drawn.events).toBeLessThan(big.events.length);
    // Fitted, it draws everything.
    await page.keyboard.press('0');
    await page.waitForFunction((n) => (window.synodTrace as Viewer).drawn.events === n, big.events.length);
    s = await stats(page);
    expect(s.drawn.arrows).toBe(expected(big).arrows);
    // A click deep in the run, after zooming in on it.
    const target = big.events.find((e) => e.index > 7000 && e.kind === 'receive');
    if (!target) throw new Error('no receive after event 7000');
    expect(await clickEvent(page, target.index)).toContain(target.text);
    expect(requests.every((u) => u.startsWith('file://'))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
