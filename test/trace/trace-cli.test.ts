// `synod trace` as a user runs it: the built CLI in a child process
// (npm test builds before running vitest).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate } from '../../src/sim/simulator.js';
import type { Trace } from '../../src/trace/index.js';
import { viewerScript } from '../../src/trace/viewer.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'synod-trace-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const out = (name: string) => join(dir, name);

describe('synod trace', () => {
  it('writes the JSON trace of the run `synod sim` runs with the same flags (--keep-going: all its steps); exit 0 when safe', () => {
    const r = synod('trace', '--seed', '5', '--keep-going', '--out', out('a.json'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/a\.json: json, \d+ events on 11 lanes; synod seed=5; decided l1=\S+ l2=\S+; safe/);
    const t = JSON.parse(readFileSync(out('a.json'), 'utf8')) as Trace;
    expect(t).toMatchObject({ format: 'synod-trace', version: 1, source: { kind: 'sim', seed: 5 } });
    const sim = JSON.parse(synod('sim', '--seed', '5', '--json').stdout) as { decided: Record<string, unknown>; stats: { sent: number; duplicated: number } };
    expect(t.events.filter((e) => e.kind === 'send')).toHaveLength(sim.stats.sent + sim.stats.duplicated);
    expect(Object.fromEntries(t.events.filter((e) => e.kind === 'decide').map((e) => [e.actor, e.value]))).toEqual(Object.fromEntries(Object.entries(sim.decided).map(([l, v]) => [l, JSON.stringify(v)])));
  });

  it('stops soon after every learner decided: the trace is the start of the whole run, and `synod sim --steps` replays it', () => {
    const r = synod('trace', '--seed', '7', '--out', out('short.json'));
    expect(r.status).toBe(0);
    expect(synod('trace', '--seed', '7', '--keep-going', '--out', out('long.json')).status).toBe(0);
    const short = JSON.parse(readFileSync(out('short.json'), 'utf8')) as Trace;
    const long = JSON.parse(readFileSync(out('long.json'), 'utf8')) as Trace;
    const stopped = short.source.stopped as { stepsAfterDecision: number; decidedAt: number; stepLimit: number };
    expect(stopped).toEqual({ stepsAfterDecision: 50, decidedAt: expect.any(Number), stepLimit: 2000 });
    expect(short.source.steps).toBe(stopped.decidedAt + 50);
    expect(long.source.steps).toBe(2000);
    expect(long.source.stopped).toBeUndefined();
    expect(r.stdout).toContain(`stopped at step ${short.source.steps}, every learner having decided by step ${stopped.decidedAt} (--keep-going records up to --steps 2000)`);
    // A fraction of the whole run, and exactly its beginning.
    expect(short.events.length * 4).toBeLessThan(long.events.length);
    expect(long.events.slice(0, short.events.length)).toEqual(short.events);
    // Every learner decided within it, as in the whole run.
    const decided = (t: Trace) => Object.fromEntries(t.events.filter((e) => e.kind === 'decide').map((e) => [e.actor, e.value]));
    expect(Object.keys(decided(short)).sort()).toEqual(['l1', 'l2']);
    expect(decided(short)).toEqual(decided(long));
    // The run `synod sim` makes with the steps the trace stopped at.
    const sim = JSON.parse(synod('sim', '--seed', '7', '--steps', String(short.source.steps), '--json').stdout) as { stats: { sent: number; duplicated: number } };
    expect(short.events.filter((e) => e.kind === 'send')).toHaveLength(sim.stats.sent + sim.stats.duplicated);
  });

  it('the same flags write the same file byte for byte', () => {
    expect(synod('trace', '--seed', '9', '--crash', '0.02', '--out', out('x1.html')).status).toBe(0);
    expect(synod('trace', '--seed', '9', '--crash', '0.02', '--out', out('x2.html')).status).toBe(0);
    expect(readFileSync(out('x2.html'), 'utf8')).toBe(readFileSync(out('x1.html'), 'utf8'));
  });

  it('picks the format from the extension, or from --format', () => {
    expect(synod('trace', '--seed', '2', '--out', out('b.html')).status).toBe(0);
    expect(readFileSync(out('b.html'), 'utf8')).toMatch(/^<!doctype html>[\s\S]*<canvas/);
    // The build bundles the viewer into dist (the package ships it, esbuild stays a devDependency),
    // and the built CLI inlines it: the same script the sources bundle.
    const built = readFileSync(join(import.meta.dirname, '..', '..', 'dist', 'src', 'trace', 'viewer', 'app.bundle.js'), 'utf8');
    expect(built).toBe(viewerScript());
    expect(readFileSync(out('b.html'), 'utf8')).toContain(`<script>${built}</script>`);
    expect(synod('trace', '--seed', '2', '--out', out('b.log')).status).toBe(0);
    expect(synod('trace', '--seed', '2', '--out', out('b.shiviz')).status).toBe(0);
    expect(readFileSync(out('b.log'), 'utf8').split('\n')[0]).toBe(String.raw`(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`);
    expect(readFileSync(out('b.shiviz'), 'utf8')).toBe(readFileSync(out('b.log'), 'utf8'));
    const r = synod('trace', '--seed', '2', '--out', out('b.txt'), '--format', 'json');
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(out('b.txt'), 'utf8'))).toMatchObject({ format: 'synod-trace' });
  });

  it('exits 1 when the run has a safety violation, and still writes the trace', () => {
    const flags = { steps: 2000, proposers: 3, acceptors: 5, learners: 2, faults: { crash: 0.02 }, bug: 'amnesia' as const };
    let seed = 1;
    while (simulate({ ...flags, seed }).violations.length === 0) {
      seed++;
      expect(seed).toBeLessThan(2000);
    }
    const r = synod('trace', '--seed', String(seed), '--bug', 'amnesia', '--crash', '0.02', '--out', out('bad.json'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/safety violation/);
    const t = JSON.parse(readFileSync(out('bad.json'), 'utf8')) as Trace;
    expect(t.source).toMatchObject({ seed, bug: 'amnesia' });
    expect(t.source.violations).toBeGreaterThan(0);
  });

  it.each([
    [['trace', '--seed', '1'], /required option '--out/],
    [['trace', '--out', 'x.txt'], /\.json, \.html, \.shiviz or \.log/],
    [['trace', '--out', 'x.json', '--format', 'xml'], /one of json, html, shiviz/],
    [['trace', '--out', 'x.json', '--drop', '2'], /probability/],
    [['trace', '--out', 'x.json', '--bug', 'typo'], /one of amnesia/],
    [['trace', '--out', 'x.json', '--seeds', '1..3'], /unknown option/],
    [['trace', '--out', 'x.json', '--protocol', 'kv', '--keep-going'], /--keep-going does not apply to --protocol kv/],
  ])('bad arguments %j exit 2 with a message and write nothing', (args, message) => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(dir, 'x.txt')) || existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('an unwritable path exits 2', () => {
    const r = synod('trace', '--seed', '1', '--out', join(out('a.json'), 'under-a-file.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot write/);
  });

  it('--help names every format, the extensions, the flags shared with sim, and the exit codes', () => {
    const r = synod('trace', '--help');
    expect(r.status).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const word of ['--out', '--format', '--seed', '--steps', '--keep-going', '--proposers', '--acceptors', '--learners', '--drop', '--dup', '--delay', '--crash', '--partition', '--stagger', '--bug', 'json', 'html', 'shiviz', '.json', '.html', '.shiviz', '.log']) {
      expect(help).toContain(word);
    }
    expect(help).toContain('Exit status: 0 when the run was safe, 1 when the run had a safety violation');
    expect(help).toContain('2 on bad arguments');
    expect(help).toContain('it stops 50 steps after every learner decided');
    // The options it shares with `synod sim` are described the same way.
    const sim = synod('sim', '--help').stdout.replace(/\s+/g, ' ');
    for (const flag of ['--drop <p>', '--dup <p>', '--delay <p>', '--crash <p>', '--partition <p>', '--stagger <ms>', '--proposers <p>', '--learners <l>']) {
      const description = (text: string) => text.slice(text.indexOf(flag) + flag.length).split(/ (?=--[a-z]|-h, )/)[0]?.trim();
      expect(description(help), flag).toBe(description(sim));
    }
  });
});
