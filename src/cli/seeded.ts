/**
 * What `synod sim` and `synod kv-sim` share as seeded simulator commands: the
 * flags of recording, replaying and shrinking fault schedules and of spread
 * sweeps, the schedule files, the progress display, the replay command lines
 * and the report of a shrunk run. Each command adds only its own protocol's
 * flags, runs and verdicts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Violation } from '../check/types.js';
import { describeFault, parseScheduleFile, type FaultSchedule, type ScheduleFile } from '../sim/schedule.js';
import { DEFAULT_SHRINK_RUNS, type ShrunkRun } from '../sim/shrink.js';
import { createProgress, type Progress } from '../util/progress.js';
import { intArg, outputFileArg, shellQuote } from './args.js';

/** The flags {@link addSeededOptions} adds, and the seed flags both commands have. */
export interface SeededFlags {
  seed?: number;
  seeds?: { first: number; last: number };
  json?: boolean;
  progress: boolean;
  workers: number;
  schedule?: string;
  saveSchedule?: string;
  /** true: --shrink, false: --no-shrink, undefined: neither (sweeps shrink, single runs do not). */
  shrink?: boolean;
  shrinkRuns: number;
  shrinkOut?: string;
}

/** Where shrunk schedules go without --shrink-out. */
export const defaultShrinkDir = (): string => join(tmpdir(), 'synod-shrink');

/**
 * Adds the schedule, sweep and shrink flags to `cmd`; `fails` says what a
 * failing run does (e.g. `violates safety`), `rates` names the fault-rate
 * flags a replayed schedule makes unused.
 */
export function addSeededOptions(cmd: Command, fails: string, rates = '--drop, --dup, --delay, --crash and --partition'): Command {
  return cmd
    .option('--schedule <file>', `single run: replay exactly the faults in FILE (JSON, as written by a sweep's shrinking or --save-schedule) instead of drawing faults; ${rates} are then unused`)
    .option('--save-schedule <file>', 'single run: write the faults the run injected to FILE (replay them with --schedule)', outputFileArg)
    .option('--workers <n>', 'sweep: worker threads to spread the seeds over (a piscina pool; 1 = this thread); what the sweep finds is the same for any n, only the rates differ', intArg(1, 256), 1)
    .option('--no-progress', 'sweep: no progress on stderr (a bar on a terminal; otherwise a line when the sweep starts and one every 5 s)')
    .option('--shrink', `single run: if the run ${fails}, shrink its fault schedule as a sweep does`)
    .option('--no-shrink', 'sweep: report the first failing seed without shrinking its fault schedule')
    .option('--shrink-runs <n>', 'most simulator runs the shrinking may spend', intArg(1), DEFAULT_SHRINK_RUNS)
    .option('--shrink-out <dir>', `directory the shrunk schedule is written to, as seed-N.json (default: ${defaultShrinkDir()})`);
}

/** The liveness-phase flags both simulators take. */
export interface LivenessFlags {
  /** False with --no-liveness. */
  liveness: boolean;
  livenessMs: number;
}

/** Adds --no-liveness and --liveness-ms to a simulator command (`what` says what must happen in the liveness phase). */
export function addLivenessOptions(cmd: Command, defaultMs: number, what: string): Command {
  return cmd
    .option('--no-liveness', `no liveness phase: the run ends with its fault phase (by default, after it, partitions heal, crashed actors restart, faults stop, and ${what} within --liveness-ms, or the run fails with a liveness violation)`)
    .option('--liveness-ms <ms>', 'bound of the liveness phase, in virtual ms', intArg(1), defaultMs);
}

/** The run options the liveness flags set. */
export function livenessOptions(f: LivenessFlags): { liveness: boolean; livenessMs: number } {
  return { liveness: f.liveness, livenessMs: f.livenessMs };
}

/** The liveness flags that differ from their defaults, as command-line words (for replay commands). */
export function livenessWords(f: LivenessFlags, defaultMs: number): string[] {
  if (!f.liveness) return ['--no-liveness'];
  return f.livenessMs !== defaultMs ? [`--liveness-ms ${f.livenessMs}`] : [];
}

/** Why these flags do not go together, or null. */
export function seededFlagError(flags: SeededFlags): string | null {
  if (flags.seed !== undefined && flags.seeds !== undefined) return 'give --seed or --seeds, not both';
  if (flags.seeds !== undefined) {
    if (flags.schedule !== undefined) return '--schedule replays a single run (--seed), not a sweep';
    if (flags.saveSchedule !== undefined) return '--save-schedule works on a single run (--seed), not on a sweep';
  }
  return null;
}

