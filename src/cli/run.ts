/**
 * `synod run`: the main job. Starts a real cluster — every proposer, acceptor
 * and learner in its own worker thread with its own LMDB store — lets the
 * proposers contend with different values, crashes an acceptor and a
 * proposer in the middle, and prints what happened: a timeline, what each
 * learner decided, every actor's thread, the safety verdict, and the
 * health of every actor and link at the end.
 */
import type { Command } from 'commander';
import { threadId } from 'node:worker_threads';
import { describeValue } from '../core/describe.js';
import { allActors, type ActorId } from '../core/ids.js';
import type { Value } from '../core/value.js';
import { createCluster, type Cluster } from '../runtime/cluster.js';
import { formatHealth } from '../runtime/health.js';
import type { TransportKind } from '../runtime/transports/index.js';
import type { CrashMode } from '../runtime/wire.js';
import { TRACE_FORMATS, traceFormatOf, writeTraceFile, type TraceFormat } from '../trace/index.js';
import { rootMessage } from './errors.js';
import { choiceArg, dataDirProblem, intArg, outputFileArg } from './args.js';

interface RunFlags {
  proposers: number;
  acceptors: number;
  learners: number;
  dataDir?: string;
  faults: boolean;
  crashHow: CrashMode;
  json?: boolean;
  timeout: number;
  transport: TransportKind;
  trace?: string;
  traceFormat?: TraceFormat;
}

const CRASH_MODES: readonly CrashMode[] = ['exception', 'exit', 'terminate', 'after-receive', 'after-persist'];

/** Registers the `run` command on `program`. */
export function addRunCommand(program: Command, exit: (code: number) => void): void {
  program
    .command('run')
    .description('run a real cluster on worker threads: contending proposers, a crash and restart of an acceptor and a proposer, and the safety verdict')
    .option('--proposers <p>', 'number of proposers, each proposing its own value', intArg(1, 32), 3)
    .option('--acceptors <a>', 'number of acceptors', intArg(1, 32), 5)
    .option('--learners <l>', 'number of learners', intArg(1, 32), 2)
    .option('--data-dir <dir>', 'keep the LMDB files here (created if missing); running again on the same directory recovers and reports the same decided value')
    .option('--crash-how <mode>', `how the acceptor is crashed: ${CRASH_MODES.join(', ')}`, choiceArg(CRASH_MODES), 'after-persist')
    .option('--no-faults', 'do not crash anything')
    .option('--timeout <ms>', 'give up if the cluster has not decided within this many ms', intArg(100), 30_000)
    .option('--transport <kind>', `what carries the actors' messages: ${TRANSPORTS.join(', ')} (direct MessagePorts; relayed by the main thread; SharedArrayBuffer rings)`, choiceArg(TRANSPORTS), 'port')
    .option('--trace <file>', 'write a trace of the run (every send, receive, drop, persist, crash, restart and decision, with vector clocks); the extension picks the format: .json, .html (a space-time diagram) or .shiviz/.log (ShiViz)', outputFileArg)
    .option('--trace-format <format>', `write the --trace file in this format whatever its extension: ${TRACE_FORMATS.join(', ')}`, choiceArg(TRACE_FORMATS))
    .option('--json', 'print exactly one JSON object instead of text (also when the cluster does not decide: ok is then false and reason says why)')
    .addHelpText('after', '\nExit status: 0 when every learner decided the same value safely, 1 on a safety violation or no decision, 2 on bad arguments (an unusable --data-dir too).')
    .action(async (flags: RunFlags) => {
      const usage = (message: string) => {
        process.stderr.write(`synod run: ${message}\n`);
        exit(2);
      };
      if (flags.traceFormat !== undefined && flags.trace === undefined) return usage('--trace-format goes with --trace FILE');
      if (flags.trace !== undefined && flags.traceFormat === undefined) {
        try {
          traceFormatOf(flags.trace);
        } catch {
          return usage(`--trace ${flags.trace}: cannot tell the format from the extension; use .json, .html, .shiviz or .log, or give --trace-format ${TRACE_FORMATS.join('|')}`);
        }
      }
      const problem = flags.dataDir !== undefined ? dataDirProblem('--data-dir', flags.dataDir) : null;
      if (problem !== null) return usage(problem);
      exit(await run(flags));
    });
}

interface Line {
  readonly ms: number;
  readonly text: string;
}

