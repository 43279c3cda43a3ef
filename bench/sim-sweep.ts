/**
 * Simulator throughput: seeds/s and steps/s of a sweep, median (min–max) over
 * several repeats after a warm-up. Run with `npm run bench:sim`.
 *
 *   node dist/bench/sim-sweep.js [--seeds N] [--repeats R]
 */
import { parseArgs } from 'node:util';
import { sweep } from '../src/sim/sweep.js';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '500' }, repeats: { type: 'string', default: '5' } } });
const seeds = Number(values.seeds);
const repeats = Number(values.repeats);
if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(repeats) || repeats < 1) {
  process.stderr.write('usage: sim-sweep [--seeds N>=1] [--repeats R>=1]\n');
  process.exit(2);
}

const cluster = { proposers: 3, acceptors: 5, learners: 2, steps: 2000 };
const mixes = {
  default: {},
  heavy: { drop: 0.2, dup: 0.1, delay: 0.05, crash: 0.02, partition: 0.01 },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
sweep({ ...cluster, first: 1, last: Math.min(seeds, 100) }); // warm-up

for (const [name, faults] of Object.entries(mixes)) {
  const seedRates: number[] = [];
  const stepRates: number[] = [];
  let decided = 0;
  for (let r = 0; r < repeats; r++) {
    const res = sweep({ ...cluster, faults, first: 1, last: seeds, clock: () => performance.now() });
    seedRates.push(res.seedsPerSec);
    stepRates.push(res.stepsPerSec);
    decided = res.decidedRuns;
    if (res.violatingRuns > 0) throw new Error(`violation at seed ${res.firstViolation?.seed}`);
  }
  const fmt = (xs: number[]) => `${median(xs)} (${Math.min(...xs)}–${Math.max(...xs)})`;
  process.stdout.write(`${name.padEnd(8)} ${seeds} seeds x ${cluster.steps} steps: ${fmt(seedRates)} seeds/s, ${fmt(stepRates)} steps/s; decided ${decided}/${seeds}\n`);
}
