/**
 * The benchmark suite behind `synod bench` and `npm run bench`: a registry
 * of named benchmarks, each with a quick and a full configuration, run one
 * after another with a progress display, summarized as a table on the
 * terminal, and written as JSON (`--json`) and as a self-contained HTML
 * report (`--html`). The goals from the issue are reported, never asserted.
 *
 * Every benchmark warms up first (discarded), then repeats; a figure is the
 * median over repeats with its min–max, or, for a benchmark whose repeats
 * are single samples (a decision, a restart), the percentile over the
 * samples with their min–max. Percentiles are nearest-rank over sorted
 * samples. Comparisons between paths or modes are ratios of figures
 * measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { createProgress } from '../src/util/progress.js';
import { packageRoot } from '../src/util/paths.js';
import { restartBench, singleDecreeBench } from './cluster-single.js';
import { efficiencyBench, kvCurveBench } from './kv-cluster.js';
import { kvClientsBench } from './kv-clients.js';
import { reconfigBench } from './kv-reconfig.js';
import type { BenchDef } from './lib/context.js';
import { renderHtml } from './lib/html.js';
import { fmt, renderTable, type BenchResult, type Env, type Figure, type Goal, type SuiteReport, type Table } from './lib/report.js';
import { BENCH_NAMES } from './names.js';
import { pathsBench } from './paths.js';
import { simScalingBench } from './sim-scaling.js';
import { storageBench } from './storage.js';

/** Every benchmark, in the order they run. */
export const REGISTRY: readonly BenchDef[] = [pathsBench, storageBench, singleDecreeBench, restartBench, kvCurveBench, kvClientsBench, efficiencyBench, reconfigBench, simScalingBench];

if (REGISTRY.map((b) => b.name).join() !== BENCH_NAMES.join()) throw new Error('bench/names.ts does not match the registry in bench/suite.ts');

/** The goals of the issue. `pick` finds the figure a goal is judged on. */
interface GoalDef {
  readonly id: string;
  readonly description: string;
  readonly bench: string;
  readonly op: '>=' | '<=';
  readonly target: number;
  readonly unit: string;
  /** The figure key, or a pattern: then the best matching figure counts. */
  readonly figure: string | RegExp;
  /** How a pattern is shown while no figure matches it. */
  readonly label?: string;
}

