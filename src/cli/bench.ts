/**
 * `synod bench`: the benchmark suite (bench/suite.ts) and the comparison of
 * two of its JSON reports (bench/compare.ts). The suite is loaded only when
 * it runs, so the rest of the command line starts without it.
 */
import type { Command } from 'commander';
import { BENCH_NAMES, BENCH_SUMMARIES } from '../../bench/names.js';
import { intArg, outputFileArg, UsageError } from './args.js';

interface BenchFlags {
  quick?: boolean;
  only?: string[];
  /** true: print the report on stdout; a string: the old spelling of --json-out. */
  json?: boolean | string;
  jsonOut?: string;
  html?: string;
  repeats?: number;
  compare?: string[];
}

/** Benchmark names, separated by spaces (several arguments) or commas; each must be known. */
function onlyArg(text: string, previous: string[] | undefined): string[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(BENCH_NAMES as readonly string[]).includes(n)) throw new UsageError(`unknown benchmark ${JSON.stringify(n)}; the benchmarks are: ${BENCH_NAMES.join(', ')}`);
  }
  return [...(previous ?? []), ...names];
}

/** Registers the `bench` command on `program`. */
export function addBenchCommand(program: Command, exit: (code: number) => void): void {
  program
    .command('bench')
    .description('run the benchmark suite (message paths, storage, single-decree, restart, Multi-Paxos curves, the key-value store at a few clients, efficiency) and report figures and goals; or compare two reports')
    .option('--quick', 'the quick configuration of every benchmark (under 2 minutes on 2 vCPUs)')
    .option('--only <names...>', `run only these benchmarks (space- or comma-separated): ${BENCH_NAMES.join(', ')}`, onlyArg)
    .option('--repeats <n>', "timed repeats of every benchmark, after its warm-up (default: each benchmark's own)", intArg(1, 1000))
    .option('--json [file]', 'print the report on stdout as exactly one JSON object, { env, options, results, goals, errors }, instead of the text tables (as --json does for every command)')
    .option('--json-out <file>', 'write the report as one JSON object to FILE (the text report still goes to stdout); `--json FILE`, its old spelling, still works', outputFileArg)
    .option('--html <file>', 'write a self-contained HTML report (inline SVG charts, no scripts, no network)', outputFileArg)
    .option('--compare <files...>', 'compare two JSON reports, OLD.json NEW.json: old, new and new/old of every figure in both')
    .addHelpText('after', `\nBenchmarks:\n${BENCH_NAMES.map((n) => `  ${n.padEnd(16)}${BENCH_SUMMARIES[n]}`).join('\n')}\n\nGoals are reported (met or missed), never asserted.\nExit status: 0 when every benchmark ran, 1 when one failed, 2 on bad arguments or reports that cannot be compared.`)
    .action(async (flags: BenchFlags) => {
      if (flags.compare !== undefined) {
        if (flags.compare.length !== 2) {
          process.stderr.write(`synod bench: --compare takes two files, OLD.json NEW.json (got ${flags.compare.length})\n`);
          return exit(2);
        }
        if (flags.json !== undefined || flags.jsonOut !== undefined || flags.html !== undefined) {
          process.stderr.write('synod bench: --compare prints a comparison; it takes no --json, --json-out or --html\n');
          return exit(2);
        }
        const [oldFile, newFile] = flags.compare as [string, string];
        const { CompareError, loadReport, renderComparison } = await import('../../bench/compare.js');
        try {
          process.stdout.write(renderComparison(oldFile, newFile, loadReport(oldFile), loadReport(newFile)));
          return exit(0);
        } catch (err) {
          if (!(err instanceof CompareError)) throw err;
          process.stderr.write(`synod bench: ${err.message}\n`);
          return exit(2);
        }
      }
      let jsonOut = flags.jsonOut;
      if (typeof flags.json === 'string') {
        // `--json FILE` wrote a file before --json meant stdout; kept working, with a note.
        if (jsonOut !== undefined) {
          process.stderr.write('synod bench: give --json-out FILE (or the old --json FILE), not both\n');
          return exit(2);
        }
        try {
          jsonOut = outputFileArg(flags.json);
        } catch (err) {
          process.stderr.write(`synod bench: --json ${flags.json}: ${(err as Error).message}\n`);
          return exit(2);
        }
        process.stderr.write(`synod bench: --json FILE is the old spelling of --json-out FILE; --json alone prints the report on stdout\n`);
      }
      const toStdout = flags.json === true;
      const { runSuite, renderText, writeReport } = await import('../../bench/suite.js');
      const report = await runSuite({ quick: flags.quick === true, only: flags.only ?? null, repeats: flags.repeats ?? null });
      if (toStdout) process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(renderText(report));
      writeReport(report, { json: jsonOut, html: flags.html });
      if (jsonOut !== undefined) process.stderr.write(`wrote ${jsonOut}\n`);
      if (flags.html !== undefined) process.stderr.write(`wrote ${flags.html}\n`);
      exit(Object.keys(report.errors).length > 0 ? 1 : 0);
    });
}
