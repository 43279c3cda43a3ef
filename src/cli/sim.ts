/**
 * `synod sim`: one seeded simulation (a timeline and the verdict), a replay
 * of a recorded fault schedule, or a sweep over many seeds (a progress
 * display, a summary, and for the first failing seed the command that
 * replays it and a shrunk fault schedule with its own replay command).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeValue } from '../core/describe.js';
import { BUGS, DEFAULT_FAULTS, DEFAULT_STAGGER, describeFault, parseScheduleFile, simulate, type BugName, type FaultOptions, type FaultSchedule, type ScheduleFile } from '../sim/simulator.js';
import { parallelSweep } from '../sim/parallel.js';
import { DEFAULT_SHRINK_RUNS, shrink, type ShrinkResult } from '../sim/shrink.js';
import { createProgress } from '../util/progress.js';
import { addFaultOptions, choiceArg, faultsOf, intArg, outputFileArg, seedRangeArg, shellQuote, type FaultFlags } from './args.js';

interface SimFlags extends FaultFlags {
  seed?: number;
  seeds?: { first: number; last: number };
  steps: number;
  proposers: number;
  acceptors: number;
  learners: number;
  stagger: number;
  bug?: BugName;
  json?: boolean;
  trace?: boolean;
  progress: boolean;
  workers: number;
  schedule?: string;
  saveSchedule?: string;
  /** true: --shrink, false: --no-shrink, undefined: neither (sweeps shrink, single runs do not). */
  shrink?: boolean;
  shrinkRuns: number;
  shrinkOut?: string;
}

