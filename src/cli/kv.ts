/**
 * `synod kv`: the replicated key-value store on a real cluster — Multi-Paxos
 * actors on worker threads with LMDB — under client load, optionally killing
 * the leader's worker in the middle. The clients' history is checked for
 * linearizability and the log for safety.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { formatHistory } from '../check/history.js';
import { checkLinearizable } from '../check/linearizability.js';
import type { Value } from '../core/value.js';
import { createKvCluster, KV_DEFAULTS, type KvCluster } from '../runtime/kv-cluster.js';
import type { KvView } from '../runtime/mpwire.js';
import { longestGap } from '../../bench/lib/stats.js';
import { formatHealth } from '../runtime/health.js';
import type { TransportKind } from '../runtime/transports/index.js';
import type { CrashMode } from '../runtime/wire.js';
import { choiceArg, dataDirProblem, intArg, outputFileArg } from './args.js';
import { rootMessage } from './errors.js';

interface KvFlags {
  clients: number;
  ops: number;
  keys: number;
  proposers: number;
  acceptors: number;
  learners: number;
  batch: number;
  window: number;
  reads: 'index' | 'log';
  learn: 'commit' | 'votes';
  crashLeader: boolean;
  crashHow: CrashMode;
  replace?: string;
  storage: 'lmdb' | 'memory';
  durable: boolean;
  dataDir?: string;
  history?: string;
  transport: TransportKind;
  json?: boolean;
}

const TRANSPORTS: readonly TransportKind[] = ['port', 'hub', 'ring'];

/** Registers the `kv` command on `program`. */
export function addKvCommand(program: Command, exit: (code: number) => void): void {
  program
    .command('kv')
    .description('run the replicated key-value store (Multi-Paxos) on a real cluster of worker threads under client load, and check the history for linearizability')
    .option('--clients <c>', 'concurrent clients, each with one operation outstanding', intArg(1, 4096), 10)
    .option('--ops <o>', 'operations in all, shared among the clients', intArg(1), 2000)
    .option('--keys <k>', 'distinct keys', intArg(1, 100_000), 5)
    .option('--proposers <p>', 'number of proposers (leader candidates)', intArg(1, 32), 3)
    .option('--acceptors <a>', 'number of acceptors', intArg(1, 32), 3)
    .option('--learners <l>', 'number of learners (replicas of the store)', intArg(1, 32), 2)
    .option('--batch <n>', 'most commands per log slot (the library\'s batchMax)', intArg(1, 100_000), KV_DEFAULTS.batchMax)
    .option('--window <n>', 'most slots in flight', intArg(1, 100_000), KV_DEFAULTS.window)
    .option('--reads <how>', 'how reads are served: index (ReadIndex: one round to the acceptors, nothing written) or log (as commands of the log)', choiceArg(['index', 'log'] as const), 'index')
    .option('--learn <how>', 'how learners learn that a slot is chosen: commit (the leader tells them) or votes (every acceptor sends them its vote, one hop less)', choiceArg(['commit', 'votes'] as const), 'commit')
    .option('--crash-leader', 'kill the leader\'s worker once a third of the operations are done')
    .option('--crash-how <mode>', 'how the leader is killed: terminate, exception or exit', choiceArg(['terminate', 'exception', 'exit'] as const), 'terminate')
    .option('--replace <acceptor>', 'replace this acceptor (a1, a2, ...) with a new one through the log once a third of the operations are done; prints the new view and the write unavailability around it')
    .option('--storage <kind>', 'lmdb (durable, default) or memory', choiceArg(['lmdb', 'memory'] as const), 'lmdb')
    .option('--no-durable', 'lmdb: count a write as done once committed, without waiting for its own fsync (a commit still waits for the previous one\'s fsync; unsafe on a machine crash)')
    .option('--data-dir <dir>', 'keep the LMDB files here (created if missing; one a cluster ran on is reopened with the members it records, and must be given the same --proposers, --acceptors and --learners)')
    .option('--transport <kind>', `what carries the actors' messages: ${TRANSPORTS.join(', ')} (direct MessagePorts; relayed by the main thread; SharedArrayBuffer rings)`, choiceArg(TRANSPORTS), 'port')
    .option('--history <file>', 'write the history as Jepsen-format JSON lines', outputFileArg)
    .option('--json', 'print exactly one JSON object instead of text')
    .addHelpText('after', '\nExit status: 0 when the history is linearizable and the log safe, 1 otherwise (or when the cluster does not start), 2 on bad arguments (an unusable --data-dir too).')
    .action(async (flags: KvFlags) => {
      if (flags.clients > flags.ops) {
        process.stderr.write(`synod kv: --clients (${flags.clients}) must not exceed --ops (${flags.ops})\n`);
        return exit(2);
      }
      if (flags.replace !== undefined && !new RegExp(`^a([1-9][0-9]*)$`).test(flags.replace)) {
        process.stderr.write(`synod kv: --replace takes an acceptor id, a1 to a${flags.acceptors}; got ${JSON.stringify(flags.replace)}\n`);
        return exit(2);
      }
      if (flags.replace !== undefined && Number(flags.replace.slice(1)) > flags.acceptors) {
        process.stderr.write(`synod kv: --replace ${flags.replace}: the acceptors are a1 to a${flags.acceptors}\n`);
        return exit(2);
      }
      const problem = flags.dataDir !== undefined ? dataDirProblem('--data-dir', flags.dataDir) : null;
      if (problem !== null) {
        process.stderr.write(`synod kv: ${problem}\n`);
        return exit(2);
      }
      exit(await runKv(flags));
    });
}

