/**
 * Sweep scaling (the `sim-scaling` benchmark of `synod bench`): the same
 * seed sweep run as a user runs it, `synod sim --seeds 1..N --workers W` in
 * a fresh process, with 1 and with 2 workers, and the speed-up of 2 over 1.
 *
 * It used to be a test (2 workers must beat 1), which a machine busy with
 * other work can fail however the code behaves; a speed belongs here, where
 * it is reported. What the tests keep is what holds on any machine: the
 * sweep finds the same thing for any number of workers.
 *
 * Each run starts cold in its own process, so neither count profits from a
 * warmed-up one; the two counts alternate within a repeat, so a change in
 * the machine's load hits both alike.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../src/util/paths.js';
import type { BenchContext, BenchDef } from './lib/context.js';
import { figure, fmtFigure, type BenchOutput, type Figure } from './lib/report.js';

const WORKERS = [1, 2] as const;
// Quick: enough to see both counts run; a full run has each sweep take seconds, so process start-up is noise.
const seedsOf = (quick: boolean) => (quick ? 100 : 3000);

/** Runs one sweep in a fresh process; returns its wall time in ms. */
function sweepMs(seeds: number, workers: number): number {
  const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'sim', '--seeds', `1..${seeds}`, '--workers', String(workers), '--json', '--no-progress'], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`synod sim --workers ${workers} exited with ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { runs: number; workers: number };
  if (out.runs !== seeds || out.workers !== workers) throw new Error(`synod sim --workers ${workers} reported ${r.stdout.slice(0, 200)}`);
  return ms;
}

async function runScaling(ctx: BenchContext): Promise<BenchOutput> {
  const seeds = seedsOf(ctx.quick);
  const times: Record<number, number[]> = { 1: [], 2: [] };
  const speedups: number[] = [];
  for (let i = -1; i < ctx.repeats; i++) {
    const t = WORKERS.map((w) => sweepMs(seeds, w));
    ctx.step(i < 0 ? 'warm-up' : `repeat ${i + 1}/${ctx.repeats}`);
    if (i < 0) continue;
    WORKERS.forEach((w, k) => times[w]?.push(t[k] as number));
    speedups.push((t[0] as number) / (t[1] as number));
  }
  const figures: Record<string, Figure> = {};
  for (const w of WORKERS) {
    figures[`workers-${w}/seeds-per-s`] = figure((times[w] ?? []).map((ms) => (seeds * 1000) / ms), 'seeds/s', 'higher');
  }
  figures['speedup-2-over-1'] = figure(speedups, 'x', 'higher');
  const rate = (w: number) => figures[`workers-${w}/seeds-per-s`] as Figure;
  return {
    config: { seeds, workers: [...WORKERS], repeats: ctx.repeats },
    figures,
    charts: [{ kind: 'bars', title: 'Seed sweep, fresh process', unit: 'seeds/s', bars: WORKERS.map((w) => ({ label: `${w} worker${w > 1 ? 's' : ''}`, value: rate(w).value, min: rate(w).min, max: rate(w).max })) }],
    tables: [
      {
        title: `synod sim --seeds 1..${seeds} --workers W (fresh process each)`,
        head: ['workers', 'seeds/s'],
        rows: [...WORKERS.map((w) => [String(w), fmtFigure(rate(w))]), ['2 over 1', fmtFigure(figures['speedup-2-over-1'])]],
      },
    ],
    notes: [],
  };
}

/** The benchmark's entry in the suite's registry. */
export const simScalingBench: BenchDef = {
  name: 'sim-scaling',
  title: 'Sweep scaling',
  description: 'A seed sweep as `synod sim --seeds 1..N --workers W` runs it, in a fresh process, with 1 and 2 workers: seeds/s of each and the speed-up of 2 over 1.',
  repeats: { quick: 2, full: 5 },
  steps: (_quick, repeats) => repeats + 1,
  run: runScaling,
};
