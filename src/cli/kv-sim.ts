/**
 * `synod kv-sim`: the replicated key-value store (Multi-Paxos) in the
 * deterministic simulator. Clients run reads, writes and compare-and-sets
 * under faults; the history is checked for linearizability and the log for
 * safety. Like `synod sim` it records and replays fault schedules, spreads
 * sweeps over worker threads and shrinks the first failing run (the shared
 * parts are in ./seeded.ts).
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { formatHistory } from '../check/history.js';
import type { LinearizabilityResult } from '../check/linearizability.js';
import { DEFAULT_KV_LIVENESS_MS, KV_BUGS, KV_FAULTS, KV_MESSAGE_TYPES, KV_PROFILES, type KvBugName, type KvProfile } from '../sim/kvsim.js';
import { checkedKvRun, shrinkKv } from '../sim/kvsweep.js';
import { parallelSweepKv } from '../sim/parallel.js';
import type { FaultSchedule, ScheduleFile } from '../sim/schedule.js';
import { DEFAULT_FAULTS } from '../sim/simulator.js';
import { addFaultOptions, choiceArg, faultsOf, intArg, outputFileArg, probabilityArg, seedRangeArg, shellQuote, type FaultFlags } from './args.js';
import { addLivenessOptions, addSeededOptions, livenessOptions, livenessWords, otherFailingSeeds, printShrunk, sweepProgress, readScheduleFlag, replayLine, scheduleReplayLine, seededFlagError, shrunkReport, writeSchedule, type LivenessFlags, type SeededFlags, type ShrunkReport } from './seeded.js';

interface KvSimFlags extends FaultFlags, SeededFlags, LivenessFlags {
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
  profile: KvProfile;
  reads: 'index' | 'log';
  learn: 'commit' | 'votes';
  reconfig?: number;
  spareAcceptors: number;
  spareLearners: number;
  spareProposers?: number;
  bug?: KvBugName;
  history?: string;
  /** Step bound; default 400 per operation. */
  steps?: number;
}

