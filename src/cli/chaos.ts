/**
 * `synod chaos`: the worker-thread cluster under client load and a fault
 * schedule — random from a seed, or replayed from a file — with the safety
 * checker watching; and the named experiments, each of which switches on one
 * way of breaking a rule of Paxos and runs until the checker catches it,
 * then prints the shortest trace that shows it.
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { runKvChaos, type KvChaosReport } from '../chaos/kv-chaos.js';
import { runChaos, type ChaosReport } from '../chaos/run.js';
import { describeStep, EXPERIMENTS, generateKvSteps, parseSchedule, ScheduleError, type ClusterShape, type Experiment, type Schedule } from '../chaos/schedule.js';
import { traceLines } from '../chaos/shortest.js';
import type { TimelineLine } from '../chaos/single.js';
import { checkTracePath } from '../chaos/tracing.js';
import { TRACE_FORMATS, writeTraceFile, type TraceFormat } from '../trace/index.js';
import { choiceArg, intArg, outputFileArg } from './args.js';
import { createProgress } from '../util/progress.js';

interface ChaosFlags {
  protocol: 'single' | 'kv';
  experiment?: Experiment;
  seed?: number;
  schedule?: string;
  scheduleOut?: string;
  rounds?: number;
  duration?: number;
  decisions?: number;
  roundTimeout: number;
  proposers: number;
  acceptors: number;
  learners: number;
  clients: number;
  keys: number;
  reconfig: boolean;
  systemCrashes: boolean;
  flushMs: number;
  keepGoing?: boolean;
  trace?: string;
  traceFormat?: TraceFormat;
  json?: boolean;
  progress: boolean;
}

const HELP_AFTER = `
Single-decree Paxos decides one value per cluster, so chaos runs rounds: each
round is a fresh cluster (its own temporary data directory) whose proposers
all get client proposals with distinct values (retried), while the round's
script injects faults — crashes in every mode (exception, exit, terminate)
and at the crash points after-receive and after-persist, planned restarts,
partitions and heals, and dropped, duplicated and delayed messages on links.
A round ends when every learner decided and every proposal was answered, or
at --round-timeout. Without --experiment every third round runs one of the
experiments' targeted schedules with the switch OFF: no violation may show.

Experiments (single-decree only) turn one switch on and run until the checker
catches a violation (or --rounds/--duration), then print the shortest trace
that shows it (the events that establish the violation and their causal
past, by vector clock; * marks the former):
  amnesia       acceptors keep their state only in memory; a restart wipes it
  no-fsync      acceptors acknowledge writes before they are flushed
                (every --flush-ms); a crash loses the unflushed ones
  reuse-ballot  a restarted proposer reuses its last ballot for a new value

--protocol kv runs the Multi-Paxos key-value cluster under get/put/cas load
for --duration (or --decisions operations) with crashes in every mode (the
leader often), restarts, pauses, partitions of one actor from the rest, and
lossy, duplicating, delaying links from a proposer to the acceptors, each
healed soon after; crashes of whole systems (the actors are placed on
systems s1, s2, ..., sK holding pK, aK and lK, and a system's crash takes
all of its actors at once; --no-system-crashes leaves them out); and
replacements of an acceptor, a learner or now and then a proposer by a
fresh one (a4, l3, p4, ...) through the log, as kv.reconfigure does, while the faults go on
(--no-reconfig leaves them out). After the faults every key is read once
(a read never answered fails the run). The verdict is the log safety
checker's and the linearizability checker's on the recorded history, final
reads included, so an acknowledged write that was lost shows; the summary
counts the replacements made and prints the final view.

The seed fixes the fault schedule, not the interleaving of the threads: a
real cluster is not deterministic. The schedule used is printed (and written
with --schedule-out FILE); --schedule FILE replays it. The file is JSON:
{"format": "synod-chaos-schedule", "version": 1, "protocol": "single",
 "seed", "experiment", "cluster": {"proposers", "acceptors", "learners"},
 "roundTimeoutMs", "rounds": [{"scenario", "steps": [STEP, ...]}]}
(kv: "protocol": "kv", "clients", "keys", "steps"), where a STEP is
{"op": "propose", "proposer", "value"}, {"op": "wait", "ms"},
{"op": "await", "event": "chosen"|"decided"|"answered"|"up"},
{"op": "crash", "actor", "how"}, {"op": "restart", "actor"},
{"op": "partition", "sides": [[...], [...]]}, {"op": "heal"},
{"op": "link", "from", "to", "drop", "dup", "delay", "delayMs"},
{"op": "pause", "actor"} or {"op": "resume", "actor"} (kv: actor may be "leader"),
and for kv {"op": "replace", "actor", "by"} (by: an id never named before)
or {"op": "crash-system", "system", "how": "exception"|"exit"|"terminate"}.

Exit status: 0 when no violation was seen (kv: and the history is
linearizable), 1 on a safety violation (or a cluster that would not start),
2 on bad arguments or a bad schedule file.`;

/** Registers the `chaos` command on `program`. */
export function addChaosCommand(program: Command, exit: (code: number) => void): void {
  const cmd = program
    .command('chaos')
    .description('run the worker-thread cluster under client load and a fault schedule (random from a seed, or from a file) with the safety checker watching; or a named experiment that breaks a rule of Paxos, caught with its shortest trace')
    .option('--protocol <p>', 'single (single-decree rounds) or kv (the Multi-Paxos key-value store)', choiceArg(['single', 'kv'] as const), 'single')
    .option('--experiment <name>', `switch on a way of breaking Paxos (single only): ${EXPERIMENTS.join(', ')}`, choiceArg(EXPERIMENTS))
    .option('--seed <n>', 'seed of the fault schedule (default: a random one, printed)', intArg(0, 2 ** 31 - 1))
    .option('--schedule <file>', 'replay the schedule in this JSON file (all its rounds, unless a bound given cuts it short) instead of generating one')
    .option('--schedule-out <file>', 'write the schedule actually run to this file', outputFileArg)
    .option('--rounds <n>', 'single: stop after this many rounds (with --experiment, the default bound: 40)', intArg(1, 100_000))
    .option('--duration <ms>', 'stop after this long (a round in progress is finished); the default bound is 10000 ms (kv: 3000 ms; with --experiment: --rounds 40)', intArg(1, 24 * 3_600_000))
    .option('--decisions <n>', 'stop after this many decisions: rounds in which every learner decided (kv: operations answered)', intArg(1))
    .option('--round-timeout <ms>', 'single: a round that has not decided by then ends anyway', intArg(100, 600_000), 4000)
    .option('--proposers <p>', 'number of proposers', intArg(1, 9), 3)
    .option('--acceptors <a>', 'number of acceptors', intArg(1, 9), 3)
    .option('--learners <l>', 'number of learners', intArg(1, 9), 2)
    .option('--clients <c>', 'kv: concurrent clients', intArg(1, 256), 8)
    .option('--keys <k>', 'kv: distinct keys', intArg(1, 1000), 3)
    .option('--no-reconfig', 'kv: no replacements of proposers, acceptors and learners (through the log) among the faults')
    .option('--no-system-crashes', 'kv: no crashes of whole systems among the faults')
    .option('--flush-ms <ms>', 'no-fsync: how often unflushed writes reach the disk', intArg(1, 10_000), 100)
    .option('--keep-going', 'experiment: do not stop at the first violating round; show the shortest trace of all of them')
    .option('--trace <file>', 'single: write the whole trace of the violating round (else of the last round), by extension: .json, .html (a viewer) or .shiviz/.log (for ShiViz)', outputFileArg)
    .option('--trace-format <format>', `single: write the --trace file in this format whatever its extension: ${TRACE_FORMATS.join(', ')}`, choiceArg(TRACE_FORMATS))
    .option('--json', 'print exactly one JSON object instead of the timeline and summary')
    .option('--no-progress', 'single: no progress on stderr (a status line on a terminal; otherwise a line at the start and one every 5 s)')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: ChaosFlags) => {
      const explicit = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      let plan: Plan;
      try {
        plan = makePlan(flags, explicit);
      } catch (err) {
        if (!(err instanceof UsageProblem || err instanceof ScheduleError)) throw err;
        process.stderr.write(`synod chaos: ${err.message}\n`);
        return exit(2);
      }
      try {
        exit(plan.protocol === 'kv' ? await chaosKv(plan, flags) : await chaosSingle(plan, flags));
      } catch (err) {
        // Not a verdict: the cluster could not run (an actor failed to start, say).
        if ((err as { code?: string }).code !== 'SYNOD_START_FAILED') throw err;
        process.stderr.write(`synod chaos: ${(err as Error).message}\n`);
        exit(1);
      }
    });
}