/** Defaults of the flags that shape a run (a replay command names only the flags that differ). */
const DEFAULTS = { steps: 2000, proposers: 3, acceptors: 5, learners: 2, stagger: DEFAULT_STAGGER } as const;
/** Where shrunk schedules go without --shrink-out. */
const defaultShrinkDir = () => join(tmpdir(), 'synod-shrink');

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
    .option('--bug <name>', `switch on a control bug the safety checker must catch: ${BUGS.join(', ')}`, choiceArg(BUGS))
    .option('--json', 'print exactly one JSON object instead of text')
    .option('--trace', 'single run: print every step and effect as it happens')
    .option('--schedule <file>', 'single run: replay exactly the faults in FILE (JSON, as written by a sweep\'s shrinking or --save-schedule) instead of drawing faults; --drop, --dup, --delay, --crash and --partition are then unused')
    .option('--save-schedule <file>', 'single run: write the faults the run injected to FILE (replay them with --schedule)', outputFileArg)
    .option('--workers <n>', 'sweep: worker threads to spread the seeds over (a piscina pool; 1 = this thread); what the sweep finds is the same for any n, only the rates differ', intArg(1, 256), 1)
    .option('--no-progress', 'sweep: no progress on stderr (a bar on a terminal; otherwise a line when the sweep starts and one every 5 s)')
    .option('--shrink', 'single run: if the run violates safety, shrink its fault schedule as a sweep does')
    .option('--no-shrink', 'sweep: report the first failing seed without shrinking its fault schedule')
    .option('--shrink-runs <n>', 'most simulator runs the shrinking may spend', intArg(1), DEFAULT_SHRINK_RUNS)
    .option('--shrink-out <dir>', `directory the shrunk schedule is written to, as seed-N.json (default: ${join(tmpdir(), 'synod-shrink')})`)
    .addHelpText(
      'after',
      `
Exit status: 0 when every run was safe, 1 on any safety violation, 2 on bad arguments.

A run's faults (dropped, duplicated and long-delayed messages, crashes,
partitions) come from a stream of their own, drawn from the seed. A sweep that
finds a violation prints the command that replays the first failing seed,
then shrinks that run: it searches for a smallest list of faults (and a lowest
step bound) with which the seed still violates safety, prints it one fault per
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
      if (flags.seed !== undefined && flags.seeds !== undefined) return fail('give --seed or --seeds, not both');
      if (flags.seeds !== undefined) {
        if (flags.trace) return fail('--trace works on a single run (--seed), not on a sweep');
        if (flags.schedule !== undefined) return fail('--schedule replays a single run (--seed), not a sweep');
        if (flags.saveSchedule !== undefined) return fail('--save-schedule works on a single run (--seed), not on a sweep');
      }
      let schedule: ScheduleFile | undefined;
      if (flags.schedule !== undefined) {
        try {
          schedule = parseScheduleFile(JSON.parse(readFileSync(flags.schedule, 'utf8')));
        } catch (err) {
          return fail(`--schedule ${flags.schedule}: ${(err as Error).message}`);
        }
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
  if (flags.saveSchedule !== undefined) writeSchedule(flags.saveSchedule, { seed, steps: r.steps, faults: r.schedule });
  const shrunk = r.violations.length > 0 && flags.shrink === true ? shrinkRun(flags, common, seed, file?.faults) : null;
  if (flags.json) {
    const { timeline, ...rest } = r;
    out(
      JSON.stringify({
        seed: rest.seed,
        steps: rest.steps,
        decided: rest.decided,
        violations: rest.violations,
        stats: { ...rest.stats, time: rest.time, quiescent: rest.quiescent, allDecided: rest.allDecided },
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
  if (r.violations.length === 0) {
    out('safety: OK — agreement, validity, integrity, acceptor promises and accepts monotonic across crashes, every decision chosen by a majority');
    return 0;
  }
  out(`safety: ${r.violations.length} VIOLATION(S)`);
  for (const v of r.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  if (shrunk) printShrunk(shrunk);
  else if (flags.shrink !== false) out(`shrink it: ${replayCommand(flags, seed)}${file ? ` --schedule ${shellQuote(flags.schedule as string)}` : ''} --shrink`);
  return 1;
}

async function runSweep(flags: SimFlags, common: Common): Promise<number> {
  const { first, last } = flags.seeds as { first: number; last: number };
  const total = last - first + 1;
  if (!flags.json) out(`seeds=${first}..${last}`);
  const progress = createProgress({ command: 'synod sim', unit: 'seeds', total, enabled: flags.progress });
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
  out(`${r.runs} runs on ${r.workers} worker(s): ${r.decidedRuns} decided (${pct}%), ${r.violatingRuns} violating; ${r.totalSteps} steps in ${r.elapsedMs} ms (${r.seedsPerSec} seeds/s, ${r.stepsPerSec} steps/s)`);
  if (!fv) {
    out('safety: OK on every seed');
    return 0;
  }
  out(`first violation at seed ${fv.seed}:`);
  for (const v of fv.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  out(`replay it: ${replay}`);
  const others = r.failingSeeds.filter((s) => s !== fv.seed);
  if (others.length > 0) out(`other failing seeds: ${others.join(' ')}${r.violatingRuns > r.failingSeeds.length ? ' …' : ''} (replay each with --seed)`);
  if (shrunk) printShrunk(shrunk);
  return 1;
}

/** What the CLI reports of a shrink. */
interface ShrunkReport {
  readonly seed: number;
  readonly originalFaults: number;
  readonly originalSteps: number;
  readonly faults: number;
  readonly steps: number;
  readonly runs: number;
  readonly maxRuns: number;
  readonly minimal: boolean;
  readonly schedule: FaultSchedule;
  readonly violations: ShrinkResult['violations'];
  /** The schedule file written. */
  readonly file: string;
  /** The command that replays the shrunk run. */
  readonly replay: string;
}

function shrinkRun(flags: SimFlags, common: Common, seed: number, schedule: FaultSchedule | undefined): ShrunkReport {
  const s = shrink({ ...common, seed, ...(schedule ? { schedule } : {}) }, { maxRuns: flags.shrinkRuns });
  const dir = flags.shrinkOut ?? defaultShrinkDir();
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `seed-${seed}.json`);
  writeSchedule(file, { seed, steps: s.steps, faults: s.schedule });
  return {
    seed,
    originalFaults: s.original.length,
    originalSteps: s.originalSteps,
    faults: s.schedule.length,
    steps: s.steps,
    runs: s.runs,
    maxRuns: s.maxRuns,
    minimal: s.minimal,
    schedule: s.schedule,
    violations: s.violations,
    file,
    replay: scheduleReplayCommand(flags, seed, s.steps, file),
  };
}

function printShrunk(s: ShrunkReport): void {
  const minimal = s.minimal ? '1-minimal: removing any one fault makes the run safe' : `run budget of ${s.maxRuns} spent: smaller, but not shown minimal (raise --shrink-runs)`;
  out(`shrunk seed ${s.seed}: ${s.originalFaults} faults, ${s.originalSteps} steps -> ${s.faults} fault(s), ${s.steps} steps (${s.runs} runs; ${minimal})`);
  out(`shrunk schedule (${s.faults} fault(s)):`);
  if (s.schedule.length === 0) out('  (none: the seed violates safety without any fault)');
  for (const f of s.schedule) out(`  ${describeFault(f)}`);
  out('violations of the shrunk run:');
  for (const v of s.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  out(`schedule written to ${s.file}`);
  out(`replay the shrunk run: ${s.replay}`);
}

function writeSchedule(file: string, s: { seed: number; steps: number; faults: FaultSchedule }): void {
  const doc: ScheduleFile = { format: 'synod-fault-schedule', version: 1, seed: s.seed, steps: s.steps, faults: s.faults };
  writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
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
  return words;
}

/** The exact command line that replays one seed (every flag that differs from its default). */
function replayCommand(f: SimFlags, seed: number): string {
  return ['synod sim', `--seed ${seed}`, ...shapeFlags(f, true)].join(' ');
}

/** The command line that replays a seed with a schedule file and a step bound (fault rates are unused then). */
function scheduleReplayCommand(f: SimFlags, seed: number, steps: number, file: string): string {
  return ['synod sim', `--seed ${seed}`, ...shapeFlags({ ...f, steps }, false).filter((w) => !w.startsWith('--steps ')), `--steps ${steps}`, `--schedule ${shellQuote(file)}`].join(' ');
}