async function runKv(f: KvFlags): Promise<number> {
  const say = (line: string) => {
    if (!f.json) process.stdout.write(`${line}\n`);
  };
  let kv: KvCluster;
  try {
    kv = await createKvCluster({
      proposers: f.proposers,
      acceptors: f.acceptors,
      learners: f.learners,
      batchMax: f.batch,
      window: f.window,
      reads: f.reads,
      learn: f.learn,
      storage: f.storage,
      durable: f.durable,
      transport: f.transport,
      concurrency: f.clients,
      history: true,
      ...(f.dataDir ? { dataDir: f.dataDir } : {}),
    });
  } catch (err) {
    // Options the data directory contradicts (it was made with other counts, or reconfigured): a usage error, in one line.
    if ((err as { code?: string }).code === 'SYNOD_INVALID_OPTIONS') {
      const message = (err as Error).message.replace(/^invalid createKvCluster options: /, '');
      const hint = /was reconfigured/.test(message) ? ' (synod kv always runs the checker: give it another --data-dir)' : '';
      process.stderr.write(`synod kv: ${message}${hint}\n`);
      return 2;
    }
    // With --json the caller reads stdout, so the failure is reported there too; main prints the one-line error for text mode.
    if (!f.json || (err as { code?: string }).code !== 'SYNOD_START_FAILED') throw err;
    process.stdout.write(`${JSON.stringify({ ok: false, reason: `the cluster did not start: ${rootMessage(err)}`, ops: f.ops })}\n`);
    return 1;
  }
  let leaderChanges = 0;
  const crashes: string[] = [];
  try {
    kv.on('elected', (e) => {
      leaderChanges++;
      say(`  ${e.id} elected leader`);
    });
    kv.on('crash', (e) => say(`  ${e.id} crashed (${e.how})`));
    kv.on('restart', (e) => say(`  ${e.id} restarted, serving again after ${e.recoveryMs.toFixed(1)} ms`));
    say(`synod kv: ${f.clients} clients, ${f.ops} ops on ${f.keys} keys; ${f.proposers} proposers, ${f.acceptors} acceptors, ${f.learners} learners; storage ${f.storage}${f.storage === 'lmdb' ? (f.durable ? ' (durable)' : ' (no fsync wait)') : ''}; transport ${f.transport}; batch ${f.batch}, window ${f.window}${f.reads === 'log' ? '; reads through the log' : ''}${f.learn === 'votes' ? '; learners learn from votes' : ''}`);
    let done = 0;
    let next = 0;
    const latencies: number[] = [];
    let timedOut = 0;
    const crashAt = f.crashLeader ? Math.floor(f.ops / 3) : -1;
    const replaceAt = f.replace !== undefined ? Math.max(1, Math.floor(f.ops / 3)) : -1;
    /** When each write (put, or cas that swapped or not) was acknowledged. */
    const writeAcks: number[] = [];
    let replacing: Promise<Replacement> | null = null;
    const t0 = performance.now();
    const client = async (c: number) => {
      for (;;) {
        const n = next++;
        if (n >= f.ops) return;
        const key = `k${(n * 7 + c) % f.keys}`;
        const start = performance.now();
        const kind = n % 10;
        try {
          if (kind < 5) await kv.get(key);
          else {
            if (kind < 8) await kv.put(key, n);
            else await kv.cas(key, (n - 1) as Value, n);
            writeAcks.push(performance.now());
          }
          latencies.push(performance.now() - start);
        } catch (err) {
          // An operation with no answer in time is part of the outcome (recorded as info in the history), not a crash of the command.
          if ((err as { code?: string }).code !== 'SYNOD_TIMEOUT') throw err;
          if (timedOut++ === 0) say(`  ${(err as Error).message}`);
        }
        if (++done === replaceAt) replacing = replace(kv, f.replace as string, `a${f.acceptors + 1}`, say);
        if (done === crashAt) {
          const leader = kv.leader();
          if (leader) {
            crashes.push(leader);
            say(`  killing the leader ${leader} (${f.crashHow}) after ${done} operations`);
            void kv.crash(leader, f.crashHow);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: f.clients }, (_, c) => client(c)));
    const elapsedMs = performance.now() - t0;
    const replaced = replacing === null ? null : await (replacing as Promise<Replacement>);
    const reconfiguration =
      replaced === null ? null : 'view' in replaced ? { ...replaced, longestWriteGapMs: longestGap(writeAcks, replaced.startedAt, replaced.endedAt), longestWriteGapBeforeMs: longestGap(writeAcks, 2 * replaced.startedAt - replaced.endedAt, replaced.startedAt) } : replaced;
    const history = kv.history();
    if (f.history) writeFileSync(f.history, formatHistory(history));
    const health = kv.health();
    await kv.close();
    const violations = [...kv.checker.violations];
    const lin = checkLinearizable(history, { timeoutMs: 60_000 });
    latencies.sort((a, b) => a - b);
    const pct = (q: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 100) / 100;
    const report = {
      ok: lin.ok && violations.length === 0,
      ops: f.ops,
      transport: f.transport,
      batch: f.batch,
      opsPerSec: Math.round((f.ops * 1000) / elapsedMs),
      latencyP50Ms: pct(0.5),
      latencyP99Ms: pct(0.99),
      leaderChanges,
      timedOut,
      leaderCrashes: crashes,
      elapsedMs: Math.round(elapsedMs),
      violations,
      linearizability: lin.ok ? { status: lin.status } : { status: lin.status, reason: lin.reason },
      history: f.history ?? null,
      view: kv.view(),
      reconfiguration,
      health,
    };
    if (f.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      say(`throughput: ${report.opsPerSec} ops/s; latency p50 ${report.latencyP50Ms} ms, p99 ${report.latencyP99Ms} ms; leader elections ${leaderChanges}${timedOut > 0 ? `; ${timedOut} operation(s) timed out` : ''}`);
      say(`log safety: ${violations.length === 0 ? 'OK' : `${violations.length} VIOLATION(S)`}`);
      for (const v of violations) say(`  ${v.kind}: ${v.message}`);
      say(`linearizability: ${lin.ok ? 'linearizable' : `${lin.status.toUpperCase()}: ${lin.reason}`}`);
      const v = report.view;
      say(`view ${v.epoch}${v.epoch === 0 ? '' : ` (from slot ${v.from})`}: proposers ${v.proposers.join(', ')}; acceptors ${v.acceptors.join(', ')}; learners ${v.learners.join(', ')}`);
      if (reconfiguration !== null && 'view' in reconfiguration) {
        const ms = (x: number) => (Number.isNaN(x) ? 'n/a (too few writes around it)' : `${x.toFixed(1)} ms`);
        say(`replacement: ${reconfiguration.removed} -> ${reconfiguration.added} in ${reconfiguration.ms.toFixed(1)} ms; write unavailability: the longest gap between acknowledged writes during it was ${ms(reconfiguration.longestWriteGapMs)} (${ms(reconfiguration.longestWriteGapBeforeMs)} in as long a window just before)`);
      }
      process.stdout.write(formatHealth(health));
    }
    return report.ok && (reconfiguration === null || 'view' in reconfiguration) ? 0 : 1;
  } finally {
    await kv.close();
  }
}

/** What `--replace` did: the view it made and when it ran, or why it failed. */
type Replacement = { readonly removed: string; readonly added: string } & ({ readonly view: KvView; readonly ms: number; readonly startedAt: number; readonly endedAt: number } | { readonly error: string });

/** Replaces acceptor `removed` with a new acceptor `added` through the log, saying what happens. */
async function replace(kv: KvCluster, removed: string, added: string, say: (line: string) => void): Promise<Replacement> {
  say(`  replacing acceptor ${removed} with ${added}`);
  const startedAt = performance.now();
  try {
    const view = await kv.reconfigure({ add: [added], remove: [removed] });
    const endedAt = performance.now();
    say(`  view ${view.epoch} decides from slot ${view.from}: acceptors ${view.acceptors.join(', ')}; ${removed} stopped and its store retired (${(endedAt - startedAt).toFixed(1)} ms)`);
    return { removed, added, view, ms: endedAt - startedAt, startedAt, endedAt };
  } catch (err) {
    say(`  the replacement failed: ${rootMessage(err)}`);
    return { removed, added, error: rootMessage(err) };
  }
}