export const GOALS: readonly GoalDef[] = [
  { id: 'kv-durable-throughput', description: 'Multi-Paxos, 3 acceptors, durable: at least 100,000 commands/s (best closed-loop point of any 3-acceptor durable configuration)', bench: 'kv-curve', op: '>=', target: 100_000, unit: 'cmds/s', figure: /^a3\/durable\/[^/]+\/[^/]+\/max-cmds-per-s$/, label: 'a3/durable/*/*/max-cmds-per-s' },
  { id: 'kv-memory-throughput', description: 'Multi-Paxos, 3 acceptors, in memory: at least 300,000 commands/s (best of any 3-acceptor in-memory configuration)', bench: 'kv-curve', op: '>=', target: 300_000, unit: 'cmds/s', figure: /^a3\/memory\/[^/]+\/[^/]+\/max-cmds-per-s$/, label: 'a3/memory/*/*/max-cmds-per-s' },
  { id: 'kv-durable-half-load-p50', description: 'Commit p50 at half of max load, 3 acceptors, durable, port, batch 256/window 32', bench: 'kv-curve', op: '<=', target: 2, unit: 'ms', figure: 'a3/durable/port/b256w32/half-load/p50' },
  { id: 'kv-memory-half-load-p50', description: 'Commit p50 at half of max load, 3 acceptors, in memory, port, batch 256/window 32', bench: 'kv-curve', op: '<=', target: 2, unit: 'ms', figure: 'a3/memory/port/b256w32/half-load/p50' },
  { id: 'kv-1-client-p50', description: 'Key-value store, one client, write-only, durable: p50 (gryadka 0.38 ms)', bench: 'kv-clients', op: '<=', target: 0.38, unit: 'ms', figure: 'write/c1/p50' },
  { id: 'kv-1-client-p99', description: 'Key-value store, one client, write-only, durable: p99', bench: 'kv-clients', op: '<=', target: 1, unit: 'ms', figure: 'write/c1/p99' },
  { id: 'kv-1-client-cpu', description: 'Key-value store, one client, write-only, durable: CPU per operation, every thread (1.25x gryadka)', bench: 'kv-clients', op: '<=', target: 520, unit: 'us', figure: 'write/c1/cpu-us-per-op' },
  { id: 'kv-8-clients-throughput', description: 'Key-value store, 8 clients, write-only, durable: 1.5x gryadka (8,676 ops/s)', bench: 'kv-clients', op: '>=', target: 13_000, unit: 'ops/s', figure: 'write/c8/ops-per-s' },
  { id: 'kv-64-clients-throughput', description: 'Key-value store, 64 clients, write-only, durable: 3x gryadka (20,134 ops/s)', bench: 'kv-clients', op: '>=', target: 60_000, unit: 'ops/s', figure: 'write/c64/ops-per-s' },
  { id: 'kv-64-clients-p99', description: 'Key-value store, 64 clients, write-only, durable: p99 under 8 ms', bench: 'kv-clients', op: '<=', target: 8, unit: 'ms', figure: 'write/c64/p99' },
  { id: 'kv-mixed-1-client', description: 'Key-value store, one client: 50/50 reads/writes at 1.5x the write-only throughput (same repeat)', bench: 'kv-clients', op: '>=', target: 1.5, unit: 'x', figure: 'mixed-over-write/c1' },
  { id: 'kv-mixed-64-clients', description: 'Key-value store, 64 clients, 50/50 reads/writes: 4x gryadka (16,096 ops/s)', bench: 'kv-clients', op: '>=', target: 64_384, unit: 'ops/s', figure: 'mixed/c64/ops-per-s' },
  { id: 'efficiency', description: 'Efficiency: actor-to-actor messages/s over raw batched postMessage messages/s (in-memory cluster)', bench: 'efficiency', op: '>=', target: 0.7, unit: 'x', figure: 'memory/efficiency' },
  { id: 'restart-cold', description: 'Restart, crash -> serving again, cold (no spare worker), p50', bench: 'restart', op: '<=', target: 50, unit: 'ms', figure: 'restart/cold/p50' },
  { id: 'restart-warm', description: 'Restart, crash -> serving again, warm spare, p50', bench: 'restart', op: '<=', target: 5, unit: 'ms', figure: 'restart/warm/p50' },
  { id: 'sim-2-workers', description: 'A seed sweep with 2 workers is faster than with 1 (speed-up of 2 over 1, fresh processes)', bench: 'sim-scaling', op: '>=', target: 1, unit: 'x', figure: 'speedup-2-over-1' },
  { id: 'single-decree-durable-p50', description: 'Single-decree decision, durable, p50', bench: 'single-decree', op: '<=', target: 1.5, unit: 'ms', figure: 'decision/durable/p50' },
];

/** Judges every goal against `results`. */
export function judgeGoals(results: Record<string, BenchResult>): Goal[] {
  return GOALS.map((g) => {
    const figures = results[g.bench]?.figures ?? {};
    let key = typeof g.figure === 'string' ? g.figure : (g.label ?? g.figure.source);
    let f: Figure | undefined;
    if (typeof g.figure === 'string') f = figures[g.figure];
    else {
      for (const [k, x] of Object.entries(figures)) {
        if (!g.figure.test(k)) continue;
        if (f === undefined || (g.op === '>=' ? x.value > f.value : x.value < f.value)) {
          f = x;
          key = k;
        }
      }
    }
    const measured = f && Number.isFinite(f.value) ? f.value : null;
    const met = measured === null ? null : g.op === '>=' ? measured >= g.target : measured <= g.target;
    return { id: g.id, description: g.description, bench: g.bench, figure: key, op: g.op, target: g.target, unit: g.unit, measured, met };
  });
}

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  readonly quick: boolean;
  /** Benchmark names to run (null: all). */
  readonly only: readonly string[] | null;
  /** Repeats for every benchmark (null: each benchmark's default). */
  readonly repeats: number | null;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim() || null;
  } catch {
    return null;
  }
}

/** A progress display on stderr (src/util/progress.ts): a bar on a terminal; else a line every few seconds and one per finished benchmark. */
interface Progress {
  begin(bench: string): void;
  step(detail?: string): void;
  end(bench: string, seconds: number, figures: number, error?: string): void;
  stop(): void;
}