class UsageProblem extends Error {}

interface Plan {
  readonly protocol: 'single' | 'kv';
  readonly seed: number;
  readonly experiment: Experiment | null;
  readonly cluster: ClusterShape;
  readonly schedule: Schedule | null;
  readonly roundTimeoutMs: number;
  readonly clients: number;
  readonly keys: number;
}

/** Checks the flags against each other and against a schedule file. */
function makePlan(f: ChaosFlags, explicit: (name: string) => boolean): Plan {
  let schedule: Schedule | null = null;
  if (f.schedule !== undefined) {
    let text: string;
    try {
      text = readFileSync(f.schedule, 'utf8');
    } catch (err) {
      throw new UsageProblem(`cannot read the schedule ${f.schedule}: ${(err as Error).message}`);
    }
    try {
      schedule = parseSchedule(text);
    } catch (err) {
      if (err instanceof ScheduleError) throw new ScheduleError(`${f.schedule}: ${err.message}`);
      throw err;
    }
  }
  const protocol = schedule?.protocol ?? f.protocol;
  if (schedule && explicit('protocol') && f.protocol !== schedule.protocol) throw new UsageProblem(`--protocol ${f.protocol} contradicts the schedule, which is for ${schedule.protocol}`);
  const fileExperiment = schedule?.protocol === 'single' ? schedule.experiment : null;
  if (schedule && f.experiment !== undefined && f.experiment !== fileExperiment) throw new UsageProblem(`--experiment ${f.experiment} contradicts the schedule, whose experiment is ${fileExperiment ?? 'none'}`);
  const experiment = f.experiment ?? fileExperiment;
  if (protocol === 'kv') {
    if (experiment !== null) throw new UsageProblem('the experiments run on the single-decree cluster only; drop --protocol kv or --experiment');
    for (const flag of ['rounds', 'roundTimeout', 'keepGoing', 'trace', 'traceFormat', 'flushMs']) {
      if (explicit(flag)) throw new UsageProblem(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for single-decree chaos, not --protocol kv`);
    }
  } else {
    for (const flag of ['clients', 'keys']) if (explicit(flag)) throw new UsageProblem(`--${flag} is for --protocol kv`);
    if (explicit('reconfig')) throw new UsageProblem('--no-reconfig is for --protocol kv');
    if (explicit('systemCrashes')) throw new UsageProblem('--no-system-crashes is for --protocol kv');
    if (f.keepGoing && experiment === null) throw new UsageProblem('--keep-going goes with --experiment');
    if (explicit('flushMs') && experiment !== 'no-fsync') throw new UsageProblem('--flush-ms goes with --experiment no-fsync');
  }
  if (schedule) {
    for (const flag of ['proposers', 'acceptors', 'learners', 'clients', 'keys', 'roundTimeout', 'seed']) {
      if (explicit(flag)) throw new UsageProblem(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be combined with --schedule: the schedule file sets it`);
    }
    for (const flag of ['reconfig', 'systemCrashes']) {
      if (explicit(flag)) throw new UsageProblem(`--no-${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be combined with --schedule: the schedule file says which faults run`);
    }
  }
  if (f.traceFormat !== undefined && f.trace === undefined) throw new UsageProblem('--trace-format goes with --trace FILE');
  if (f.trace !== undefined && f.traceFormat === undefined) {
    try {
      checkTracePath(f.trace);
    } catch {
      throw new UsageProblem(`--trace ${f.trace}: cannot tell the format from the extension; use .json, .html, .shiviz or .log, or give --trace-format ${TRACE_FORMATS.join('|')}`);
    }
  }
  const cluster: ClusterShape = schedule?.cluster ?? { proposers: f.proposers, acceptors: f.acceptors, learners: f.learners };
  const seed = schedule ? (schedule.seed ?? 0) : (f.seed ?? Math.floor(Math.random() * 2 ** 31));
  return {
    protocol,
    seed,
    experiment,
    cluster,
    schedule,
    roundTimeoutMs: schedule?.protocol === 'single' ? schedule.roundTimeoutMs : f.roundTimeout,
    clients: schedule?.protocol === 'kv' ? schedule.clients : f.clients,
    keys: schedule?.protocol === 'kv' ? schedule.keys : f.keys,
  };
}

