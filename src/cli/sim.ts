/**
 * `synod sim`: one seeded simulation (a timeline and the verdict), a replay
 * of a recorded fault schedule, or a sweep over many seeds (a progress
 * display, a summary, and for the first failing seed the command that
 * replays it and a shrunk fault schedule with its own replay command).
 */
import type { Command } from 'commander';
import { describeValue } from '../core/describe.js';
import { BUGS, DEFAULT_FAULTS, DEFAULT_LIVENESS_MS, DEFAULT_STAGGER, simulate, type BugName, type FaultOptions, type FaultSchedule, type ScheduleFile } from '../sim/simulator.js';
import { parallelSweep } from '../sim/parallel.js';
import { shrink } from '../sim/shrink.js';
import { addFaultOptions, choiceArg, faultsOf, intArg, seedRangeArg, shellQuote, type FaultFlags } from './args.js';
import { addLivenessOptions, addSeededOptions, livenessOptions, livenessWords, otherFailingSeeds, printShrunk, sweepProgress, readScheduleFlag, replayLine, scheduleReplayLine, seededFlagError, shrunkReport, writeSchedule, type LivenessFlags, type SeededFlags, type ShrunkReport } from './seeded.js';

interface SimFlags extends FaultFlags, SeededFlags, LivenessFlags {
  steps: number;
  proposers: number;
  acceptors: number;
  learners: number;
  stagger: number;
  bug?: BugName;
  trace?: boolean;
}

/** Defaults of the flags that shape a run (a replay command names only the flags that differ). */
const DEFAULTS = { steps: 2000, proposers: 3, acceptors: 5, learners: 2, stagger: DEFAULT_STAGGER } as const;

/** Registers the `sim` command on `program`. */
export function addSimCommand(program: Command, exit: (code: number) => void): void {
  const command = program
    .command('sim')
    .description('run the Synod protocol in the deterministic simulator (one seed, a recorded fault schedule, or a sweep over many seeds)')
    .option('--seed <n>', 'seed of a single run; the same seed replays the same run byte for byte (default: 1, or the seed recorded in --schedule)', intArg(Number.MIN_SAFE_INTEGER))
    .option('--seeds <first..last>', 'sweep every seed in the range and print a summary', seedRangeArg)
    .option('--steps <m>', 'upper bound on steps per run (a run also ends when nothing is left to happen)', intArg(1), DEFAULTS.steps)
    .option('--proposers <p>', 'number of proposers', intArg(1, 64), DEFAULTS.proposers)
    .option('--acceptors <a>', 'number of acceptors (a majority must be up to decide)', intArg(1, 64), DEFAULTS.acceptors)
    .option('--learners <l>', 'number of learners', intArg(1, 64), DEFAULTS.learners);
  addFaultOptions(command, DEFAULT_FAULTS)
    .option('--stagger <ms>', 'proposers get their first request at a random time in [0, ms]', intArg(0), DEFAULTS.stagger)
    .option('--bug <name>', `switch on a control bug the safety or liveness checker must catch: ${BUGS.join(', ')}`, choiceArg(BUGS))
    .option('--json', 'print exactly one JSON object instead of text')
    .option('--trace', 'single run: print every step and effect as it happens');
  addLivenessOptions(command, DEFAULT_LIVENESS_MS, 'every learner must decide');
  addSeededOptions(command, 'violates safety or liveness')
    .addHelpText(
      'after',
      `
Exit status: 0 when every run was safe (and live), 1 on any safety or liveness violation, 2 on bad arguments.

A run's faults (dropped, duplicated and long-delayed messages, crashes,
partitions) come from a stream of their own, drawn from the seed. A sweep that
finds a violation prints the command that replays the first failing seed,
then shrinks that run: it searches for a smallest list of faults (and a lowest
step bound) with which the seed still violates safety (or liveness), prints it one fault per
line, writes it to a file and prints the command that replays it.

Examples:
  synod sim --seed 7                              one run, its timeline and verdict
  synod sim --seeds 1..1000 --json                a sweep, summarised as JSON
  synod sim --seeds 1..100000 --workers 2         a sweep over two cores
  synod sim --seeds 1..2000 --bug amnesia         a sweep that must find violations (and shrinks the first)
  synod sim --seed 1 --bug amnesia --steps 312 --schedule /tmp/synod-shrink/seed-1.json
                                                  replay a shrunk run`,
    )
    .action(async (flags: SimFlags) => {
      const fail = (message: string) => {
        process.stderr.write(`synod sim: ${message}\n`);
        exit(2);
      };
      const wrong = seededFlagError(flags);
      if (wrong !== null) return fail(wrong);
      if (flags.seeds !== undefined && flags.trace) return fail('--trace works on a single run (--seed), not on a sweep');
      let schedule: ScheduleFile | undefined;
      try {
        schedule = readScheduleFlag(flags);
      } catch (err) {
        return fail((err as Error).message);
      }
      const faults: Partial<FaultOptions> = faultsOf(flags);
      const common = {
        steps: flags.steps,
        proposers: flags.proposers,
        acceptors: flags.acceptors,
        learners: flags.learners,
        faults,
        stagger: flags.stagger,
        bug: flags.bug ?? null,
        ...livenessOptions(flags),
      };
      try {
        exit(flags.seeds ? await runSweep(flags, common) : runOne(flags, common, schedule));
      } catch (err) {
        // A schedule naming actors the cluster does not have.
        if (err instanceof RangeError && schedule) return fail(`--schedule ${flags.schedule}: ${err.message}`);
        throw err;
      }
    });
}