function progressDisplay(total: number): Progress {
  const progress = createProgress({ command: 'synod bench', unit: 'steps', total, enabled: true });
  const tty = process.stderr.isTTY === true;
  let bench = '';
  let done = 0;
  return {
    begin: (b) => {
      bench = b;
      progress.update(done, `${b}: starting`);
    },
    step: (detail) => progress.update(++done, `${bench}${detail ? `: ${detail}` : ''}`),
    end: (b, s, n, error) => {
      // On a terminal the bar shows it; in a log, a line per benchmark says what finished.
      if (tty) return;
      process.stderr.write(error === undefined ? `synod bench: ${b} done in ${s.toFixed(1)} s (${n} figures)\n` : `synod bench: ${b} FAILED after ${s.toFixed(1)} s: ${error}\n`);
    },
    stop: () => progress.stop(),
  };
}

/** Runs the selected benchmarks and returns the report (nothing is printed but the progress). */
export async function runSuite(o: SuiteOptions): Promise<SuiteReport> {
  const selected = o.only === null ? REGISTRY : REGISTRY.filter((b) => o.only?.includes(b.name));
  const started = new Date();
  const loadBefore = loadavg();
  const repeatsOf = (b: BenchDef) => o.repeats ?? (o.quick ? b.repeats.quick : b.repeats.full);
  const progress = progressDisplay(selected.reduce((sum, b) => sum + b.steps(o.quick, repeatsOf(b)), 0));
  const results: Record<string, BenchResult> = {};
  const errors: Record<string, string> = {};
  try {
    for (const b of selected) {
      progress.begin(b.name);
      const t0 = performance.now();
      try {
        const out = await b.run({ quick: o.quick, repeats: repeatsOf(b), step: (detail) => progress.step(detail) });
        const durationS = +((performance.now() - t0) / 1000).toFixed(1);
        results[b.name] = { title: b.title, description: b.description, durationS, ...out };
        progress.end(b.name, durationS, Object.keys(out.figures).length);
      } catch (err) {
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        errors[b.name] = message;
        progress.end(b.name, (performance.now() - t0) / 1000, 0, message.split('\n')[0]);
      }
    }
  } finally {
    progress.stop();
  }
  const cpuList = cpus();
  const env: Env = {
    node: process.version,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpus: cpuList.length,
    platform: process.platform,
    arch: process.arch,
    commit: gitCommit(),
    date: started.toISOString(),
    totalMemGiB: +(totalmem() / 2 ** 30).toFixed(1),
    loadavgBefore: loadBefore,
    loadavgAfter: loadavg(),
    durationS: +((Date.now() - started.getTime()) / 1000).toFixed(1),
    percentiles: 'nearest rank over the sorted samples of one measurement (no histogram library)',
  };
  return { env, options: { quick: o.quick, only: o.only, repeats: o.repeats }, results, goals: judgeGoals(results), errors };
}

/** The goals as a table. */
export function goalsTable(goals: readonly Goal[]): Table {
  return {
    title: 'Goals (reported, not asserted)',
    head: ['goal', 'target', 'measured', 'result'],
    rows: goals.map((g) => [g.id, `${g.op} ${fmt(g.target)} ${g.unit}`, g.measured === null ? '-' : `${fmt(g.measured)} ${g.unit}`, g.met === null ? 'not measured' : g.met ? 'met' : 'MISSED']),
  };
}

/** The report as text for the terminal: every benchmark's tables, then the goals. */
export function renderText(report: SuiteReport): string {
  const e = report.env;
  const out: string[] = [];
  out.push(`synod bench — ${e.date}, node ${e.node}, ${e.cpus} x ${e.cpuModel}, ${e.platform} ${e.arch}, commit ${e.commit ?? 'unknown'}, ${report.options.quick ? 'quick' : 'full'}, ${e.durationS} s`);
  out.push('figures: median over repeats (min–max)');
  for (const [name, r] of Object.entries(report.results)) {
    out.push('');
    out.push(`== ${r.title} (${name}, ${r.durationS} s)`);
    for (const n of r.notes) out.push(`note: ${n}`);
    for (const t of r.tables) {
      out.push(renderTable(t));
      out.push('');
    }
  }
  for (const [name, err] of Object.entries(report.errors)) out.push(`${name} FAILED: ${err.split('\n')[0]}`);
  out.push(renderTable(goalsTable(report.goals)));
  return `${out.join('\n')}\n`;
}

/** Writes the report where asked. */
export function writeReport(report: SuiteReport, files: { json?: string; html?: string }): void {
  if (files.json !== undefined) writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  if (files.html !== undefined) writeFileSync(files.html, renderHtml(report));
}

