#!/usr/bin/env node
/**
 * The `synod` command line.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { addBenchCommand } from './bench.js';
import { addChaosCommand } from './chaos.js';
import { addKvCommand } from './kv.js';
import { addKvSimCommand } from './kv-sim.js';
import { addRunCommand } from './run.js';
import { addSimCommand } from './sim.js';
import { addTraceCommand } from './trace.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Exit codes: 0 safe, 1 a safety violation, 2 bad arguments. */
function exit(code: number): void {
  process.exitCode = code;
}

const program = new Command()
  .name('synod')
  .description('Paxos for Node.js: a cluster of actors on worker threads, a deterministic simulator and a safety checker')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

addRunCommand(program, exit);
addSimCommand(program, exit);
addTraceCommand(program, exit);
addKvSimCommand(program, exit);
addKvCommand(program, exit);
addChaosCommand(program, exit);
addBenchCommand(program, exit);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are not errors; every other parse failure is a usage error.
    process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
  } else {
    throw err;
  }
}
