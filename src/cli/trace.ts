/**
 * `synod trace`: the trace of one simulated run — single-decree Paxos (the
 * run `synod sim` makes) or the Multi-Paxos key-value store (the run
 * `synod kv-sim` makes) — written as JSON, as a ShiViz log or as a
 * self-contained HTML space-time diagram.
 */
import type { Command } from 'commander';
import { checkLinearizable } from '../check/linearizability.js';
import { describeValue } from '../core/describe.js';
import { KV_FAULTS } from '../sim/kvsim.js';
import { BUGS, DEFAULT_FAULTS, DEFAULT_STAGGER, type BugName } from '../sim/simulator.js';
import { checkClocks } from '../trace/check.js';
import { STEPS_AFTER_DECISION, traceKvSimulation, traceUntilDecided } from '../sim/trace.js';
import type { Trace } from '../trace/types.js';
import { TRACE_FORMATS, traceFormatOf, writeTraceFile, type TraceFormat } from '../trace/write.js';
import { addFaultOptions, choiceArg, faultsOf, intArg, outputFileArg, type FaultFlags } from './args.js';

const PROTOCOLS = ['synod', 'kv'] as const;
const KV_BUGS = ['stale-read'] as const;
/** Defaults of the key-value run that differ from the single-decree ones (those of `synod kv-sim`, but a small workload). */
const KV_DEFAULTS = { acceptors: 3, clients: 3, ops: 30, keys: 5 };

interface TraceFlags extends FaultFlags {
  seed: number;
  out: string;
  format?: TraceFormat;
  protocol: (typeof PROTOCOLS)[number];
  steps: number;
  proposers: number;
  acceptors: number;
  learners: number;
  stagger: number;
  clients?: number;
  ops?: number;
  keys?: number;
  bug?: BugName | (typeof KV_BUGS)[number];
  keepGoing?: boolean;
}