/** Budget of the linearizability check of a single run (and of each run a shrink makes). */
const CHECK_TIMEOUT_MS = 30_000;

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
    .option('--learners <l>', 'number of learners (replicas of the store)', intArg(1, 64), 2)
    .option('--steps <m>', 'upper bound on steps per run (default: 400 per operation; a run also ends when every operation is answered)', intArg(1));
  addFaultOptions(command, { ...DEFAULT_FAULTS, ...(KV_FAULTS as typeof DEFAULT_FAULTS) })
    .option('--crash-leader <p>', 'probability, at each step, that the current leader crashes', probabilityArg, 0)
    .option('--batch <n>', 'most commands per log slot', intArg(1, 100_000), 64)
    .option('--window <n>', 'most slots in flight', intArg(1, 100_000), 32)
    .option('--compact-every <n>', 'learners snapshot their state every n slots and the log is trimmed below what all have snapshotted (0: never)', intArg(0), 1000)
    .option('--profile <name>', 'log settings per seed: default (--window and --compact-every as given), compaction (compaction-heavy: each seed draws --compact-every in [3, 50] and --window in [2, 8]) or reconfig (as compaction, plus reconfigurations at --reconfig 0.0005 unless given, with 2 spare proposers unless --spare-proposers is given)', choiceArg(KV_PROFILES), 'default')
    .option('--reconfig <p>', 'probability, at each step, that an administrator asks the leader to change the acceptors and learners (and the proposers, with spare proposers) to a random non-empty set of the members and spares (default 0, or 0.0005 with --profile reconfig)', probabilityArg)
    .option('--spare-acceptors <n>', 'spare acceptors hosted for reconfigurations to bring in (when the run reconfigures)', intArg(0, 64), 2)
    .option('--spare-learners <n>', 'spare learners hosted for reconfigurations to bring in (when the run reconfigures)', intArg(0, 64), 1)
    .option('--spare-proposers <n>', 'spare proposers hosted for reconfigurations to bring in (when the run reconfigures; with any, reconfigurations change the proposers too, to a random non-empty set of the members and spares; default 0, or 2 with --profile reconfig)', intArg(0, 64))
    .option('--reads <how>', 'how reads are served: index (ReadIndex: the leader confirms it still leads with one round to the acceptors, nothing is written) or log (a read is a command of the log, like a write)', choiceArg(['index', 'log'] as const), 'index')
    .option('--learn <how>', 'how learners learn that a slot is chosen: commit (the leader tells them) or votes (every acceptor sends them its vote with the value, and a majority of votes is enough)', choiceArg(['commit', 'votes'] as const), 'commit')
    .option(
      '--bug <name>',
      'control bug a checker must catch: stale-read (replicas answer reads from their own, possibly lagging, state), cas-false (a cas that swapped answers false), no-retry (a leader never re-sends a lost accept), ignore-promised (a new leader ignores the values in promises), forget-accepted (a restarted acceptor forgets its slots), promise-omits-trim (a promise does not say where the log was trimmed), read-without-quorum (a leader serves reads without confirming it still leads), view-before-chosen (a leader decides with a new view as soon as it proposes it, needs reconfigurations), vote-without-quorum (a learner takes a slot on one acceptor\'s vote, needs --learn votes)',
      choiceArg(KV_BUGS),
    )
    .option('--history <file>', 'write the history (single run), or the first failing run\'s history (sweep), as Jepsen-format JSON lines', outputFileArg)
    .option('--json', 'print exactly one JSON object instead of text');
  addLivenessOptions(command, DEFAULT_KV_LIVENESS_MS, 'every operation still outstanding must be answered and every learner apply every chosen slot');
  addSeededOptions(command, 'fails (unsafe log, no progress in the liveness phase, or a history that is not linearizable)', '--drop, --dup, --delay, --crash, --partition and --crash-leader')
    .addHelpText(
      'after',
      `
Exit status: 0 when every history is linearizable, the log safe and every liveness phase made progress, 1 otherwise (including a linearizability check that ran out of time), 2 on bad arguments.

A run's faults (dropped, duplicated and long-delayed messages between actors
and on the client links c0, c1, ..., crashes, leader crashes, partitions) come
from a stream of their own, drawn from the seed. A sweep that finds a failing
run prints the command that replays it, then shrinks it as synod sim does:
a smallest list of faults (and a lowest step bound) with which the seed still
fails, one fault per line, written to a file, with the command that replays it.

Examples:
  synod kv-sim --seed 7                                 one run and its verdicts
  synod kv-sim --seeds 1..200 --workers 2               a sweep over two cores
  synod kv-sim --seeds 1..20 --ops 200 --bug stale-read a sweep that must fail (and shrinks the first failure)
  synod kv-sim --seeds 1..20 --ops 500 --bug no-retry   one that must fail its liveness phase
  synod kv-sim --seed 7 --save-schedule s.json          record a run's faults; replay them with --schedule s.json
  synod kv-sim --seeds 1..300 --profile reconfig        a sweep with reconfigurations (and compaction)`,
    )
    .action(async (flags: KvSimFlags) => {
      const fail = (message: string) => {
        process.stderr.write(`synod kv-sim: ${message}\n`);
        exit(2);
      };
      const wrong = seededFlagError(flags);
      if (wrong !== null) return fail(wrong);
      if (flags.clients > flags.ops) return fail(`--clients (${flags.clients}) must not exceed --ops (${flags.ops})`);
      let schedule: ScheduleFile | undefined;
      try {
        schedule = readScheduleFlag(flags, KV_MESSAGE_TYPES);
      } catch (err) {
        return fail((err as Error).message);
      }
      try {
        exit(flags.seeds ? await runSweep(flags) : runOne(flags, schedule));
      } catch (err) {
        // A schedule naming actors or clients the cluster does not have.
        if (err instanceof RangeError && schedule) return fail(`--schedule ${flags.schedule}: ${err.message}`);
        throw err;
      }
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
    faults: { ...faultsOf(f), ...(f.reconfig !== undefined ? { reconfig: f.reconfig } : {}) },
    spares: { acceptors: f.spareAcceptors, learners: f.spareLearners, ...(f.spareProposers !== undefined ? { proposers: f.spareProposers } : {}) },
    crashLeader: f.crashLeader,
    batchMax: f.batch,
    window: f.window,
    compactEvery: f.compactEvery,
    profile: f.profile,
    reads: f.reads,
    learn: f.learn,
    bug: f.bug ?? null,
    ...livenessOptions(f),
    ...(f.steps !== undefined ? { maxSteps: f.steps } : {}),
  };
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** How a shrink's report words a passing and a failing run. */
const SHRUNK_WORDS = { passes: 'safe and linearizable', fails: 'fails' } as const;

/** The linearizability verdict as JSON. */
function linJson(lin: LinearizabilityResult, withKey: boolean) {
  return lin.ok ? { status: lin.status } : withKey ? { status: lin.status, key: lin.key, reason: lin.reason } : { status: lin.status, reason: lin.reason };
}

function verdict(lin: LinearizabilityResult): string {
  return lin.ok ? 'linearizable' : lin.status === 'unknown' ? `UNKNOWN (${lin.reason})` : `NOT LINEARIZABLE: ${lin.reason}`;
}

function runOne(f: KvSimFlags, file: ScheduleFile | undefined): number {
  const seed = f.seed ?? file?.seed ?? 1;
  if (!f.json) out(`seed=${seed}`);
  const { run: r, linearizability: lin, failed } = checkedKvRun({ ...runOptions(f), seed, ...(file ? { schedule: file.faults } : {}) }, CHECK_TIMEOUT_MS);
  if (f.history) writeFileSync(f.history, formatHistory(r.history));
  if (f.saveSchedule !== undefined) writeSchedule(f.saveSchedule, { seed, steps: r.faultSteps, faults: r.schedule });
  const shrunk = failed && f.shrink === true ? shrinkRun(f, seed, file?.faults) : null;
  const ok = !failed;
  if (f.json) {
    out(JSON.stringify({ seed, ok, ops: f.ops, completed: r.completed, unknown: r.unknown, opsPerSec: r.stats.opsPerSec, latencyP50Ms: r.stats.latencyP50Ms, latencyP99Ms: r.stats.latencyP99Ms, leaderChanges: r.stats.leaderChanges, violations: r.violations, liveness: r.liveness, linearizability: linJson(lin, true), stats: { ...r.stats, steps: r.steps, faultSteps: r.faultSteps, time: r.time }, history: f.history ?? null, schedule: r.schedule, ...(shrunk ? { shrunk } : {}) }));
    return ok ? 0 : 1;
  }
  const faults = file ? `faults: ${file.faults.length} from ${f.schedule}` : `drop=${f.drop} dup=${f.dup} delay=${f.delay} crash=${f.crash} partition=${f.partition} crash-leader=${f.crashLeader}`;
  out(`synod kv-sim: ${f.clients} clients, ${f.ops} ops on ${f.keys} keys; ${f.proposers} proposers, ${f.acceptors} acceptors, ${f.learners} learners; ${faults}${f.reads === 'log' ? '; reads through the log' : ''}${f.learn === 'votes' ? '; learners learn from votes' : ''}${f.bug ? `; bug=${f.bug}` : ''}`);
  out(`operations: ${r.completed} completed, ${r.unknown} unknown (still unanswered at the end)`);
  out(`throughput: ${r.stats.opsPerSec} ops/s of virtual time; latency p50 ${r.stats.latencyP50Ms} ms, p99 ${r.stats.latencyP99Ms} ms (virtual)`);
  out(`leader changes: ${r.stats.leaderChanges}${r.stats.reconfigurations > 0 ? `; reconfigurations: ${r.stats.reconfigurations} (${r.stats.proposerChanges} of the proposers)` : ''}; slots chosen: ${r.stats.slotsChosen}; crashes: ${r.stats.crashes}; messages sent ${r.stats.sent}, dropped ${r.stats.dropped}; faults injected=${r.schedule.length}`);
  if (r.liveness) out(`liveness: ${r.liveness.ok ? `OK — everything answered and applied ${r.liveness.ms} ms into the liveness phase` : `FAILED — no progress within ${f.livenessMs} ms without faults`}`);
  out(`log safety: ${r.violations.length === 0 ? 'OK' : `${r.violations.length} VIOLATION(S)`}`);
  for (const v of r.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  out(`linearizability: ${verdict(lin)}`);
  if (f.history) out(`history written to ${f.history}`);
  if (f.saveSchedule !== undefined) out(`schedule of this run (${r.schedule.length} faults) written to ${f.saveSchedule}`);
  if (shrunk) printShrunk(out, shrunk, SHRUNK_WORDS, [`linearizability of the shrunk run: ${verdict(shrunk.linearizability)}`]);
  else if (failed && f.shrink !== false) out(`shrink it: ${replayCommand(f, seed)}${file ? ` --schedule ${shellQuote(f.schedule as string)}` : ''} --shrink`);
  return ok ? 0 : 1;
}

async function runSweep(f: KvSimFlags): Promise<number> {
  const { first, last } = f.seeds as { first: number; last: number };
  const total = last - first + 1;
  if (!f.json) out(`seeds=${first}..${last}`);
  const progress = sweepProgress('kv-sim', f, total);
  const r = await parallelSweepKv({ ...runOptions(f), first, last, workers: f.workers, onProgress: (done) => progress.update(done) });
  progress.stop();
  const failure = r.firstFailure;
  const replay = failure ? replayCommand(f, failure.seed) : null;
  if (failure && f.history) writeFileSync(f.history, formatHistory(checkedKvRun({ ...runOptions(f), seed: failure.seed }).run.history));
  const shrunk = failure && f.shrink !== false ? shrinkRun(f, failure.seed, undefined) : null;
  if (f.json) {
    out(
      JSON.stringify({
        runs: r.runs,
        ops: r.ops,
        completed: r.completed,
        unsafeRuns: r.unsafeRuns,
        livenessRuns: r.livenessRuns,
        nonLinearizableRuns: r.nonLinearizableRuns,
        unknownRuns: r.unknownRuns,
        failingRuns: r.failingRuns,
        leaderChanges: r.leaderChanges,
        reconfigurations: r.reconfigurations,
        proposerChanges: r.proposerChanges,
        firstFailure: failure ? { seed: failure.seed, violations: failure.violations, linearizability: linJson(failure.linearizability, false), replay, ...(shrunk ? { shrunk } : {}) } : null,
        failingSeeds: r.failingSeeds.map((seed) => ({ seed, replay: replayCommand(f, seed) })),
        elapsedMs: r.elapsedMs,
        seedsPerSec: Math.round((r.runs * 1000) / Math.max(1, r.elapsedMs)),
        workers: r.workers,
        chunk: r.chunk,
      }),
    );
    return failure ? 1 : 0;
  }
  out(`${r.runs} runs on ${r.workers} worker(s), ${r.completed}/${r.ops} operations completed, ${r.leaderChanges} leader changes${r.reconfigurations > 0 ? `, ${r.reconfigurations} reconfigurations (${r.proposerChanges} of the proposers)` : ''}: ${r.unsafeRuns} with log-safety violations, ${r.livenessRuns} without progress in the liveness phase, ${r.nonLinearizableRuns} not linearizable, ${r.unknownRuns} undecided; ${r.elapsedMs} ms`);
  if (!failure) {
    out('OK on every seed');
    return 0;
  }
  out(`first failure at seed ${failure.seed}: ${failure.violations[0]?.message ?? verdict(failure.linearizability)}`);
  out(`replay it: ${replay}`);
  const others = otherFailingSeeds(failure.seed, r.failingSeeds, r.failingRuns);
  if (others !== null) out(others);
  if (shrunk) printShrunk(out, shrunk, SHRUNK_WORDS, [`linearizability of the shrunk run: ${verdict(shrunk.linearizability)}`]);
  return 1;
}

/** A kv shrink report: the shared one plus the shrunk run's linearizability verdict. */
type KvShrunkReport = ShrunkReport & { readonly linearizability: LinearizabilityResult };

function shrinkRun(f: KvSimFlags, seed: number, schedule: FaultSchedule | undefined): KvShrunkReport {
  const s = shrinkKv({ ...runOptions(f), seed, checkTimeoutMs: CHECK_TIMEOUT_MS, ...(schedule ? { schedule } : {}) }, { maxRuns: f.shrinkRuns });
  const report = shrunkReport(f, s, (file) => scheduleReplayLine('kv-sim', seed, shapeFlags(f, false), s.steps, file));
  return { ...report, linearizability: s.linearizability };
}

/** The flags that shape a run, as command-line words (all of them, so a replay does not depend on defaults); without fault rates when a schedule replaces them. */
function shapeFlags(f: KvSimFlags, withFaultRates: boolean): string[] {
  const parts = [`--clients ${f.clients} --ops ${f.ops} --keys ${f.keys}`, `--proposers ${f.proposers} --acceptors ${f.acceptors} --learners ${f.learners}`];
  if (withFaultRates) parts.push(`--drop ${f.drop} --dup ${f.dup} --delay ${f.delay} --crash ${f.crash} --partition ${f.partition} --crash-leader ${f.crashLeader}${f.reconfig !== undefined ? ` --reconfig ${f.reconfig}` : ''}`);
  parts.push(`--batch ${f.batch} --window ${f.window} --compact-every ${f.compactEvery}`);
  if (f.profile !== 'default') parts.push(`--profile ${f.profile}`);
  if (f.spareAcceptors !== 2 || f.spareLearners !== 1) parts.push(`--spare-acceptors ${f.spareAcceptors} --spare-learners ${f.spareLearners}`);
  if (f.spareProposers !== undefined) parts.push(`--spare-proposers ${f.spareProposers}`);
  if (f.reads !== 'index') parts.push(`--reads ${f.reads}`);
  if (f.learn !== 'commit') parts.push(`--learn ${f.learn}`);
  if (f.bug) parts.push(`--bug ${f.bug}`);
  parts.push(...livenessWords(f, DEFAULT_KV_LIVENESS_MS));
  return parts;
}

/** The exact command line that replays one seed. */
function replayCommand(f: KvSimFlags, seed: number): string {
  return replayLine('kv-sim', seed, [...shapeFlags(f, true), ...(f.steps !== undefined ? [`--steps ${f.steps}`] : [])]);
}
