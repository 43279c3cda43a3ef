/**
 * `synod sim`: one seeded simulation (a timeline and the verdict) or a sweep
 * over many seeds (a progress display and a summary).
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { describeValue } from '../core/describe.js';
import { BUGS, DEFAULT_FAULTS, DEFAULT_STAGGER, simulate, type BugName, type FaultOptions } from '../sim/simulator.js';
import { parallelSweep } from '../sim/parallel.js';
import { addFaultOptions, choiceArg, faultsOf, intArg, seedRangeArg, type FaultFlags } from './args.js';

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
}

/** Registers the `sim` command on `program`. */
export function addSimCommand(program: Command, exit: (code: number) => void): void {
  const command = program
    .command('sim')
    .description('run the Synod protocol in the deterministic simulator (one seed, or a sweep over many)')
    .option('--seed <n>', 'seed of a single run; the same seed replays the same run byte for byte (default: 1)', intArg(Number.MIN_SAFE_INTEGER))
    .option('--seeds <first..last>', 'sweep every seed in the range and print a summary', seedRangeArg)
    .option('--steps <m>', 'upper bound on steps per run (a run also ends when nothing is left to happen)', intArg(1), 2000)
    .option('--proposers <p>', 'number of proposers', intArg(1, 64), 3)
    .option('--acceptors <a>', 'number of acceptors (a majority must be up to decide)', intArg(1, 64), 5)
    .option('--learners <l>', 'number of learners', intArg(1, 64), 2);
  addFaultOptions(command, DEFAULT_FAULTS)
    .option('--stagger <ms>', 'proposers get their first request at a random time in [0, ms]', intArg(0), DEFAULT_STAGGER)
    .option('--bug <name>', `switch on a control bug the safety checker must catch: ${BUGS.join(', ')}`, choiceArg(BUGS))
    .option('--json', 'print exactly one JSON object instead of text')
    .option('--trace', 'single run: print every step and effect as it happens')
    .option('--workers <n>', 'sweep: worker threads to spread the seeds over (a piscina pool; 1 = this thread)', intArg(1, 256), 1)
    .option('--no-progress', 'sweep: no progress display (it is shown only on a terminal anyway)')
    .addHelpText(
      'after',
      `
Exit status: 0 when every run was safe, 1 on any safety violation, 2 on bad arguments.

Examples:
  synod sim --seed 7                      one run, its timeline and verdict
  synod sim --seeds 1..1000 --json        a sweep, summarised as JSON
  synod sim --seeds 1..2000 --bug amnesia a sweep that must find violations`,
    )
    .action(async (flags: SimFlags) => {
      if (flags.seed !== undefined && flags.seeds !== undefined) {
        process.stderr.write('synod sim: give --seed or --seeds, not both\n');
        return exit(2);
      }
      if (flags.trace && flags.seeds !== undefined) {
        process.stderr.write('synod sim: --trace works on a single run (--seed), not on a sweep\n');
        return exit(2);
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
      exit(flags.seeds ? await runSweep(flags, common) : runOne(flags, common));
    });
}

type Common = Omit<Parameters<typeof simulate>[0], 'seed'>;

function runOne(flags: SimFlags, common: Common): number {
  const seed = flags.seed ?? 1;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (!flags.json) {
    out(`seed=${seed}`);
    out(`synod sim: ${common.proposers} proposers, ${common.acceptors} acceptors, ${common.learners} learners; ${describeFaults(flags)}${flags.bug ? `; bug=${flags.bug}` : ''}`);
  }
  const r = simulate({ ...common, seed, ...(flags.trace && !flags.json ? { trace: (l: string) => out(`  | ${l}`) } : {}) });
  if (flags.json) {
    const { timeline, ...rest } = r;
    out(JSON.stringify({ seed: rest.seed, steps: rest.steps, decided: rest.decided, violations: rest.violations, stats: { ...rest.stats, time: rest.time, quiescent: rest.quiescent, allDecided: rest.allDecided }, timeline }));
    return r.violations.length > 0 ? 1 : 0;
  }
  out('timeline:');
  for (const e of r.timeline) out(`  t=${String(e.time).padStart(5)} step=${String(e.step).padStart(5)}  ${e.text}`);
  const decided = Object.entries(r.decided).map(([l, v]) => `${l}=${describeValue(v)}`);
  out(`decided: ${decided.length > 0 ? decided.join(' ') : 'nothing'}${r.allDecided ? '' : ` (${common.learners - decided.length} of ${common.learners} learners undecided)`}`);
  const s = r.stats;
  out(`stats: steps=${r.steps} time=${r.time} ${r.quiescent ? 'quiescent' : 'step bound reached'}; inputs=${s.inputs}; messages sent=${s.sent} delivered=${s.delivered} dropped=${s.dropped} duplicated=${s.duplicated}; writes=${s.writes} lost=${s.lostWrites}; crashes=${s.crashes} restarts=${s.restarts} partitions=${s.partitions}`);
  if (r.violations.length === 0) {
    out('safety: OK — agreement, validity, integrity, acceptor promises and accepts monotonic across crashes, every decision chosen by a majority');
    return 0;
  }
  out(`safety: ${r.violations.length} VIOLATION(S)`);
  for (const v of r.violations) out(`  step ${v.step} ${v.kind}: ${v.message}`);
  return 1;
}

async function runSweep(flags: SimFlags, common: Common): Promise<number> {
  const { first, last } = flags.seeds as { first: number; last: number };
  const total = last - first + 1;
  const tty = Boolean(process.stderr.isTTY) && flags.progress && !flags.json;
  const bar = tty ? new SingleBar({ format: 'seeds {bar} {value}/{total} {percentage}% | {eta_formatted} left', hideCursor: true }, Presets.shades_classic) : null;
  if (!flags.json) process.stdout.write(`seeds=${first}..${last}\n`);
  bar?.start(total, 0);
  const r = await parallelSweep({
    ...common,
    first,
    last,
    workers: flags.workers,
    onProgress: (done) => {
      if (bar && (done % 50 === 0 || done === total)) bar.update(done);
    },
  });
  bar?.stop();
  const replay = r.firstViolation ? replayCommand(flags, r.firstViolation.seed) : null;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        runs: r.runs,
        decidedRuns: r.decidedRuns,
        violatingRuns: r.violatingRuns,
        firstViolation: r.firstViolation ? { ...r.firstViolation, replay } : null,
        seedsPerSec: r.seedsPerSec,
        stepsPerSec: r.stepsPerSec,
        totalSteps: r.totalSteps,
        elapsedMs: r.elapsedMs,
        seeds: { first, last },
        workers: r.workers,
      })}\n`,
    );
  } else {
    const pct = ((100 * r.decidedRuns) / r.runs).toFixed(1);
    process.stdout.write(`${r.runs} runs on ${r.workers} worker(s): ${r.decidedRuns} decided (${pct}%), ${r.violatingRuns} violating; ${r.totalSteps} steps in ${r.elapsedMs} ms (${r.seedsPerSec} seeds/s, ${r.stepsPerSec} steps/s)\n`);
    if (r.firstViolation) {
      process.stdout.write(`first violation at seed ${r.firstViolation.seed}:\n`);
      for (const v of r.firstViolation.violations) process.stdout.write(`  step ${v.step} ${v.kind}: ${v.message}\n`);
      process.stdout.write(`replay it: ${replay}\n`);
    } else {
      process.stdout.write('safety: OK on every seed\n');
    }
  }
  return r.violatingRuns > 0 ? 1 : 0;
}

function describeFaults(f: SimFlags): string {
  return `drop=${f.drop} dup=${f.dup} delay=${f.delay} crash=${f.crash} partition=${f.partition}`;
}

/** The exact command line that replays one seed of a sweep. */
function replayCommand(f: SimFlags, seed: number): string {
  const parts = [`synod sim --seed ${seed} --steps ${f.steps}`, `--proposers ${f.proposers} --acceptors ${f.acceptors} --learners ${f.learners}`, `--drop ${f.drop} --dup ${f.dup} --delay ${f.delay} --crash ${f.crash} --partition ${f.partition} --stagger ${f.stagger}`];
  if (f.bug) parts.push(`--bug ${f.bug}`);
  return parts.join(' ');
}