/** Reads the --schedule file, if any; throws an Error whose message names the file and what is wrong. */
export function readScheduleFlag(flags: SeededFlags, messageTypes?: readonly string[]): ScheduleFile | undefined {
  if (flags.schedule === undefined) return undefined;
  try {
    return parseScheduleFile(JSON.parse(readFileSync(flags.schedule, 'utf8')), messageTypes);
  } catch (err) {
    throw new Error(`--schedule ${flags.schedule}: ${(err as Error).message}`);
  }
}

/** Writes a schedule file that --schedule reads back. */
export function writeSchedule(file: string, s: { seed: number; steps: number; faults: FaultSchedule }): void {
  const doc: ScheduleFile = { format: 'synod-fault-schedule', version: 1, seed: s.seed, steps: s.steps, faults: s.faults };
  writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
}

/** The sweep's progress on stderr (see ../util/progress.ts): a bar on a terminal, else a line at the start and every few seconds; nothing with --no-progress. */
export function sweepProgress(command: string, flags: SeededFlags, total: number): Progress {
  return createProgress({ command: `synod ${command}`, unit: 'seeds', total, enabled: flags.progress });
}

/** The command line that replays one seed: `synod <command> --seed N` and the flags that shape the run. */
export function replayLine(command: string, seed: number, shape: readonly string[]): string {
  return [`synod ${command}`, `--seed ${seed}`, ...shape].join(' ');
}

/** The command line that replays a seed with a schedule file and a step bound (`shape` without fault rates and without --steps: they are unused or replaced). */
export function scheduleReplayLine(command: string, seed: number, shape: readonly string[], steps: number, file: string): string {
  return [`synod ${command}`, `--seed ${seed}`, ...shape, `--steps ${steps}`, `--schedule ${shellQuote(file)}`].join(' ');
}

/** What the CLI reports of a shrink. */
export interface ShrunkReport {
  readonly seed: number;
  readonly originalFaults: number;
  readonly originalSteps: number;
  readonly faults: number;
  readonly steps: number;
  readonly runs: number;
  readonly maxRuns: number;
  readonly minimal: boolean;
  readonly schedule: FaultSchedule;
  readonly violations: readonly Violation[];
  /** The schedule file written. */
  readonly file: string;
  /** The command that replays the shrunk run. */
  readonly replay: string;
}

/** Writes a shrink's schedule to the --shrink-out directory and reports it; `replay` gives the command line that replays the file. */
export function shrunkReport(flags: SeededFlags, s: Omit<ShrunkRun<unknown>, 'result'> & { readonly violations: readonly Violation[] }, replay: (file: string) => string): ShrunkReport {
  const dir = flags.shrinkOut ?? defaultShrinkDir();
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `seed-${s.seed}.json`);
  writeSchedule(file, { seed: s.seed, steps: s.steps, faults: s.schedule });
  return {
    seed: s.seed,
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
    replay: replay(file),
  };
}

/**
 * Prints a shrink: sizes before and after, the schedule one fault per line,
 * what the shrunk run fails (`verdict`: extra lines after its violations),
 * the file and the replay command. `passes` says what a run without the
 * failure does (e.g. `safe`), `fails` what the seed does without any fault.
 */
export function printShrunk(out: (line: string) => void, s: ShrunkReport, words: { passes: string; fails: string }, verdict: readonly string[] = []): void {
  const minimal = s.minimal ? `1-minimal: removing any one fault makes the run ${words.passes}` : `run budget of ${s.maxRuns} spent: smaller, but not shown minimal (raise --shrink-runs)`;
  out(`shrunk seed ${s.seed}: ${s.originalFaults} faults, ${s.originalSteps} steps -> ${s.faults} fault(s), ${s.steps} steps (${s.runs} runs; ${minimal})`);
  out(`shrunk schedule (${s.faults} fault(s)):`);
  if (s.schedule.length === 0) out(`  (none: the seed ${words.fails} without any fault)`);
  for (const f of s.schedule) out(`  ${describeFault(f)}`);
  out(`violations of the shrunk run:${s.violations.length === 0 ? ' none' : ''}`);
  for (const v of s.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  for (const line of verdict) out(line);
  out(`schedule written to ${s.file}`);
  out(`replay the shrunk run: ${s.replay}`);
}

/** The line listing a sweep's other failing seeds, or null when there are none. */
export function otherFailingSeeds(first: number, failingSeeds: readonly number[], failingRuns: number): string | null {
  const others = failingSeeds.filter((s) => s !== first);
  if (others.length === 0) return null;
  return `other failing seeds: ${others.join(' ')}${failingRuns > failingSeeds.length ? ' …' : ''} (replay each with --seed)`;
}