async function run(flags: RunFlags): Promise<number> {
  const t0 = performance.now();
  const timeline: Line[] = [];
  const note = (text: string) => {
    const line = { ms: Math.round((performance.now() - t0) * 10) / 10, text };
    timeline.push(line);
    if (!flags.json) process.stdout.write(`  ${line.ms.toFixed(1).padStart(8)} ms  ${text}\n`);
  };
  if (!flags.json) process.stdout.write(`synod run: ${flags.proposers} proposers, ${flags.acceptors} acceptors, ${flags.learners} learners${flags.dataDir ? `, data in ${flags.dataDir}` : ''}\n`);
  let cluster: Cluster;
  try {
    cluster = await createCluster({
      proposers: flags.proposers,
      acceptors: flags.acceptors,
      learners: flags.learners,
      transport: flags.transport,
      trace: flags.trace !== undefined,
      ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    });
  } catch (err) {
    // With --json the caller reads stdout, so the failure is reported there too; main prints the one-line error for text mode.
    if (!flags.json || (err as { code?: string }).code !== 'SYNOD_START_FAILED') throw err;
    process.stdout.write(`${JSON.stringify({ ok: false, reason: `the cluster did not start: ${rootMessage(err)}`, decided: {}, elapsedMs: Math.round(performance.now() - t0), dataDir: flags.dataDir ?? null, timeline })}\n`);
    return 1;
  }
  const crashes: Array<{ id: ActorId; how: string; cause: string; ms: number }> = [];
  const restarts: Array<{ id: ActorId; recoveryMs: number; ms: number }> = [];
  try {
    note(`cluster up: ${allActors(cluster.members).length} actors, each on its own worker thread (main thread is ${threadId})`);
    // A quorum started, but an actor with a bad store is down for good: say which and why, and run nothing on a degraded cluster.
    const failed = allActors(cluster.members).filter((id) => cluster.status(id) === 'failed');
    if (failed.length > 0) {
      for (const id of failed) note(`${id} FAILED at start, not restarted: ${cluster.failure(id)?.message ?? 'unknown cause'}`);
      const reason = `${failed.join(', ')} failed to start (${failed.map((id) => cluster.failure(id)?.code ?? 'unknown').join(', ')}); mend the store and run again`;
      if (flags.json) process.stdout.write(`${JSON.stringify({ ok: false, reason, decided: {}, elapsedMs: Math.round(performance.now() - t0), dataDir: flags.dataDir ?? null, timeline })}\n`);
      else process.stdout.write(`not OK — ${reason}\n`);
      return 1;
    }
    for (const l of cluster.members.learners) {
      const rec = (await stateOf(cluster, l)).durable;
      if (rec?.role === 'learner' && rec.decided) note(`${l} recovered its decision ${describeValue(rec.decided.value)} from ${flags.dataDir ?? 'its store'}`);
    }
    cluster.on('crash', (e) => {
      crashes.push({ id: e.id, how: e.how, cause: e.cause.message, ms: performance.now() - t0 });
      note(`${e.id} crashed (${e.how}): ${e.cause.message}`);
    });
    cluster.on('restart', (e) => {
      restarts.push({ id: e.id, recoveryMs: e.recoveryMs, ms: performance.now() - t0 });
      note(`${e.id} restarted on thread ${e.threadId}, serving again ${e.recoveryMs.toFixed(1)} ms after it went down`);
    });
    cluster.on('failed', (e) => note(`${e.id} FAILED, not restarted: ${e.cause.message}`));
    cluster.on('decide', (e) => note(`${e.id} decided ${describeValue(e.value)}`));
    cluster.on('violation', (v) => note(`VIOLATION ${v.kind}: ${v.message}`));

    if (flags.faults) scheduleCrashes(cluster, flags.crashHow, note);
    // A proposer with no answer in time is a verdict (no decision), not a crash of the command: it is noted and the report still printed.
    const unanswered: string[] = [];
    const answers = await Promise.all(
      cluster.members.proposers.map(async (p, i) => {
        const value = `${p}:${VALUES[i % VALUES.length]}`;
        note(`${p} proposes ${describeValue(value)}`);
        try {
          const decided = await cluster.propose(value, { proposer: p, timeoutMs: flags.timeout });
          note(`${p} answered: ${describeValue(decided)} was chosen`);
          return [p, decided] as const;
        } catch (err) {
          if ((err as { code?: string }).code !== 'SYNOD_TIMEOUT') throw err;
          unanswered.push(p);
          note(`${p} got no answer: ${(err as Error).message}`);
          return [p, null] as const;
        }
      }),
    );
    const decided = await waitForLearners(cluster, flags.timeout);
    // Report threads only once every crashed actor is back, so no report is asked of a dying worker.
    const deadline = performance.now() + flags.timeout;
    while (restarts.length < crashes.length && performance.now() < deadline) await sleep(10);
    const reports = await Promise.all(allActors(cluster.members).map((id) => stateOf(cluster, id)));
    const actors = Object.fromEntries(reports.map((r) => [r.id, { role: r.role, threadId: r.threadId, incarnation: r.incarnation }]));
    const health = cluster.health();
    const values = new Set(Object.values(decided).map((v) => describeValue(v)));
    const allDecided = Object.keys(decided).length === cluster.members.learners.length;
    const violations = [...cluster.checker.violations];
    const ok = violations.length === 0 && allDecided && values.size === 1 && unanswered.length === 0;
    const reason = ok
      ? null
      : [
          violations.length > 0 ? `${violations.length} safety violation(s)` : null,
          allDecided ? null : `${cluster.members.learners.length - Object.keys(decided).length} of ${cluster.members.learners.length} learner(s) decided nothing within ${flags.timeout} ms`,
          values.size > 1 ? 'learners disagree' : null,
          unanswered.length > 0 ? `${unanswered.join(', ')} got no answer within ${flags.timeout} ms (--timeout)` : null,
        ]
          .filter((x) => x !== null)
          .join('; ');
    if (flags.trace !== undefined) {
      const trace = cluster.traceOf({ command: 'synod run', faults: flags.faults, crashHow: flags.crashHow });
      await writeTraceFile(flags.trace, trace, flags.traceFormat);
      if (!flags.json) process.stdout.write(`trace: ${trace.events.length} events written to ${flags.trace}\n`);
    }
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ ok, reason, decided, answers: Object.fromEntries(answers), crashes, restarts, actors, mainThreadId: threadId, violations, elapsedMs: Math.round(performance.now() - t0), dataDir: flags.dataDir ?? null, timeline, health })}\n`,
      );
    } else {
      process.stdout.write('\ndecided:\n');
      for (const l of cluster.members.learners) process.stdout.write(`  ${l}: ${l in decided ? describeValue(decided[l] as Value) : 'nothing'}\n`);
      process.stdout.write('threads:\n');
      for (const r of reports) process.stdout.write(`  ${r.id.padEnd(4)} ${r.role.padEnd(9)} thread ${String(r.threadId).padStart(3)}  incarnation ${r.incarnation}\n`);
      process.stdout.write(
        ok
          ? `safety: OK — every learner decided ${[...values][0]}; no violation of agreement, validity, integrity or the acceptor rules across ${crashes.length} crash(es)\n`
          : `${violations.length > 0 ? 'safety: VIOLATION' : 'not OK'} — ${reason}\n`,
      );
      for (const v of violations) process.stdout.write(`  ${v.kind}: ${v.message}\n`);
      process.stdout.write(formatHealth(health));
    }
    return ok ? 0 : 1;
  } finally {
    await cluster.close();
  }
}

const TRANSPORTS: readonly TransportKind[] = ['port', 'hub', 'ring'];

const VALUES = ['red', 'green', 'blue', 'amber', 'violet', 'teal', 'coral', 'olive'];

/**
 * Crashes an acceptor and a proposer in the middle of the protocol: the
 * acceptor when it first makes a record durable, the second proposer (or the
 * only one) when it first persists its round.
 */
function scheduleCrashes(cluster: Cluster, how: CrashMode, note: (t: string) => void): void {
  const acceptor = cluster.members.acceptors[0] as ActorId;
  const proposer = (cluster.members.proposers[1] ?? cluster.members.proposers[0]) as ActorId;
  const pending = new Set<ActorId>([acceptor, proposer]);
  const onDurable = (e: { id: ActorId }) => {
    if (!pending.delete(e.id)) return;
    const mode: CrashMode = e.id === acceptor ? how : 'terminate';
    note(`crashing ${e.id} (${mode})`);
    cluster.crash(e.id, mode).catch((err: Error) => note(`crash of ${e.id} failed: ${err.message}`));
    if (pending.size === 0) cluster.off('durable', onDurable);
  };
  cluster.on('durable', onDurable);
}

/** Each learner's decision, from its durable record (so a recovered decision counts too). */
async function waitForLearners(cluster: Cluster, timeoutMs: number): Promise<Record<ActorId, Value>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const decided: Record<ActorId, Value> = {};
    for (const l of cluster.members.learners) {
      const rec = (await stateOf(cluster, l)).durable;
      if (rec?.role === 'learner' && rec.decided) decided[l] = rec.decided.value;
    }
    if (Object.keys(decided).length === cluster.members.learners.length || performance.now() > deadline) return decided;
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An actor's state report. A control call can land on a worker in the very
 * moment it dies (a crash point armed earlier fires on its next write); the
 * supervisor then rejects it with SYNOD_ACTOR_DOWN, and asking again reaches
 * the restarted actor.
 */
async function stateOf(cluster: Cluster, id: ActorId): Promise<Awaited<ReturnType<Cluster['state']>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await cluster.state(id);
    } catch (err) {
      if ((err as { code?: string }).code !== 'SYNOD_ACTOR_DOWN' || attempt >= 20) throw err;
      await sleep(20);
    }
  }
}