const fmtMs = (ms: number | null) => (ms === null ? '-' : `${ms.toFixed(1)} ms`);
const counts = (o: Readonly<Record<string, number | undefined>>) => {
  const parts = Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).filter(([, n]) => (n ?? 0) > 0).map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
};

/** Prints timeline lines on stdout (text mode) and progress on stderr (see ../util/progress.ts). */
function outputs(flags: ChaosFlags, rounds: boolean) {
  // Only single-decree chaos counts rounds; the kv run reports nothing to count until its end.
  const progress = createProgress({ command: 'synod chaos', unit: 'rounds', enabled: flags.progress && rounds });
  return {
    line: (l: TimelineLine) => {
      if (flags.json) return;
      progress.around(() => process.stdout.write(`  ${l.ms.toFixed(1).padStart(9)} ms  [r${l.round}] ${l.text}\n`));
    },
    progress: (rounds: number, text: string) => progress.update(rounds, text),
    done: () => progress.stop(),
  };
}

async function chaosSingle(plan: Plan, flags: ChaosFlags): Promise<number> {
  const out = outputs(flags, true);
  const file = plan.schedule?.protocol === 'single' ? plan.schedule : null;
  const given = flags.rounds !== undefined || flags.duration !== undefined || flags.decisions !== undefined;
  const bounds = given || file ? { rounds: flags.rounds, durationMs: flags.duration, decisions: flags.decisions } : plan.experiment ? { rounds: 40 } : { durationMs: 10_000 };
  const boundText = file && !given ? `the schedule's ${file.rounds.length} round(s)` : [bounds.rounds && `${bounds.rounds} rounds`, bounds.durationMs && `${bounds.durationMs} ms`, bounds.decisions && `${bounds.decisions} decisions`].filter(Boolean).join(' or ');
  if (!flags.json) {
    process.stdout.write(
      `synod chaos: single-decree rounds on worker threads, ${plan.cluster.proposers} proposers, ${plan.cluster.acceptors} acceptors, ${plan.cluster.learners} learners; ` +
        `${file ? `schedule from ${flags.schedule}` : `seed ${plan.seed}`}; ${plan.experiment ? `experiment ${plan.experiment} (switch ON)` : 'no experiment (every switch off)'}; ` +
        `until ${boundText}${plan.experiment && !flags.keepGoing ? ' or the first violation' : ''}\n`,
    );
  }
  const report = await runChaos({
    seed: plan.seed,
    experiment: plan.experiment,
    cluster: plan.cluster,
    roundTimeoutMs: plan.roundTimeoutMs,
    flushMs: flags.flushMs,
    ...(file ? { rounds: file.rounds } : {}),
    bounds,
    keepGoing: flags.keepGoing === true,
    onLine: out.line,
    onRound: (_r, p) => out.progress(p.rounds, `${p.rounds} round(s) done: ${p.decisions} decided, ${p.violations} violation(s), ${(p.elapsedMs / 1000).toFixed(1)} s`),
  });
  out.done();
  if (flags.scheduleOut) writeFileSync(flags.scheduleOut, `${JSON.stringify(report.schedule, null, 2)}\n`);
  if (flags.trace && report.trace) await writeTraceFile(flags.trace, report.trace, flags.traceFormat);
  if (flags.json) process.stdout.write(`${JSON.stringify(jsonOf(report, flags))}\n`);
  else printSingle(report, flags);
  return report.ok ? 0 : 1;
}

