// `synod bench` end to end: a quick run with one repeat writes a JSON report
// holding every figure of every benchmark and a self-contained HTML report;
// `--compare` prints the right ratios and refuses what it cannot compare;
// bad arguments exit 2. Nothing here asserts a timing or a goal.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_NAMES } from '../../bench/names.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (args: string[], timeout = 60_000) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });
const dir = mkdtempSync(join(tmpdir(), 'synod-bench-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FigureJson {
  value: number;
  min: number;
  max: number;
  n: number;
  unit: string;
  better: string;
}
interface ReportJson {
  env: Record<string, unknown>;
  options: { quick: boolean; only: string[] | null; repeats: number | null };
  results: Record<string, { title: string; figures: Record<string, FigureJson>; charts: unknown[]; tables: unknown[] }>;
  goals: Array<{ id: string; measured: number | null; met: boolean | null; target: number; op: string }>;
  errors: Record<string, string>;
}

describe('synod bench --quick --repeats 1', () => {
  const jsonFile = join(dir, 'report.json');
  const htmlFile = join(dir, 'report.html');
  let run: ReturnType<typeof synod>;
  let report: ReportJson;

  beforeAll(() => {
    // The limit only stops a hang: the quick suite takes about two minutes on an idle
    // 2-vCPU machine, and several on one busy with other work.
    run = synod(['bench', '--quick', '--repeats', '1', '--json-out', jsonFile, '--html', htmlFile], 900_000);
    if (run.status !== 0) process.stderr.write(`synod bench failed (status ${run.status}, signal ${run.signal}):\n${run.stderr}\n`);
    report = JSON.parse(readFileSync(jsonFile, 'utf8')) as ReportJson;
  }, 960_000);

  it('exits 0, with no benchmark failed, and prints the goals table', () => {
    expect(run.status).toBe(0);
    expect(report.errors).toEqual({});
    expect(run.stdout).toMatch(/Goals \(reported, not asserted\)/);
    // Not a terminal: one line per finished benchmark on stderr.
    for (const name of BENCH_NAMES) expect(run.stderr).toMatch(new RegExp(`synod bench: ${name} done in`));
  });

  it('records the environment and the options', () => {
    expect(typeof report.env.node).toBe('string');
    expect(report.env.node).toBe(process.version);
    expect(typeof report.env.cpuModel).toBe('string');
    expect(report.env.cpus).toBeGreaterThan(0);
    expect(typeof report.env.platform).toBe('string');
    expect(typeof report.env.arch).toBe('string');
    expect('commit' in report.env).toBe(true);
    expect(report.env.commit === null || /^[0-9a-f]{40}$/.test(report.env.commit as string)).toBe(true);
    expect(Number.isNaN(Date.parse(report.env.date as string))).toBe(false);
    expect(report.options).toEqual({ quick: true, only: null, repeats: 1 });
  });

  it('holds every benchmark, and every figure is a finite number with a unit and a direction', () => {
    expect(Object.keys(report.results).sort()).toEqual([...BENCH_NAMES].sort());
    for (const [name, r] of Object.entries(report.results)) {
      const figures = Object.entries(r.figures);
      expect(figures.length, name).toBeGreaterThan(0);
      for (const [key, f] of figures) {
        for (const x of [f.value, f.min, f.max, f.n]) expect(Number.isFinite(x), `${name} ${key}: ${JSON.stringify(f)}`).toBe(true);
        expect(f.min, `${name} ${key}`).toBeLessThanOrEqual(f.max);
        expect(f.unit, `${name} ${key}`).not.toBe('');
        expect(['lower', 'higher'], `${name} ${key}`).toContain(f.better);
      }
    }
  });

  it('holds the figures the issue asks for', () => {
    const has = (bench: string, key: string) => expect(Object.keys(report.results[bench]?.figures ?? {}), `${bench} ${key}`).toContain(key);
    for (const topo of ['main-worker', 'worker-worker']) {
      for (const path of ['port', 'ring-block', 'ring-async', 'comlink']) for (const p of ['p50', 'p99', 'p999']) has('paths', `rtt/${path}/${topo}/idle/${p}`);
      has('paths', `rtt/port/${topo}/busy/p50`);
      for (const batch of ['x1', 'x64']) {
        has('paths', `tput/port/${topo}/async-async/${batch}`);
        has('paths', `tput/ring-block/${topo}/block-block/${batch}`);
        has('paths', `tput/ring-async/${topo}/async-async/${batch}`);
        has('paths', `tput/comlink/${topo}/calls/${batch}`);
      }
    }
    has('paths', 'rtt/hub/worker-worker/idle/p50');
    has('paths', 'tput/hub/worker-worker/async-async/x64');
    for (const pool of ['piscina', 'piscina-c16']) for (const batch of ['x1', 'x64']) has('paths', `tput/${pool}/main-worker/calls/${batch}`);
    for (const sync of ['durable', 'nosync']) {
      for (const k of ['p50', 'p99', 'records-per-s']) {
        has('storage', `log/${sync}/x1/${k}`);
        has('storage', `log/${sync}/x256/${k}`);
      }
    }
    for (const s of ['durable', 'memory']) for (const p of ['p50', 'p99']) has('single-decree', `decision/${s}/${p}`);
    for (const m of ['cold', 'warm']) for (const p of ['p50', 'p99']) for (const c of ['restart', 'restart/kv']) has('restart', `${c}/${m}/${p}`);
    for (const c of ['restart', 'restart/kv']) {
      // The ratio of cold to warm carries both spreads (cold's fastest over warm's slowest, and the other way round), so that --compare can find it within noise.
      const f = (m: string) => report.results.restart?.figures[`${c}/${m}/p50`] as { value: number; min: number; max: number };
      expect(f('cold-vs-warm').value).toBeCloseTo(f('cold').value / f('warm').value, 9);
      expect(f('cold-vs-warm').min).toBeCloseTo(f('cold').min / f('warm').max, 9);
      expect(f('cold-vs-warm').max).toBeCloseTo(f('cold').max / f('warm').min, 9);
    }
    for (const s of ['durable', 'memory']) {
      has('kv-curve', `a3/${s}/port/b256w32/max-cmds-per-s`);
      has('kv-curve', `a3/${s}/port/b256w32/half-load/p50`);
      // A fresh cluster's first second, and its first second at one client after that, measured apart from the load points, which come after it settles at both loads.
      for (const p of ['cold', 'cold-c1']) for (const k of ['cmds-per-s', 'p50', 'p99']) has('kv-curve', `a3/${s}/port/b256w32/${p}/${k}`);
      has('efficiency', `${s}/efficiency`);
    }
    has('efficiency', 'raw/msgs-per-s');
    for (const mix of ['write', 'mixed']) {
      for (const c of [1, 8, 64, 256]) for (const k of ['ops-per-s', 'p50', 'p99', 'p999', 'cpu-us-per-op']) has('kv-clients', `${mix}/c${c}/${k}`);
    }
    for (const stage of ['client-to-leader', 'leader-to-acceptors', 'durable-append', 'accepted-to-learner', 'apply', 'answer']) has('kv-clients', `breakdown/stage/${stage}/mean`);
    for (const k of ['replace/write-unavailability', 'replace/duration', 'throughput/before', 'throughput/during', 'throughput/after']) has('reconfig', k);
    for (const w of [1, 2]) has('sim-scaling', `workers-${w}/seeds-per-s`);
    has('sim-scaling', 'speedup-2-over-1');
  });

  it('judges every goal on a measured figure, without asserting it', () => {
    expect(report.goals.length).toBe(17);
    for (const g of report.goals) {
      expect(Number.isFinite(g.measured), g.id).toBe(true);
      expect(g.met).toBe(g.op === '>=' ? (g.measured as number) >= g.target : (g.measured as number) <= g.target);
    }
  });

  it('writes a self-contained HTML report with inline SVG charts', () => {
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toMatch(/<svg[\s>]/);
    expect(html).toMatch(/<polyline /);
    expect(html).toMatch(/Goals \(reported, not asserted\)/);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<script|<link|@import|url\(/i);
  });
});

describe('synod bench --compare', () => {
  const fig = (value: number, unit: string, better: 'lower' | 'higher') => ({ value, min: value, max: value, n: 1, unit, better });
  const report = (figures: Record<string, ReturnType<typeof fig>>, date: string) => ({ env: { date, commit: null }, options: {}, results: { demo: { title: 'demo', figures } }, goals: [], errors: {} });
  const oldFile = join(dir, 'old.json');
  const newFile = join(dir, 'new.json');
  const oldFigures = { 'lat/p50': fig(2, 'ms', 'lower'), 'rate/cmds': fig(80_000, 'cmds/s', 'higher'), 'lat/p99': fig(4, 'ms', 'lower'), 'gone/only-old': fig(1, 'ms', 'lower') };
  const newFigures = { 'lat/p50': fig(1.5, 'ms', 'lower'), 'rate/cmds': fig(60_000, 'cmds/s', 'higher'), 'lat/p99': fig(5, 'ms', 'lower'), 'new/only-new': fig(1, 'ms', 'lower') };
  writeFileSync(oldFile, JSON.stringify(report(oldFigures, '2026-01-01T00:00:00.000Z')));
  writeFileSync(newFile, JSON.stringify(report(newFigures, '2026-01-02T00:00:00.000Z')));

  it('prints old, new and new/old of every figure in both, and which way is better', () => {
    const r = synod(['bench', '--compare', oldFile, newFile]);
    expect(r.status).toBe(0);
    const line = (key: string) => r.stdout.split('\n').find((l) => l.startsWith(`${key} `)) ?? '';
    for (const key of ['lat/p50', 'rate/cmds', 'lat/p99'] as const) {
      const o = oldFigures[key].value;
      const n = newFigures[key].value;
      expect(line(key), key).toContain(`${(n / o).toFixed(3)}x`);
    }
    expect(line('lat/p50')).toMatch(/lower is better\s+better$/);
    expect(line('rate/cmds')).toMatch(/higher is better\s+worse$/);
    expect(line('lat/p99')).toMatch(/lower is better\s+worse$/);
    expect(line('gone/only-old')).toBe('');
    expect(line('new/only-new')).toBe('');
    expect(r.stdout).toMatch(/3 figures compared: 1 better, 2 worse.*1 only in old, 1 only in new/);
  });

  it('calls a move inside the spread of the runs "within noise", and only a move outside it better or worse', () => {
    const ranged = (value: number, min: number, max: number, better: 'lower' | 'higher') => ({ value, min, max, n: 6, unit: 'ms', better });
    const a = join(dir, 'noisy-old.json');
    const b = join(dir, 'noisy-new.json');
    // p99 from six samples: 4 -> 5 ms, but the runs spread over 3-7 and 4-8 ms.
    writeFileSync(a, JSON.stringify(report({ 'lat/p99': ranged(4, 3, 7, 'lower'), 'lat/p50': ranged(2, 1.9, 2.1, 'lower')}, '2026-01-01T00:00:00.000Z')));
    writeFileSync(b, JSON.stringify(report({ 'lat/p99': ranged(5, 4, 8, 'lower'), 'lat/p50': ranged(3, 2.8, 3.2, 'lower')}, '2026-01-02T00:00:00.000Z')));
    const r = synod(['bench', '--compare', a, b]);
    expect(r.status).toBe(0);
    const line = (key: string) => r.stdout.split('\n').find((l) => l.startsWith(`${key} `)) ?? '';
    expect(line('lat/p99')).toMatch(/lower is better\s+within noise$/);
    expect(line('lat/p50')).toMatch(/lower is better\s+worse$/);
    expect(r.stdout).toMatch(/2 figures compared: 0 better, 1 worse, 1 within noise/);
  });

  it('refuses a file that is not a report, with a clear error and exit 2', () => {
    const bogus = join(dir, 'bogus.json');
    writeFileSync(bogus, JSON.stringify({ hello: 'world' }));
    const r = synod(['bench', '--compare', oldFile, bogus]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bogus} is not a synod bench --json report`);
    expect(r.stdout).toBe('');
  });

  it('refuses reports that share no figure, or disagree on a unit (exit 2)', () => {
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify(report({ 'something/else': fig(1, 'ms', 'lower') }, '2026-01-03T00:00:00.000Z')));
    const none = synod(['bench', '--compare', oldFile, other]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/share no figure/);
    const units = join(dir, 'units.json');
    writeFileSync(units, JSON.stringify(report({ 'lat/p50': fig(1500, 'us', 'lower') }, '2026-01-03T00:00:00.000Z')));
    const mismatch = synod(['bench', '--compare', oldFile, units]);
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toMatch(/lat\/p50 is in ms .* but in us/);
  });

  it('needs exactly two files', () => {
    const r = synod(['bench', '--compare', oldFile]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/two files/);
  });
});

describe('synod bench arguments', () => {
  it('an unknown --only name exits 2 and lists the benchmarks', () => {
    const r = synod(['bench', '--only', 'paths', 'nosuch']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown benchmark "nosuch"/);
    for (const name of BENCH_NAMES) expect(r.stderr).toContain(name);
  });

  it('output files must be in an existing directory, checked before any benchmark runs (exit 2, nothing created)', () => {
    const missing = join(dir, 'no-such-dir');
    for (const args of [['--json-out', join(missing, 'r.json')], ['--json', join(missing, 'r.json')], ['--html', join(missing, 'r.html')]]) {
      const r = synod(['bench', '--only', 'paths', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/does not exist/);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('--json prints the report on stdout as one object, as every other --json does; --json FILE, the old spelling of --json-out, still writes the file', () => {
    const r = synod(['bench', '--only', 'storage', '--quick', '--repeats', '1', '--json'], 110_000);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ReportJson;
    expect(Object.keys(report.results)).toEqual(['storage']);
    expect(report.errors).toEqual({});
    const file = join(dir, 'old-spelling.json');
    const old = synod(['bench', '--only', 'storage', '--quick', '--repeats', '1', '--json', file], 110_000);
    expect(old.status, old.stderr).toBe(0);
    expect(old.stderr).toMatch(/--json FILE is the old spelling of --json-out FILE/);
    expect(old.stdout).toMatch(/Goals \(reported, not asserted\)/);
    expect(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as ReportJson).results)).toEqual(['storage']);
  });

  it('--compare takes no report output flags (exit 2)', () => {
    const r = synod(['bench', '--compare', 'a.json', 'b.json', '--json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/takes no --json/);
  });

  it('a bad --repeats exits 2', () => {
    const r = synod(['bench', '--repeats', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--repeats/);
  });

  it('--help describes the options and names every benchmark', () => {
    const r = synod(['bench', '--help']);
    expect(r.status).toBe(0);
    for (const opt of ['--quick', '--only', '--json', '--json-out', '--html', '--repeats', '--compare']) expect(r.stdout).toContain(opt);
    for (const name of BENCH_NAMES) expect(r.stdout).toContain(name);
  });
});
