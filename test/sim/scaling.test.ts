// A sweep spread over 2 workers finds exactly what 1 worker finds, run as a
// user runs it (`synod sim --seeds 1..N --workers W`, each in a fresh
// process): only the rates may differ. Whether 2 workers are also faster
// depends on the machine and what else runs on it, so that is a benchmark
// (bench/sim-scaling.ts, `synod bench --only sim-scaling`), not a test.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

/** The sweep's JSON summary without what depends on speed or on the worker count itself. */
function sweep(seeds: number, workers: number): Record<string, unknown> {
  const r = spawnSync(process.execPath, [cli, 'sim', '--seeds', `1..${seeds}`, '--workers', String(workers), '--json', '--crash', '0.02', '--drop', '0.2'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(out).toMatchObject({ runs: seeds, workers });
  const { seedsPerSec, stepsPerSec, elapsedMs, workers: _w, chunk: _c, ...facts } = out;
  for (const x of [seedsPerSec, stepsPerSec, elapsedMs]) expect(typeof x).toBe('number');
  return facts;
}

describe('parallel sweep from the command line', () => {
  it('2 workers report the same runs, decisions, steps and violations as 1', () => {
    const one = sweep(200, 1);
    expect(one.decidedRuns).toBeGreaterThan(0);
    expect(one.totalSteps).toBeGreaterThan(0);
    expect(sweep(200, 2)).toEqual(one);
  });
});
