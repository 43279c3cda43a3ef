#!/usr/bin/env node
/**
 * The `synod` command line.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { addBenchCommand } from './bench.js';
import { addChaosCommand } from './chaos.js';
import { addCheckCommand } from './check.js';
import { addKvCommand } from './kv.js';
import { addKvSimCommand } from './kv-sim.js';
import { rootMessage } from './errors.js';
import { addRunCommand } from './run.js';
import { addSimCommand } from './sim.js';
import { addTraceCommand } from './trace.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Exit codes: 0 safe, 1 a safety violation, 2 bad arguments. */
function exit(code: number): void {
  process.exitCode = code;
}

/**
 * A reader that goes away (`synod sim --trace | head`) closes the pipe; the
 * next write fails with EPIPE. That is the reader's choice, not an error of
 * ours: leave quietly (exit 0, as a tool that has nothing more to say),
 * whatever command is running. A worker thread still running is stopped by
 * the exit, and its store is as safe as after any crash.
 */
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const program = new Command()
  .name('synod')
  .description('Paxos for Node.js: a cluster of actors on worker threads, a deterministic simulator and a safety checker')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Every command: --json prints exactly one JSON object on stdout (bench too;
bench --json-out FILE writes it to a file); progress and errors go to
stderr, progress as a line every 5 s when stderr is not a terminal; a file
to write must be in an existing directory; when the reader of stdout goes
away (synod ... | head) the command ends quietly with exit status 0.

Exit status (each command's --help says more): 0 safe, 1 a safety violation
(or no decision; bench: a benchmark failed), 2 bad arguments.`,
  )
  .exitOverride();

addRunCommand(program, exit);
addSimCommand(program, exit);
addTraceCommand(program, exit);
addKvSimCommand(program, exit);
addKvCommand(program, exit);
addChaosCommand(program, exit);
addCheckCommand(program, exit);
addBenchCommand(program, exit);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are not errors; every other parse failure is a usage error.
    process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
  } else if ((err as { code?: string }).code === 'SYNOD_START_FAILED') {
    // A cluster that could not start is a fact about this machine (a full disk, a data directory gone bad), not a bug: one line, no stack.
    process.stderr.write(`synod: the cluster did not start: ${rootMessage(err)}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