type Common = Omit<Parameters<typeof simulate>[0], 'seed'>;

const out = (line: string) => process.stdout.write(`${line}\n`);

function runOne(flags: SimFlags, common: Common, file: ScheduleFile | undefined): number {
  const seed = flags.seed ?? file?.seed ?? 1;
  if (!flags.json) {
    out(`seed=${seed}`);
    const faults = file ? `faults: ${file.faults.length} from ${flags.schedule}` : describeFaults(flags);
    out(`synod sim: ${common.proposers} proposers, ${common.acceptors} acceptors, ${common.learners} learners; ${faults}${flags.bug ? `; bug=${flags.bug}` : ''}`);
  }
  const r = simulate({ ...common, seed, ...(file ? { schedule: file.faults } : {}), ...(flags.trace && !flags.json ? { trace: (l: string) => out(`  | ${l}`) } : {}) });
  if (flags.saveSchedule !== undefined) writeSchedule(flags.saveSchedule, { seed, steps: r.faultSteps, faults: r.schedule });
  const shrunk = r.violations.length > 0 && flags.shrink === true ? shrinkRun(flags, common, seed, file?.faults) : null;
  if (flags.json) {
    const { timeline, ...rest } = r;
    out(
      JSON.stringify({
        seed: rest.seed,
        steps: rest.steps,
        decided: rest.decided,
        violations: rest.violations,
        stats: { ...rest.stats, time: rest.time, quiescent: rest.quiescent, allDecided: rest.allDecided, faultSteps: rest.faultSteps },
        liveness: rest.liveness,
        timeline,
        schedule: r.schedule,
        ...(shrunk ? { shrunk } : {}),
      }),
    );
    return r.violations.length > 0 ? 1 : 0;
  }
  out('timeline:');
  for (const e of r.timeline) out(`  t=${String(e.time).padStart(5)} step=${String(e.step).padStart(5)}  ${e.text}`);
  const decided = Object.entries(r.decided).map(([l, v]) => `${l}=${describeValue(v)}`);
  out(`decided: ${decided.length > 0 ? decided.join(' ') : 'nothing'}${r.allDecided ? '' : ` (${common.learners - decided.length} of ${common.learners} learners undecided)`}`);
  const s = r.stats;
  out(`stats: steps=${r.steps} time=${r.time} ${r.quiescent ? 'quiescent' : 'step bound reached'}; inputs=${s.inputs}; messages sent=${s.sent} delivered=${s.delivered} dropped=${s.dropped} duplicated=${s.duplicated}; writes=${s.writes} lost=${s.lostWrites}; crashes=${s.crashes} restarts=${s.restarts} partitions=${s.partitions}; faults injected=${r.schedule.length}`);
  if (flags.saveSchedule !== undefined) out(`schedule of this run (${r.schedule.length} faults) written to ${flags.saveSchedule}`);
  if (r.liveness) out(`liveness: ${r.liveness.ok ? `OK — every learner decided ${r.liveness.ms} ms into the liveness phase` : `FAILED — no decision within ${flags.livenessMs} ms without faults`}`);
  if (r.violations.length === 0) {
    out('safety: OK — agreement, validity, integrity, acceptor promises and accepts monotonic across crashes, every decision chosen by a majority');
    return 0;
  }
  out(`safety: ${r.violations.length} VIOLATION(S)`);
  for (const v of r.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  if (shrunk) printShrunk(out, shrunk, SHRUNK_WORDS);
  else if (flags.shrink !== false) out(`shrink it: ${replayCommand(flags, seed)}${file ? ` --schedule ${shellQuote(flags.schedule as string)}` : ''} --shrink`);
  return 1;
}

async function runSweep(flags: SimFlags, common: Common): Promise<number> {
  const { first, last } = flags.seeds as { first: number; last: number };
  const total = last - first + 1;
  if (!flags.json) out(`seeds=${first}..${last}`);
  const progress = sweepProgress('sim', flags, total);
  const r = await parallelSweep({
    ...common,
    first,
    last,
    workers: flags.workers,
    onProgress: (done) => progress.update(done),
  });
  progress.stop();
  const fv = r.firstViolation;
  const replay = fv ? replayCommand(flags, fv.seed) : null;
  const shrunk = fv && flags.shrink !== false ? shrinkRun(flags, common, fv.seed, undefined) : null;
  if (flags.json) {
    out(
      JSON.stringify({
        runs: r.runs,
        decidedRuns: r.decidedRuns,
        violatingRuns: r.violatingRuns,
        livenessRuns: r.livenessRuns,
        firstViolation: fv ? { ...fv, replay, shrunk } : null,
        failingSeeds: r.failingSeeds.map((seed) => ({ seed, replay: replayCommand(flags, seed) })),
        seedsPerSec: r.seedsPerSec,
        stepsPerSec: r.stepsPerSec,
        totalSteps: r.totalSteps,
        elapsedMs: r.elapsedMs,
        seeds: { first, last },
        workers: r.workers,
        chunk: r.chunk,
      }),
    );
    return r.violatingRuns > 0 ? 1 : 0;
  }
  const pct = ((100 * r.decidedRuns) / r.runs).toFixed(1);
  out(`${r.runs} runs on ${r.workers} worker(s): ${r.decidedRuns} decided (${pct}%), ${r.violatingRuns} violating (${r.livenessRuns} of them liveness); ${r.totalSteps} steps in ${r.elapsedMs} ms (${r.seedsPerSec} seeds/s, ${r.stepsPerSec} steps/s)`);
  if (!fv) {
    out(`safety${flags.liveness ? ' and liveness' : ''}: OK on every seed`);
    return 0;
  }
  out(`first violation at seed ${fv.seed}:`);
  for (const v of fv.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  out(`replay it: ${replay}`);
  const others = otherFailingSeeds(fv.seed, r.failingSeeds, r.violatingRuns);
  if (others !== null) out(others);
  if (shrunk) printShrunk(out, shrunk, SHRUNK_WORDS);
  return 1;
}

/** How a shrink's report words a safe and a failing run. */
const SHRUNK_WORDS = { passes: 'safe (and live)', fails: 'violates safety or liveness' } as const;

function shrinkRun(flags: SimFlags, common: Common, seed: number, schedule: FaultSchedule | undefined): ShrunkReport {
  const s = shrink({ ...common, seed, ...(schedule ? { schedule } : {}) }, { maxRuns: flags.shrinkRuns });
  return shrunkReport(flags, s, (file) => scheduleReplayCommand(flags, seed, s.steps, file));
}

function describeFaults(f: SimFlags): string {
  return `drop=${f.drop} dup=${f.dup} delay=${f.delay} crash=${f.crash} partition=${f.partition}`;
}

/** The flags that shape a run and differ from their defaults, as command-line words. */
function shapeFlags(f: SimFlags, withFaultRates: boolean): string[] {
  const words: string[] = [];
  if (f.steps !== DEFAULTS.steps) words.push(`--steps ${f.steps}`);
  if (f.proposers !== DEFAULTS.proposers) words.push(`--proposers ${f.proposers}`);
  if (f.acceptors !== DEFAULTS.acceptors) words.push(`--acceptors ${f.acceptors}`);
  if (f.learners !== DEFAULTS.learners) words.push(`--learners ${f.learners}`);
  if (withFaultRates) {
    for (const name of ['drop', 'dup', 'delay', 'crash', 'partition'] as const) {
      if (f[name] !== DEFAULT_FAULTS[name]) words.push(`--${name} ${f[name]}`);
    }
  }
  if (f.stagger !== DEFAULTS.stagger) words.push(`--stagger ${f.stagger}`);
  if (f.bug) words.push(`--bug ${f.bug}`);
  words.push(...livenessWords(f, DEFAULT_LIVENESS_MS));
  return words;
}

/** The exact command line that replays one seed (every flag that differs from its default). */
function replayCommand(f: SimFlags, seed: number): string {
  return replayLine('sim', seed, shapeFlags(f, true));
}

/** The command line that replays a seed with a schedule file and a step bound (fault rates are unused then). */
function scheduleReplayCommand(f: SimFlags, seed: number, steps: number, file: string): string {
  return scheduleReplayLine('sim', seed, shapeFlags(f, false).filter((w) => !w.startsWith('--steps ')), steps, file);
}
