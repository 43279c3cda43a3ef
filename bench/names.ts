/**
 * The names of the benchmarks of `synod bench`, in the order they run. Kept
 * apart from the benchmarks themselves so that the command line can check
 * `--only` without loading them; bench/suite.ts checks it matches its
 * registry.
 */
export const BENCH_NAMES = ['paths', 'storage', 'single-decree', 'restart', 'kv-curve', 'kv-clients', 'efficiency', 'reconfig', 'sim-scaling'] as const;

export type BenchName = (typeof BENCH_NAMES)[number];

/** One line per benchmark, for `synod bench --help`. */
export const BENCH_SUMMARIES: Readonly<Record<BenchName, string>> = {
  paths: 'message paths: round trips and one-way throughput of port, hub, ring, comlink, piscina',
  storage: 'LMDB as the acceptors use it: lone durable appends, a turn of records per transaction, sync configurations against raw fdatasync',
  'single-decree': 'single-decree decision latency, durable and in memory',
  restart: 'crash -> serving again, cold (no spare worker) vs warm spare',
  'kv-curve': 'Multi-Paxos commands/s and commit latency against offered load',
  'kv-clients': 'the key-value store at 1/8/64/256 clients (write-only, 50/50), its CPU split by thread, and one operation stage by stage',
  efficiency: "the cluster's actor-to-actor message rate over raw batched postMessage",
  reconfig: 'an acceptor replaced through the log under load: write unavailability (p50/max gap between acknowledged writes) and throughput before/during/after',
  'sim-scaling': 'a seed sweep (synod sim --workers) with 1 and 2 workers: seeds/s and the speed-up',
};
