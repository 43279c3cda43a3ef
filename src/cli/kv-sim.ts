/**
 * `synod kv-sim`: the replicated key-value store (Multi-Paxos) in the
 * deterministic simulator. Clients run reads, writes and compare-and-sets
 * under faults; the history is checked for linearizability and the log for
 * safety.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { formatHistory } from '../check/history.js';
import { checkLinearizable, type LinearizabilityResult } from '../check/linearizability.js';
import { KV_FAULTS, simulateKv } from '../sim/kvsim.js';
import { sweepKv } from '../sim/kvsweep.js';
import { DEFAULT_FAULTS } from '../sim/simulator.js';
import { createProgress } from '../util/progress.js';
import { addFaultOptions, choiceArg, faultsOf, intArg, probabilityArg, outputFileArg, seedRangeArg, type FaultFlags } from './args.js';

interface KvSimFlags extends FaultFlags {
  seed?: number;
  seeds?: { first: number; last: number };
  clients: number;
  ops: number;
  keys: number;
  proposers: number;
  acceptors: number;
  learners: number;
  crashLeader: number;
  batch: number;
  window: number;
  compactEvery: number;
  bug?: 'stale-read';
  history?: string;
  json?: boolean;
  progress: boolean;
}

/** Registers the `kv-sim` command on `program`. */
export function addKvSimCommand(program: Command, exit: (code: number) => void): void {
  const command = program
    .command('kv-sim')
    .description('run the replicated key-value store (Multi-Paxos) in the deterministic simulator and check its history for linearizability')
    .option('--seed <n>', 'seed of a single run (default: 1)', intArg(Number.MIN_SAFE_INTEGER))
    .option('--seeds <first..last>', 'sweep every seed in the range and print a summary', seedRangeArg)
    .option('--clients <c>', 'concurrent clients, each with one operation outstanding', intArg(1, 1000), 10)
    .option('--ops <o>', 'operations in all, shared among the clients', intArg(1), 2000)
    .option('--keys <k>', 'distinct keys', intArg(1, 10_000), 5)
    .option('--proposers <p>', 'number of proposers (leader candidates)', intArg(1, 64), 3)
    .option('--acceptors <a>', 'number of acceptors', intArg(1, 64), 3)
    .option('--learners <l>', 'number of learners (replicas of the store)', intArg(1, 64), 2);
  addFaultOptions(command, { ...DEFAULT_FAULTS, ...(KV_FAULTS as typeof DEFAULT_FAULTS) })
    .option('--crash-leader <p>', 'probability, at each step, that the current leader crashes', probabilityArg, 0)
    .option('--batch <n>', 'most commands per log slot', intArg(1, 100_000), 64)
    .option('--window <n>', 'most slots in flight', intArg(1, 100_000), 32)
    .option('--compact-every <n>', 'learners snapshot their state every n slots and the log is trimmed below what all have snapshotted (0: never)', intArg(0), 1000)
    .option('--bug <name>', 'control bug the checker must catch: stale-read (replicas answer reads from their own, possibly lagging, state)', choiceArg(['stale-read'] as const))
    .option('--history <file>', 'write the history (single run), or the first failing run\'s history (sweep), as Jepsen-format JSON lines', outputFileArg)
    .option('--json', 'print exactly one JSON object instead of text')
    .option('--no-progress', 'sweep: no progress on stderr (a bar on a terminal; otherwise a line when the sweep starts and one every 5 s)')
    .addHelpText('after', '\nExit status: 0 when every history is linearizable and the log safe, 1 otherwise (including a linearizability check that ran out of time), 2 on bad arguments.')
    .action((flags: KvSimFlags) => {
      if (flags.seed !== undefined && flags.seeds !== undefined) {
        process.stderr.write('synod kv-sim: give --seed or --seeds, not both\n');
        return exit(2);
      }
      if (flags.clients > flags.ops) {
        process.stderr.write(`synod kv-sim: --clients (${flags.clients}) must not exceed --ops (${flags.ops})\n`);
        return exit(2);
      }
      exit(flags.seeds ? runSweep(flags) : runOne(flags));
    });
}

function runOptions(f: KvSimFlags) {
  return {
    clients: f.clients,
    ops: f.ops,
    keys: f.keys,
    proposers: f.proposers,
    acceptors: f.acceptors,
    learners: f.learners,
    faults: faultsOf(f),
    crashLeader: f.crashLeader,
    batchMax: f.batch,
    window: f.window,
    compactEvery: f.compactEvery,
    bug: f.bug ?? null,
  };
}

function verdict(lin: LinearizabilityResult): string {
  return lin.ok ? 'linearizable' : lin.status === 'unknown' ? `UNKNOWN (${lin.reason})` : `NOT LINEARIZABLE: ${lin.reason}`;
}