/** Registers the `trace` command on `program`. */
export function addTraceCommand(program: Command, exit: (code: number) => void): void {
  const command = program
    .command('trace')
    .description('record every event of one simulated run (sends, receives, drops, persists, crashes, restarts, decisions) with vector clocks, and write it as JSON, HTML or a ShiViz log')
    .requiredOption('--out <file>', 'where to write the trace (its directory must exist); its extension picks the format: .json, .html, .shiviz or .log (ShiViz)', outputFileArg)
    .option('--format <format>', `write this format whatever the extension: ${TRACE_FORMATS.join(', ')}`, choiceArg(TRACE_FORMATS))
    .option('--protocol <name>', 'synod: single-decree Paxos, the run `synod sim` makes; kv: the Multi-Paxos key-value store, the run `synod kv-sim` makes', choiceArg(PROTOCOLS), 'synod')
    .option('--seed <n>', 'seed of the run; the same seed and options write the same trace byte for byte', intArg(Number.MIN_SAFE_INTEGER), 1)
    .option('--steps <m>', 'upper bound on steps (a run also ends when nothing is left to happen) (kv default: 400 per operation)', intArg(1), 2000)
    .option('--keep-going', `synod: record up to --steps instead of stopping ${STEPS_AFTER_DECISION} steps after every learner decided`)
    .option('--proposers <p>', 'number of proposers', intArg(1, 64), 3)
    .option('--acceptors <a>', `number of acceptors (a majority must be up to decide) (kv default: ${KV_DEFAULTS.acceptors})`, intArg(1, 64), 5)
    .option('--learners <l>', 'number of learners', intArg(1, 64), 2);
  addFaultOptions(command, DEFAULT_FAULTS)
    .option('--stagger <ms>', 'proposers get their first request at a random time in [0, ms]', intArg(0), DEFAULT_STAGGER)
    .option('--clients <c>', `kv: concurrent clients, each with one operation outstanding (default: ${KV_DEFAULTS.clients})`, intArg(1, 1000))
    .option('--ops <o>', `kv: operations in all, shared among the clients (default: ${KV_DEFAULTS.ops})`, intArg(1))
    .option('--keys <k>', `kv: distinct keys (default: ${KV_DEFAULTS.keys})`, intArg(1, 10_000))
    .option('--bug <name>', `switch on a control bug the safety checker must catch: ${BUGS.join(', ')} (kv: ${KV_BUGS.join(', ')})`, choiceArg([...BUGS, ...KV_BUGS]))
    .addHelpText(
      'after',
      `
Formats:
  json    the trace: {format, version, source, actors, events}; each event has
          index, actor (lane), kind, time (virtual ms), text (the describe()
          text), msg/from/to for messages, value for decisions, vc (vector clock)
  html    one self-contained page (no network): a space-time diagram with a
          lane per actor and an arrow per message; open it in a browser
  shiviz  a log for ShiViz (https://bestchai.bitbucket.io/shiviz/): upload the
          file there as it is (its first line is the parser expression)

With --protocol synod (the default) the run is the one \`synod sim\` makes with
the same flags, except that it stops ${STEPS_AFTER_DECISION} steps after every learner decided
(or after the last safety violation, if later): what follows is retries of a
settled question. The trace's source.steps says where it stopped, and
\`synod sim --steps <that>\` replays it; --keep-going records all --steps.

With --protocol kv it is the one \`synod kv-sim\` makes with the same flags,
and flags not given take kv-sim's defaults (3 acceptors, crash and partition
0.0002), except for a small workload: 3 clients, 30 operations.
--stagger and --keep-going are for synod only; --clients, --ops and --keys for
kv only.

It prints one line (the file, the format, the number of events and lanes,
the outcome, the verdict and where the run stopped), then one line per safety
violation.

Exit status: 0 when the run was safe, 1 when the run had a safety violation
(kv: or its history is not linearizable; the trace is written all the same),
2 on bad arguments or an unwritable file.

Examples:
  synod trace --seed 7 --out run.html
  synod trace --seed 7 --out run.log                     a ShiViz log
  synod trace --seed 3 --bug amnesia --crash 0.02 --out bad.json
  synod trace --seed 7 --keep-going --steps 5000 --out big --format html
  synod trace --protocol kv --seed 2 --ops 50 --out kv.html`,
    )
    .action(async (flags: TraceFlags, cmd: Command) => {
      const usage = (message: string) => {
        process.stderr.write(`synod trace: ${message}\n`);
        exit(2);
      };
      let format: TraceFormat;
      try {
        format = flags.format ?? traceFormatOf(flags.out);
      } catch (err) {
        return usage((err as Error).message);
      }
      const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      const kv = flags.protocol === 'kv';
      const wrong = kv ? ['stagger', 'keepGoing'].filter(given) : ['clients', 'ops', 'keys'].filter(given);
      const flag = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      if (wrong.length > 0) return usage(`${wrong.map(flag).join(', ')} ${wrong.length > 1 ? 'do' : 'does'} not apply to --protocol ${flags.protocol}`);
      if (flags.bug !== undefined && (kv ? !(KV_BUGS as readonly string[]).includes(flags.bug) : !(BUGS as readonly string[]).includes(flags.bug))) {
        return usage(`--bug ${flags.bug} does not apply to --protocol ${flags.protocol}: use one of ${(kv ? KV_BUGS : BUGS).join(', ')}`);
      }

      let trace: Trace;
      let outcome: string;
      let failures: string[];
      let stopped = '';
      if (kv) {
        const clients = flags.clients ?? KV_DEFAULTS.clients;
        const ops = flags.ops ?? KV_DEFAULTS.ops;
        if (clients > ops) return usage(`--clients (${clients}) must not exceed --ops (${ops})`);
        // Fault flags left at their (single-decree) defaults take the key-value defaults instead.
        const faults: Partial<FaultFlags> = { ...(KV_FAULTS as Partial<FaultFlags>) };
        for (const k of ['drop', 'dup', 'delay', 'crash', 'partition'] as const) if (given(k)) faults[k] = flags[k];
        const r = traceKvSimulation({
          seed: flags.seed,
          clients,
          ops,
          keys: flags.keys ?? KV_DEFAULTS.keys,
          proposers: flags.proposers,
          acceptors: given('acceptors') ? flags.acceptors : KV_DEFAULTS.acceptors,
          learners: flags.learners,
          faults,
          bug: flags.bug === 'stale-read' ? 'stale-read' : null,
          ...(given('steps') ? { maxSteps: flags.steps } : {}),
        });
        trace = r.trace;
        const lin = checkLinearizable(r.result.history, { timeoutMs: 30_000 });
        outcome = `${r.result.completed} operations completed, ${r.result.unknown} unanswered; history ${lin.ok ? 'linearizable' : lin.status === 'unknown' ? 'linearizability UNKNOWN' : 'NOT LINEARIZABLE'}`;
        failures = r.result.violations.map((v) => `step ${v.step} ${v.kind}: ${v.message}`);
        if (!lin.ok) failures.push(`linearizability ${lin.status}: ${lin.reason}`);
      } else {
        const r = traceUntilDecided(
          {
            seed: flags.seed,
            steps: flags.steps,
            proposers: flags.proposers,
            acceptors: flags.acceptors,
            learners: flags.learners,
            faults: faultsOf(flags),
            stagger: flags.stagger,
            bug: (flags.bug as BugName | undefined) ?? null,
          },
          // Keeping going is stopping no sooner than the step bound.
          flags.keepGoing ? Infinity : STEPS_AFTER_DECISION,
        );
        trace = r.trace;
        if (r.cut) stopped = `; stopped at step ${r.result.steps}, every learner having decided by step ${r.decidedAt} (--keep-going records up to --steps ${flags.steps})`;
        else if (!flags.keepGoing && r.decidedAt === null) stopped = `; ran all ${r.result.steps} steps: not every learner decided`;
        const decided = Object.entries(r.result.decided).map(([l, v]) => `${l}=${describeValue(v)}`);
        outcome = `decided ${decided.length > 0 ? decided.join(' ') : 'nothing'}`;
        failures = r.result.violations.map((v) => `step ${v.step} ${v.kind}: ${v.message}`);
      }
      const problems = checkClocks(trace);
      if (problems.length > 0) throw new Error(`internal error: inconsistent vector clocks at event ${problems[0]?.index}: ${problems[0]?.message}`);
      try {
        await writeTraceFile(flags.out, trace, format);
      } catch (err) {
        process.stderr.write(`synod trace: cannot write ${flags.out}: ${(err as Error).message}\n`);
        return exit(2);
      }
      const verdict = failures.length === 0 ? 'safe' : `${failures.length} safety violation(s)`;
      process.stdout.write(`${flags.out}: ${format}, ${trace.events.length} events on ${trace.actors.length} lanes; ${flags.protocol} seed=${flags.seed}; ${outcome}; ${verdict}${stopped}\n`);
      for (const f of failures) process.stdout.write(`  ${f}\n`);
      exit(failures.length > 0 ? 1 : 0);
    });
}
