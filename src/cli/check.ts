/**
 * `synod check FILE`: checks a history file for linearizability. The file is
 * Jepsen-style JSON lines, one invocation or completion per line (the format
 * `synod kv-sim --history` and `synod kv --history` write); every key is a
 * register with read, write and cas, starting empty. The verdict and, for a
 * history that is not linearizable, the failing key, the longest
 * linearizable prefix and the operations that cannot come next are printed.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { canonicalJson } from '../core/value.js';
import { describeOperation, pairOperations, parseHistory, type Operation } from '../check/history.js';
import { checkLinearizable, DEFAULT_MAX_CONFIGURATIONS, type LinearizabilityResult } from '../check/linearizability.js';
import { fsReason, intArg } from './args.js';

interface CheckFlags {
  timeout?: number;
  maxSteps?: number;
  maxConfigurations: number;
  json?: boolean;
}

/** How many operations of the prefix the text report shows (the last ones). */
const PREFIX_SHOWN = 10;

/** Registers the `check` command on `program`. */
export function addCheckCommand(program: Command, exit: (code: number) => void): void {
  program
    .command('check')
    .description('check a history file (Jepsen-style JSON lines of read, write and cas on registers) for linearizability')
    .argument('<file>', 'the history, one JSON event per line; - reads standard input')
    .option('--timeout <ms>', 'give up (unknown) after this many milliseconds (default: no limit)', intArg(1))
    .option('--max-steps <n>', 'give up (unknown) after this many search steps on one key (default: no limit)', intArg(1))
    .option('--max-configurations <n>', 'give up (unknown) when the search of one key has remembered this many configurations: this bounds the memory used', intArg(1), DEFAULT_MAX_CONFIGURATIONS)
    .option('--json', 'print exactly one JSON object instead of text')
    .addHelpText(
      'after',
      `
Each line is an object {"process", "type", "f", "key", "value"}: type is
invoke, ok, fail or info; f is read, write or cas; value is null on a read's
invoke and the value read on its ok, the value written, or [from, to] for a
cas. A cas that answered false completes with type ok and "swapped": false (it
observed another value); fail means the operation certainly did not happen,
info that its outcome is unknown (it may take effect at any later time). Other
fields (time, index) are ignored.

A history that is not linearizable is reported with the failing key, the
longest linearizable prefix of that key's operations, the register's value
after it, and the operations that could come next, none of which the register
allows.

Exit status: 0 linearizable, 1 not linearizable, 2 unknown (a limit was
reached) or bad input (a file that cannot be read or a malformed event, named
by its line).

Examples:
  synod check history.jsonl
  synod kv-sim --seed 7 --history h.jsonl && synod check h.jsonl --json
  synod check big.jsonl --timeout 60000 --max-configurations 1000000`,
    )
    .action((file: string, flags: CheckFlags) => exit(runCheck(file, flags)));
}

function runCheck(file: string, f: CheckFlags): number {
  const bad = (message: string) => {
    if (f.json) process.stdout.write(`${JSON.stringify({ ok: false, status: 'bad-input', error: message })}\n`);
    process.stderr.write(`synod check: ${message}\n`);
    return 2;
  };
  const name = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    return bad(`cannot read ${name}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : fsReason(err)}`);
  }
  let ops: Operation[];
  try {
    ops = pairOperations(parseHistory(text));
  } catch (err) {
    return bad(`${name}: ${(err as Error).message}`);
  }
  const result = checkLinearizable(ops, {
    ...(f.timeout !== undefined ? { timeoutMs: f.timeout } : {}),
    ...(f.maxSteps !== undefined ? { maxSteps: f.maxSteps } : {}),
    maxConfigurations: f.maxConfigurations,
  });
  const keys = new Set(ops.map((op) => op.key)).size;
  const code = result.status === 'linearizable' ? 0 : result.status === 'not-linearizable' ? 1 : 2;
  if (f.json) {
    process.stdout.write(`${JSON.stringify(report(result, ops.length, keys))}\n`);
    return code;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const size = `${ops.length} operation(s) on ${keys} key(s), ${result.steps} search steps`;
  if (result.status === 'linearizable') {
    out(`linearizable (${size})`);
  } else if (result.status === 'unknown') {
    out(`UNKNOWN (${size}): ${result.reason}`);
  } else {
    out(`NOT LINEARIZABLE: key ${JSON.stringify(result.key)} (${size})`);
    out(result.reason);
    const shown = result.prefix.slice(-PREFIX_SHOWN);
    out(`longest linearizable prefix: ${result.prefix.length} operation(s)${shown.length < result.prefix.length ? `, the last ${shown.length}:` : ':'}`);
    for (const op of shown) out(`  ${describeOperation(op)}`);
    out(`register after it: ${canonicalJson(result.state)}`);
    out('operations that could come next, none of which the register allows:');
    for (const op of result.stuck) out(`  ${describeOperation(op)}`);
  }
  return code;
}

/** An operation as JSON: `return` is null for an operation whose outcome is unknown. */
function opJson(op: Operation) {
  return { ...op, return: Number.isFinite(op.return) ? op.return : null, description: describeOperation(op) };
}

function report(result: LinearizabilityResult, operations: number, keys: number) {
  const common = { ok: result.ok, status: result.status, operations, keys, steps: result.steps };
  if (result.status === 'linearizable') return common;
  if (result.status === 'unknown') return { ...common, key: result.key, reason: result.reason };
  return { ...common, key: result.key, reason: result.reason, prefix: result.prefix.map(opJson), state: result.state, stuck: result.stuck.map(opJson) };
}