function jsonOf(r: ChaosReport, flags: ChaosFlags) {
  const { shortest, trace: _trace, perRound, ...rest } = r;
  return {
    ...rest,
    shortestTrace: shortest
      ? {
          round: shortest.round,
          violation: shortest.trace.violation,
          length: shortest.trace.events.length,
          fullLength: shortest.fullLength,
          anchors: shortest.trace.anchors.map((e) => e.index),
          events: shortest.trace.events.map((e) => ({ index: e.index, ms: Math.round((e.time - shortest.t0) * 10) / 10, actor: e.actor, kind: e.kind, text: e.text })),
        }
      : null,
    perRound: perRound.map((x) => ({ round: x.round, scenario: x.scenario, durationMs: x.durationMs, allDecided: x.allDecided, decisionMs: x.decisionMs, decided: x.decided, timedOut: x.timedOut, faults: x.injected.length, crashes: x.crashes.length, restarts: x.restarts.length, violations: x.violations.length, messages: x.messages })),
    traceFile: flags.trace ?? null,
    scheduleFile: flags.scheduleOut ?? null,
  };
}

function printSingle(r: ChaosReport, flags: ChaosFlags): void {
  const w = (s: string) => process.stdout.write(`${s}\n`);
  w('');
  w('summary:');
  w(`  rounds:          ${r.rounds} (${r.decisions} decided by every learner, ${r.timedOutRounds} timed out) in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  w(`  faults injected: ${counts(r.faults)}${r.faultsWithoutEffect > 0 ? ` (${r.faultsWithoutEffect} without effect: the actor was down)` : ''}`);
  w(`  crashes seen:    ${counts(r.crashes)}`);
  w(`  restarts:        ${r.restarts.count} (${r.restarts.planned} planned); recovery p50 ${fmtMs(r.restarts.p50Ms)}, max ${fmtMs(r.restarts.maxMs)}`);
  w(`  decision time:   p50 ${fmtMs(r.decisionTime.p50Ms)}, max ${fmtMs(r.decisionTime.maxMs)} (script start to the last learner's decision)`);
  w(`  link faults hit: ${r.messages.dropped} message(s) dropped, ${r.messages.duplicated} duplicated, ${r.messages.delayed} delayed`);
  w(`  violations:      ${r.violations.length === 0 ? 'none' : `${r.violations.length} in round(s) ${r.violatingRounds.join(', ')}; the first ${fmtMs(r.firstViolationMs)} after the start, ${fmtMs(r.firstViolationInRoundMs)} into its round`}`);
  for (const v of r.violations.slice(0, 20)) w(`    round ${v.round}: ${v.kind}: ${v.message}`);
  if (r.violations.length > 20) w(`    ... and ${r.violations.length - 20} more`);
  w('');
  w(`schedule (seed ${r.seed}${r.experiment ? `, experiment ${r.experiment}` : ''}):`);
  for (const [i, round] of r.schedule.rounds.entries()) w(`  round ${i + 1} [${round.scenario}]: ${round.steps.map(describeStep).join('; ')}`);
  w(flags.scheduleOut ? `  written to ${flags.scheduleOut}; replay with: synod chaos --schedule ${flags.scheduleOut}` : '  (write it with --schedule-out FILE; replay with --schedule FILE)');
  if (r.shortest) {
    const s = r.shortest;
    w('');
    w(`shortest trace: round ${s.round}, ${s.trace.violation.kind}: ${s.trace.violation.message}`);
    w(`  ${s.trace.events.length} of the round's ${s.fullLength} events: those that establish the violation (*) and their causal past`);
    for (const line of traceLines(s.trace, s.t0)) w(`  ${line}`);
  } else if (r.violations.length > 0) {
    w('');
    w('shortest trace: none of the violations could be traced to events of the round');
  }
  if (flags.trace && r.trace) w(`\ntrace of round ${Number(r.trace.source.round)} written to ${flags.trace}`);
  w('');
  w(
    r.ok
      ? `safety: OK — no violation of agreement, validity, integrity or the acceptor rules in ${r.rounds} round(s)`
      : `safety: ${r.violations.length} VIOLATION(S)${r.experiment ? ` — the ${r.experiment} experiment broke Paxos, as it should` : ''}`,
  );
}

async function chaosKv(plan: Plan, flags: ChaosFlags): Promise<number> {
  const out = outputs(flags, false);
  const file = plan.schedule?.protocol === 'kv' ? plan.schedule : null;
  const durationMs = flags.duration ?? (flags.decisions === undefined ? 3000 : undefined);
  const steps = file ? file.steps : generateKvSteps(plan.seed, durationMs ?? 3000, plan.cluster, { reconfig: flags.reconfig, systemCrashes: flags.systemCrashes });
  if (!flags.json) {
    process.stdout.write(
      `synod chaos --protocol kv: the key-value store on worker threads, ${plan.cluster.proposers} proposers, ${plan.cluster.acceptors} acceptors, ${plan.cluster.learners} learners, ${plan.clients} clients on ${plan.keys} keys; ` +
        `${file ? `schedule from ${flags.schedule}` : `seed ${plan.seed}`}; for ${durationMs !== undefined ? `${durationMs} ms` : ''}${durationMs !== undefined && flags.decisions !== undefined ? ' or ' : ''}${flags.decisions !== undefined ? `${flags.decisions} operations` : ''}\n`,
    );
  }
  const report: KvChaosReport = await runKvChaos({
    seed: plan.seed,
    cluster: plan.cluster,
    clients: plan.clients,
    keys: plan.keys,
    steps,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(flags.decisions !== undefined ? { decisions: flags.decisions } : {}),
    onLine: out.line,
  });
  out.done();
  if (flags.scheduleOut) writeFileSync(flags.scheduleOut, `${JSON.stringify(report.schedule, null, 2)}\n`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...report, scheduleFile: flags.scheduleOut ?? null })}\n`);
    return report.ok ? 0 : 1;
  }
  const w = (s: string) => process.stdout.write(`${s}\n`);
  w('');
  w('summary:');
  w(`  operations:      ${report.decisions} answered (${report.opsPerSec}/s), ${report.unknownOutcome} with unknown outcome, in ${(report.elapsedMs / 1000).toFixed(1)} s`);
  w(`  leader changes:  ${report.leaderChanges}`);
  w(`  faults injected: ${counts(report.faults)}${report.faultsWithoutEffect > 0 ? ` (${report.faultsWithoutEffect} without effect)` : ''}`);
  w(`  crashes seen:    ${counts(report.crashes)}`);
  w(`  restarts:        ${report.restarts.count} (${report.restarts.planned} planned); recovery p50 ${fmtMs(report.restarts.p50Ms)}, max ${fmtMs(report.restarts.maxMs)}`);
  const rc = report.reconfigurations;
  w(`  replacements:    ${rc.asked} asked, ${rc.made} made by the log, ${rc.notMade} not made (refused or failed)`);
  w(`  final reads:     ${report.finalReads.answered} of ${report.finalReads.answered + report.finalReads.unanswered} keys answered after the faults${report.finalReads.unanswered > 0 ? ` (${report.finalReads.unanswered} NEVER ANSWERED)` : ''}`);
  w(`  final view:      ${report.view.epoch}, proposers ${report.view.proposers.join(', ')}; acceptors ${report.view.acceptors.join(', ')}; learners ${report.view.learners.join(', ')}`);
  w(`  log safety:      ${report.violations.length === 0 ? 'OK' : `${report.violations.length} VIOLATION(S)`}`);
  for (const v of report.violations) w(`    ${v.kind}: ${v.message}`);
  w(`  linearizability: ${report.linearizability.status}${report.linearizability.reason ? `: ${report.linearizability.reason}` : ''}`);
  w('');
  w(`schedule (seed ${report.seed}): ${report.schedule.steps.map(describeStep).join('; ') || 'no faults'}`);
  w(flags.scheduleOut ? `  written to ${flags.scheduleOut}; replay with: synod chaos --schedule ${flags.scheduleOut}` : '  (write it with --schedule-out FILE; replay with --schedule FILE)');
  w('');
  w(report.ok ? 'verdict: OK — the log is safe and the history linearizable' : 'verdict: NOT OK');
  return report.ok ? 0 : 1;
}
