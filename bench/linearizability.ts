/**
 * Linearizability checker throughput: operations checked per second on
 * generated histories (10 clients, 10 keys) of 2,000 and 20,000 operations at
 * several concurrency levels, median (min–max) over several repeats after a
 * warm-up. Each history is linearizable by construction; it is also checked
 * with its last read changed to a value never written, which the checker must
 * refute by exhausting that key. A wrong verdict stops the benchmark.
 *
 *   npx tsc -p . && node dist/bench/linearizability.js [--repeats R] [--info RATE]
 */
import { parseArgs } from 'node:util';
import { randomRegisterHistory, type HistoryEvent } from '../src/check/history.js';
import { checkLinearizable, type LinearizabilityResult } from '../src/check/linearizability.js';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '5' }, info: { type: 'string', default: '0.01' } } });
const repeats = Number(values.repeats);
const infoRate = Number(values.info);
if (!Number.isSafeInteger(repeats) || repeats < 1 || !(infoRate >= 0 && infoRate <= 1)) {
  process.stderr.write('usage: linearizability [--repeats R>=1] [--info RATE in [0, 1]]\n');
  process.exit(2);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const shape = { clients: 10, keys: 10, infoRate };

/** Median, min and max milliseconds to check `history`, which must get the verdict `expected`. */
function time(history: readonly HistoryEvent[], expected: LinearizabilityResult['status']) {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    const result = checkLinearizable(history);
    times.push(performance.now() - start);
    if (result.status !== expected) throw new Error(`expected ${expected}, got ${JSON.stringify(result)}`);
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

for (let i = 0; i < 3; i++) checkLinearizable(randomRegisterHistory({ ...shape, seed: i, ops: 20_000, concurrency: 3 })); // warm-up

process.stdout.write(`10 clients, 10 keys, info rate ${infoRate}; median (min-max) of ${repeats} runs\n`);
for (const ops of [2000, 20_000]) {
  for (const concurrency of [1, 3, 10]) {
    const history = randomRegisterHistory({ ...shape, seed: ops + concurrency, ops, concurrency });
    // The refutation case: the last successful read now returns a value never
    // written, so the search must exhaust that key's whole history.
    const last = history.findLastIndex((e) => e.type === 'ok' && e.f === 'read');
    const broken = history.map((e, i) => (i === last ? { ...e, value: 'never written' } : e));
    const ok = time(history, 'linearizable');
    const refuted = time(broken, 'not-linearizable');
    const fmt = (t: { median: number; min: number; max: number }) =>
      `${t.median.toFixed(1)} ms (${t.min.toFixed(1)}-${t.max.toFixed(1)}) = ${Math.round((ops / t.median) * 1000)} ops/s`;
    process.stdout.write(`${String(ops).padStart(6)} ops, concurrency ${String(concurrency).padStart(2)}: ok in ${fmt(ok)}; refuted in ${fmt(refuted)}\n`);
  }
}
