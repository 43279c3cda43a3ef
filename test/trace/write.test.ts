// Writing trace files: the format from the extension or given, a clear error
// otherwise, and each format readable back. Plus the HTML page's promises
// that a browser is not needed for: self-contained, the trace embedded intact.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHIVIZ_REGEX, TraceBuilder, toHtml, traceFormatOf, writeTraceFile, type Trace } from '../../src/trace/index.js';
import { traceSimulation } from '../../src/sim/trace.js';
import { viewerScript } from '../../src/trace/viewer.js';

const dir = mkdtempSync(join(tmpdir(), 'synod-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { trace } = traceSimulation({ seed: 4, steps: 400, proposers: 2, acceptors: 3, learners: 1 });

/** The JSON embedded in an HTML page. */
function embedded(html: string): unknown {
  const m = /<script type="application\/json" id="synod-trace-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no embedded trace');
  return JSON.parse(m[1] as string);
}

describe('traceFormatOf', () => {
  it.each([
    ['run.json', 'json'],
    ['out/run.html', 'html'],
    ['RUN.HTM', 'html'],
    ['run.shiviz', 'shiviz'],
    ['run.log', 'shiviz'],
  ])('%s -> %s', (path, format) => {
    expect(traceFormatOf(path)).toBe(format);
  });

  it.each(['run.txt', 'run', 'run.json.gz'])('%s is refused with the extensions that work', (path) => {
    expect(() => traceFormatOf(path)).toThrow(/\.json, \.html, \.shiviz or \.log/);
  });
});

describe('writeTraceFile', () => {
  it('writes JSON that reads back as the same trace', async () => {
    const file = join(dir, 'nested', 'a.json');
    await writeTraceFile(file, trace);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(trace);
  });

  it('writes a ShiViz log for .log and .shiviz', async () => {
    for (const name of ['b.log', 'b.shiviz']) {
      await writeTraceFile(join(dir, name), trace);
      expect(readFileSync(join(dir, name), 'utf8').split('\n')[0]).toBe(SHIVIZ_REGEX);
    }
  });

  it('writes HTML with the trace embedded intact', async () => {
    await writeTraceFile(join(dir, 'c.html'), trace);
    expect(embedded(readFileSync(join(dir, 'c.html'), 'utf8'))).toEqual(trace);
  });

  it('a given format wins over the extension; an unknown extension without one is an error', async () => {
    await writeTraceFile(join(dir, 'd.txt'), trace, 'json');
    expect(JSON.parse(readFileSync(join(dir, 'd.txt'), 'utf8'))).toEqual(trace);
    await expect(writeTraceFile(join(dir, 'e.txt'), trace)).rejects.toThrow(/cannot tell the trace format/);
    await expect(writeTraceFile(join(dir, 'e.json'), trace, 'xml' as never)).rejects.toThrow(/unknown trace format/);
  });
});

describe('the HTML page', () => {
  const html = toHtml(trace);

  it('is self-contained: no external scripts, styles, fonts or images, and a policy that forbids them', () => {
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).toMatch(/<canvas id="diagram"/);
  });

  it('keeps hostile text inside the data: it cannot close the script element', () => {
    const b = new TraceBuilder();
    const evil = '</script><script>window.pwned=1</script><!--';
    b.add({ actor: 'p1', kind: 'note', text: evil, time: 0 });
    const t: Trace = b.trace({ kind: 'cluster' });
    const page = toHtml(t, { title: '<b>title</b>' });
    expect(page.match(/<\/script>/g)).toHaveLength(2);
    expect(page).not.toContain('<b>title</b>');
    expect((embedded(page) as Trace).events[0]?.text).toBe(evil);
  });

  it('the viewer script is valid JavaScript', () => {
    expect(() => new Function(viewerScript())).not.toThrow();
  });
});
