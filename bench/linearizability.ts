/**
 * Linearizability checker throughput: operations checked per second on
 * generated histories (10 clients, 10 keys) of 2,000 and 20,000 operations at
 * several concurrency levels, median (min–max) over several repeats after a
 * warm-up. Each history is linearizable by construction; it is also checked
 * with its last read changed to a value never written, which the checker must
 * refute by exhausting that key. A wrong verdict stops the benchmark.
 *
 * Then the hard histories: one key, 20 clients, 3,000 operations with 8 and
 * 10 operations in flight at once and values from a small range (10), so
 * that reads and cas match many writes and the search branches. These are
 * the histories to compare with Porcupine on (write them out with
 * `--write-hard DIR`); before the typed-array cache the checker took 3.8-6x
 * Porcupine's time on such histories, and the goal is within 2x.
 *
 *   npx tsc -p . && node dist/bench/linearizability.js [--repeats R] [--info RATE] [--hard-only] [--write-hard DIR]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatHistory, randomRegisterHistory, type HistoryEvent } from '../src/check/history.js';
import { checkLinearizable, type LinearizabilityResult } from '../src/check/linearizability.js';

const { values } = parseArgs({
  options: { repeats: { type: 'string', default: '5' }, info: { type: 'string', default: '0.01' }, 'hard-only': { type: 'boolean' }, 'write-hard': { type: 'string' } },
});
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

/** The history with its last successful read changed to a value never written, so the search must exhaust that key. */
function broken(history: readonly HistoryEvent[]): HistoryEvent[] {
  const last = history.findLastIndex((e) => e.type === 'ok' && e.f === 'read');
  return history.map((e, i) => (i === last ? { ...e, value: 'never written' } : e));
}

const fmt = (ops: number, t: { median: number; min: number; max: number }) =>
  `${t.median.toFixed(1)} ms (${t.min.toFixed(1)}-${t.max.toFixed(1)}) = ${Math.round((ops / t.median) * 1000)} ops/s`;

if (!values['hard-only']) {
  process.stdout.write(`10 clients, 10 keys, info rate ${infoRate}; median (min-max) of ${repeats} runs\n`);
  for (const ops of [2000, 20_000]) {
    for (const concurrency of [1, 3, 10]) {
      const history = randomRegisterHistory({ ...shape, seed: ops + concurrency, ops, concurrency });
      const ok = time(history, 'linearizable');
      const refuted = time(broken(history), 'not-linearizable');
      process.stdout.write(`${String(ops).padStart(6)} ops, concurrency ${String(concurrency).padStart(2)}: ok in ${fmt(ops, ok)}; refuted in ${fmt(ops, refuted)}\n`);
    }
  }
}

process.stdout.write(`hard: 1 key, 20 clients, 3,000 ops, values 0-9, no info; median (min-max) of ${repeats} runs\n`);
for (const concurrency of [8, 10]) {
  for (const seed of [1, 2, 3]) {
    const history = randomRegisterHistory({ seed, ops: 3000, clients: 20, keys: 1, concurrency, values: 10 });
    if (values['write-hard'] !== undefined) {
      writeFileSync(join(values['write-hard'], `hard-c${concurrency}-s${seed}.jsonl`), formatHistory(history));
      writeFileSync(join(values['write-hard'], `hard-c${concurrency}-s${seed}-broken.jsonl`), formatHistory(broken(history)));
    }
    const ok = time(history, 'linearizable');
    const refuted = time(broken(history), 'not-linearizable');
    process.stdout.write(`  concurrency ${String(concurrency).padStart(2)}, seed ${seed}: ok in ${fmt(3000, ok)}; refuted in ${fmt(3000, refuted)}\n`);
  }
}
