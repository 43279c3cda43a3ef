/**
 * The worker-thread cluster, single-decree: decision latency (propose ->
 * decided value back) on fresh clusters with durable LMDB, and restart time
 * (crash -> serving again, from the supervisor's restart events).
 * Medians and p99 over one run; run with `npm run bench:cluster`.
 *
 *   node dist/bench/cluster-single.js [--decisions N] [--restarts N] [--how terminate|exception|exit]
 */
import { parseArgs } from 'node:util';
import { createCluster } from '../src/runtime/cluster.js';
import type { CrashMode } from '../src/runtime/wire.js';

const { values } = parseArgs({
  options: { decisions: { type: 'string', default: '50' }, restarts: { type: 'string', default: '50' }, how: { type: 'string', default: 'terminate' } },
});
const decisions = Number(values.decisions);
const restarts = Number(values.restarts);
const how = values.how as CrashMode;
if (!(decisions >= 1 && restarts >= 1) || !['terminate', 'exception', 'exit'].includes(how)) {
  process.stderr.write('usage: cluster-single [--decisions N>=1] [--restarts N>=1] [--how terminate|exception|exit]\n');
  process.exit(2);
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};
const fmt = (xs: number[]) => `median ${quantile(xs, 0.5).toFixed(2)} ms, p99 ${quantile(xs, 0.99).toFixed(2)} ms, min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)} (n=${xs.length})`;

// Decision latency: a fresh 2/3/1 cluster per decision, since a single-decree cluster decides once.
const latencies: number[] = [];
for (let i = 0; i < decisions; i++) {
  const cluster = await createCluster({ proposers: 2, acceptors: 3, learners: 1 });
  try {
    const t0 = performance.now();
    await cluster.propose(`v${i}`, { timeoutMs: 10_000 });
    latencies.push(performance.now() - t0);
  } finally {
    await cluster.close();
  }
  if (process.stderr.isTTY) process.stderr.write(`\rdecisions ${i + 1}/${decisions}`);
}
if (process.stderr.isTTY) process.stderr.write('\n');
process.stdout.write(`single-decree decision, durable LMDB, fresh 2/3/1 cluster: ${fmt(latencies)}\n`);

// Restart time: crash an acceptor of a warm cluster, wait until it serves again, pause so the spare worker is booted again.
// Backoff is off so this measures the restart itself; with the default policy, crashes this close together
// would (rightly) be slowed by the exponential backoff that guards against crash loops.
const cluster = await createCluster({ proposers: 1, acceptors: 3, learners: 1, supervisor: { backoffBaseMs: 0, backoffMaxMs: 0, maxRestarts: restarts + 1, windowMs: 1000 } });
const recovery: number[] = [];
try {
  await cluster.propose('warm', { timeoutMs: 10_000 });
  for (let i = 0; i < restarts; i++) {
    const back = new Promise<number>((resolve) => cluster.once('restart', (e) => resolve(e.recoveryMs)));
    await cluster.crash('a1', how);
    recovery.push(await back);
    await new Promise((r) => setTimeout(r, 300));
    if (process.stderr.isTTY) process.stderr.write(`\rrestarts ${i + 1}/${restarts}`);
  }
} finally {
  await cluster.close();
}
if (process.stderr.isTTY) process.stderr.write('\n');
process.stdout.write(`restart (crash by ${how} -> serving again), warm spare, no backoff: ${fmt(recovery)}\n`);