function runOne(f: KvSimFlags): number {
  const seed = f.seed ?? 1;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (!f.json) out(`seed=${seed}`);
  const r = simulateKv({ ...runOptions(f), seed });
  const lin = checkLinearizable(r.history, { timeoutMs: 30_000 });
  if (f.history) writeFileSync(f.history, formatHistory(r.history));
  const ok = lin.ok && r.violations.length === 0;
  if (f.json) {
    const { history: _history, ...rest } = r;
    out(JSON.stringify({ seed, ok, ops: f.ops, completed: r.completed, unknown: r.unknown, opsPerSec: r.stats.opsPerSec, latencyP50Ms: r.stats.latencyP50Ms, latencyP99Ms: r.stats.latencyP99Ms, leaderChanges: r.stats.leaderChanges, violations: r.violations, linearizability: lin.ok ? { status: lin.status } : { status: lin.status, key: lin.key, reason: lin.reason }, stats: { ...rest.stats, steps: r.steps, time: r.time }, history: f.history ?? null }));
    return ok ? 0 : 1;
  }
  out(`synod kv-sim: ${f.clients} clients, ${f.ops} ops on ${f.keys} keys; ${f.proposers} proposers, ${f.acceptors} acceptors, ${f.learners} learners; drop=${f.drop} dup=${f.dup} delay=${f.delay} crash=${f.crash} partition=${f.partition} crash-leader=${f.crashLeader}${f.bug ? `; bug=${f.bug}` : ''}`);
  out(`operations: ${r.completed} completed, ${r.unknown} unknown (still unanswered at the end)`);
  out(`throughput: ${r.stats.opsPerSec} ops/s of virtual time; latency p50 ${r.stats.latencyP50Ms} ms, p99 ${r.stats.latencyP99Ms} ms (virtual)`);
  out(`leader changes: ${r.stats.leaderChanges}; slots chosen: ${r.stats.slotsChosen}; crashes: ${r.stats.crashes}; messages sent ${r.stats.sent}, dropped ${r.stats.dropped}`);
  out(`log safety: ${r.violations.length === 0 ? 'OK' : `${r.violations.length} VIOLATION(S)`}`);
  for (const v of r.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  out(`linearizability: ${verdict(lin)}`);
  if (f.history) out(`history written to ${f.history}`);
  return ok ? 0 : 1;
}

function runSweep(f: KvSimFlags): number {
  const { first, last } = f.seeds as { first: number; last: number };
  const total = last - first + 1;
  if (!f.json) process.stdout.write(`seeds=${first}..${last}\n`);
  const progress = createProgress({ command: 'synod kv-sim', unit: 'seeds', total, enabled: f.progress });
  const t0 = performance.now();
  const r = sweepKv({ ...runOptions(f), first, last, onProgress: (done) => progress.update(done) });
  progress.stop();
  const elapsedMs = Math.round(performance.now() - t0);
  const failure = r.firstFailure;
  const replay = failure ? replayCommand(f, failure.seed) : null;
  if (failure && f.history) writeFileSync(f.history, formatHistory(simulateKv({ ...runOptions(f), seed: failure.seed }).history));
  if (f.json) {
    process.stdout.write(
      `${JSON.stringify({
        runs: r.runs,
        ops: r.ops,
        completed: r.completed,
        unsafeRuns: r.unsafeRuns,
        nonLinearizableRuns: r.nonLinearizableRuns,
        unknownRuns: r.unknownRuns,
        leaderChanges: r.leaderChanges,
        firstFailure: failure ? { seed: failure.seed, violations: failure.violations, linearizability: failure.linearizability.ok ? { status: failure.linearizability.status } : { status: failure.linearizability.status, reason: failure.linearizability.reason }, replay } : null,
        elapsedMs,
        seedsPerSec: Math.round((r.runs * 1000) / Math.max(1, elapsedMs)),
      })}\n`,
    );
  } else {
    process.stdout.write(`${r.runs} runs, ${r.completed}/${r.ops} operations completed, ${r.leaderChanges} leader changes: ${r.unsafeRuns} with log-safety violations, ${r.nonLinearizableRuns} not linearizable, ${r.unknownRuns} undecided; ${elapsedMs} ms\n`);
    if (failure) {
      process.stdout.write(`first failure at seed ${failure.seed}: ${failure.violations[0]?.message ?? verdict(failure.linearizability)}\nreplay it: ${replay}\n`);
    } else process.stdout.write('OK on every seed\n');
  }
  return failure ? 1 : 0;
}

function replayCommand(f: KvSimFlags, seed: number): string {
  const parts = [
    `synod kv-sim --seed ${seed} --clients ${f.clients} --ops ${f.ops} --keys ${f.keys}`,
    `--proposers ${f.proposers} --acceptors ${f.acceptors} --learners ${f.learners}`,
    `--drop ${f.drop} --dup ${f.dup} --delay ${f.delay} --crash ${f.crash} --partition ${f.partition} --crash-leader ${f.crashLeader}`,
    `--batch ${f.batch} --window ${f.window} --compact-every ${f.compactEvery}`,
  ];
  if (f.bug) parts.push(`--bug ${f.bug}`);
  return parts.join(' ');
}
