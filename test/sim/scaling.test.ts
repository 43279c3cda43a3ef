// A sweep with 2 workers must beat one with 1: the one timing comparison of
// the suite. It lives in a `*.alone.test.ts` file, which vitest.config.ts runs
// after every other test file has finished, so that no other test competes
// for the two cores it measures.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

describe('parallel sweep scaling', () => {
  it('a sweep with 2 workers is faster than with 1', () => {
    // The one timing comparison of the suite. Each sweep runs as a user runs it,
    // `synod sim --seeds 1..N --workers W` in a fresh process, so both start cold
    // (a warmed-up in-process sweep would be an unfair baseline). Both are measured
    // in the same test, with enough seeds that one worker takes >= 2 s, up to 3
    // attempts because the machine may be shared; only t2 < t1 is asserted.
    const timed = (seeds: number, workers: number) => {
      const t = performance.now();
      const r = spawnSync(process.execPath, [cli, 'sim', '--seeds', `1..${seeds}`, '--workers', String(workers), '--json'], { encoding: 'utf8' });
      const ms = performance.now() - t;
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ runs: seeds, workers });
      return ms;
    };
    const probe = 500;
    let seeds = Math.min(20_000, Math.max(1000, Math.ceil((probe * 2600) / timed(probe, 1))));
    const start = performance.now();
    const times: { seeds: number; t1: number; t2: number }[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const t1 = timed(seeds, 1);
      const t2 = timed(seeds, 2);
      times.push({ seeds, t1: Math.round(t1), t2: Math.round(t2) });
      if ((t2 < t1 && t1 >= 2000) || performance.now() - start > 15_000) break;
      if (t1 < 2000) seeds = Math.min(20_000, Math.ceil((seeds * 2600) / t1));
    }
    const last = times.at(-1) as { t1: number; t2: number };
    expect(last.t2, `attempts: ${JSON.stringify(times)}`).toBeLessThan(last.t1);
  });
});
