/**
 * Chaos on the Multi-Paxos key-value cluster: clients doing get, put and cas
 * for a duration while a script crashes actors (every crash mode, the leader
 * often) and whole systems, restarts and pauses them, partitions them, makes
 * links lossy and replaces acceptors, learners and proposers through the log
 * (`reconfigure`). At the end the log safety checker and the
 * linearizability checker of the recorded history give the verdict.
 * Partitions and lossy links come and heal too.
 */
import { checkLinearizable, type LinearizabilityResult } from '../check/linearizability.js';
import type { Violation } from '../check/types.js';
import type { Value } from '../core/value.js';
import { createKvCluster, type KvCluster } from '../runtime/kv-cluster.js';
import type { KvView } from '../runtime/mpwire.js';
import { spread, type Spread } from './run.js';
import { describeStep, faultKindsOf, kvSchedule, kvSystems, type ClusterShape, type FaultKind, type KvSchedule, type KvStep } from './schedule.js';
import type { TimelineLine } from './single.js';

export interface KvChaosOptions {
  readonly seed: number;
  readonly cluster: ClusterShape;
  readonly clients: number;
  readonly keys: number;
  readonly steps: readonly KvStep[];
  /** Stop issuing operations after this long (the script is cut there too). */
  readonly durationMs?: number;
  /** Stop once this many operations were answered. */
  readonly decisions?: number;
  readonly onLine?: (line: TimelineLine) => void;
}

export interface KvChaosReport {
  readonly ok: boolean;
  readonly protocol: 'kv';
  readonly seed: number;
  readonly cluster: ClusterShape;
  readonly elapsedMs: number;
  /** Operations answered. */
  readonly decisions: number;
  readonly opsPerSec: number;
  /** Operations whose outcome is unknown (timed out or cut short by the end of the run). */
  readonly unknownOutcome: number;
  readonly leaderChanges: number;
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>;
  readonly faultsWithoutEffect: number;
  readonly crashes: Readonly<Record<string, number>>;
  readonly restarts: Spread & { readonly planned: number };
  /** The replacements the script asked for: how many the log made, and how many it refused or that failed (all are settled before the end). */
  readonly reconfigurations: { readonly asked: number; readonly made: number; readonly notMade: number };
  /** Every key read once after the faults (the reads are in the checked history): a read never answered fails the run. */
  readonly finalReads: { readonly answered: number; readonly unanswered: number };
  /** The view at the end of the run. */
  readonly view: KvView;
  readonly violations: readonly Violation[];
  readonly linearizability: { status: LinearizabilityResult['status']; reason?: string };
  readonly schedule: KvSchedule;
  readonly timeline: readonly TimelineLine[];
}

/** How many times a final read is asked before the run counts it unanswered (each waits up to the client's timeout). */
const FINAL_READ_ATTEMPTS = 6;

/** What a client's wait yields when it gave up at the end of the run. */
const GAVE_UP = Symbol('gave up');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs the kv chaos and checks the outcome. */
export async function runKvChaos(o: KvChaosOptions): Promise<KvChaosReport> {
  const t0 = performance.now();
  const since = () => Math.round((performance.now() - t0) * 10) / 10;
  const timeline: TimelineLine[] = [];
  const note = (text: string) => {
    const line = { ms: since(), round: 1, text };
    timeline.push(line);
    o.onLine?.(line);
  };
  const kv: KvCluster = await createKvCluster({
    ...o.cluster,
    history: true,
    check: true,
    concurrency: o.clients,
    timeoutMs: 10_000,
    retryMs: 250,
    supervisor: { maxRestarts: 1000, windowMs: 1000 },
    systems: kvSystems(o.cluster),
  });
  const start = performance.now();
  const faults: Partial<Record<FaultKind, number>> = {};
  let faultsWithoutEffect = 0;
  const crashes: Record<string, number> = {};
  const recoveries: number[] = [];
  let planned = 0;
  let leaderChanges = 0;
  let done = 0;
  let unknownOutcome = 0;
  let stop = false;
  let endTimer: ReturnType<typeof setTimeout> | undefined;
  /** The steps as run: waits reached and faults carried out, in order (what --schedule-out writes). */
  const ran: KvStep[] = [];
  /** Actors the script paused and has not resumed yet. */
  const paused = new Set<string>();
  /** The replacements asked for, still running or settled. */
  const reconfigs: Array<Promise<void>> = [];
  const reconfigurations = { asked: 0, made: 0, notMade: 0 };
  /** Where actor `id` is in its life cycle, or null if the cluster has no such actor (one a replacement has not brought in yet). */
  const statusOf = (id: string) => {
    try {
      return kv.status(id);
    } catch {
      return null;
    }
  };
  try {
    note(`kv cluster up: ${o.cluster.proposers} proposers, ${o.cluster.acceptors} acceptors, ${o.cluster.learners} learners; ${o.clients} clients on ${o.keys} keys`);
    kv.on('elected', (e) => {
      leaderChanges++;
      note(`${e.id} elected leader`);
    });
    kv.on('crash', (e) => {
      crashes[e.how] = (crashes[e.how] ?? 0) + 1;
      note(`${e.id} crashed (${e.how})`);
    });
    kv.on('restart', (e) => {
      recoveries.push(e.recoveryMs);
      if (e.planned) planned++;
      note(`${e.id} ${e.planned ? 'restarted (planned)' : 'restarted by the supervisor'}, serving again after ${e.recoveryMs.toFixed(1)} ms`);
    });
    kv.on('violation', (v) => note(`VIOLATION ${v.kind}: ${v.message}`));
    const over = () => stop || (o.durationMs !== undefined && performance.now() - start >= o.durationMs) || (o.decisions !== undefined && done >= o.decisions);
    // At the end of the run (the duration, or enough answers) the clients give
    // up on the operations they are waiting for, and the history is taken
    // then: those operations have no completion in it, so their outcome is
    // unknown (info), as in a Jepsen test whose clients time out. Clients
    // that waited until answered left the checker no info operation to see.
    let giveUp = () => {};
    const gaveUp = new Promise<typeof GAVE_UP>((resolve) => (giveUp = () => resolve(GAVE_UP)));
    if (o.durationMs !== undefined) endTimer = setTimeout(giveUp, Math.max(0, o.durationMs - (performance.now() - start)));

    // A client stops when it gives up (the end of the duration, told by the
    // timer) or once enough operations were answered, never between two
    // operations because the clock passed the end: so every client is
    // waiting for an answer when the run ends.
    const client = async (c: number) => {
      for (let n = 0; !stop && !(o.decisions !== undefined && done >= o.decisions); n++) {
        const key = `k${(n * 7 + c) % o.keys}`;
        const kind = (n + c) % 10;
        try {
          const answer: Promise<unknown> = kind < 4 ? kv.get(key) : kind < 8 ? kv.put(key, `${c}.${n}`) : kv.cas(key, `${c}.${n - 1}` as Value, `${c}.${n}`);
          answer.catch(() => {}); // settled after the client gave up: nobody waits for it
          if ((await Promise.race([answer, gaveUp])) === GAVE_UP) {
            unknownOutcome++;
            return;
          }
          done++;
          if (o.decisions !== undefined && done >= o.decisions) giveUp();
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'SYNOD_CLOSED') return;
          unknownOutcome++;
        }
      }
    };

    const script = async () => {
      for (const step of o.steps) {
        // Once over, only what undoes a fault still runs (resumes of actors still paused, heals, links cleared): nothing is left paused or cut.
        const undoes = (step.op === 'resume' && paused.has(step.actor)) || step.op === 'heal' || (step.op === 'link' && step.drop === 0 && step.dup === 0 && step.delay === 0);
        if (over() && !undoes) continue;
        ran.push(step);
        if (step.op === 'wait') {
          const left = o.durationMs === undefined ? step.ms : Math.min(step.ms, o.durationMs - (performance.now() - start));
          await sleep(Math.max(0, left));
          continue;
        }
        if (step.op === 'replace') {
          // Started, not awaited: the script goes on while the log changes its members, as faults would.
          faults.replace = (faults.replace ?? 0) + 1;
          reconfigurations.asked++;
          note(`inject: ${describeStep(step)} (reconfigure: add ${step.by}, remove ${step.actor})`);
          reconfigs.push(
            kv.reconfigure({ add: [step.by], remove: [step.actor] }).then(
              (view) => {
                reconfigurations.made++;
                note(`view ${view.epoch} decides from slot ${view.from}: proposers ${view.proposers.join(', ')}; acceptors ${view.acceptors.join(', ')}; learners ${view.learners.join(', ')} (${step.actor} replaced by ${step.by})`);
              },
              (err: Error) => {
                reconfigurations.notMade++;
                note(`the replacement of ${step.actor} by ${step.by} was not made: ${err.message}`);
              },
            ),
          );
          continue;
        }
        if (step.op === 'crash-system') {
          faults['crash-system'] = (faults['crash-system'] ?? 0) + 1;
          note(`inject: ${describeStep(step)}`);
          try {
            await kv.crashSystem(step.system, step.how);
          } catch (err) {
            note(`crash of system ${step.system} failed: ${(err as Error).message}`);
          }
          continue;
        }
        if (step.op === 'partition' || step.op === 'heal' || step.op === 'link') {
          for (const k of faultKindsOf(step)) faults[k] = (faults[k] ?? 0) + 1;
          note(`inject: ${describeStep(step)}`);
          try {
            if (step.op === 'partition') await kv.partition(step.sides[0], step.sides[1]);
            else if (step.op === 'heal') await kv.heal();
            else await kv.setLinkFaults(step.from, step.to, { drop: step.drop, dup: step.dup, delay: step.delay, delayMs: step.delayMs });
          } catch (err) {
            note(`${step.op} failed: ${(err as Error).message}`);
          }
          continue;
        }
        const id = step.actor === 'leader' ? kv.leader() : step.actor;
        const kinds = faultKindsOf(step);
        for (const k of kinds) faults[k] = (faults[k] ?? 0) + 1;
        if (id === null) {
          faultsWithoutEffect++;
          note(`inject: ${describeStep(step)} (no effect: no leader right now)`);
          continue;
        }
        const status = statusOf(id);
        const up = status === 'running' || status === 'starting';
        if (!up) faultsWithoutEffect++;
        note(`inject: ${describeStep({ ...step, actor: step.actor === 'leader' ? `${id} (the leader)` : id } as KvStep)}${up ? '' : ` (no effect: ${status === null ? `${id} is not in the cluster (yet)` : `${id} is ${status}`})`}`);
        if (!up) continue;
        try {
          if (step.op === 'crash') await kv.crash(id, step.how);
          else if (step.op === 'restart') await kv.restart(id);
          else if (step.op === 'pause') {
            paused.add(id);
            await kv.pause(id);
          } else {
            paused.delete(id);
            await kv.resume(id);
          }
        } catch (err) {
          note(`${step.op} of ${id} failed: ${(err as Error).message}`);
        }
      }
    };

    const scriptDone = script();
    await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
    stop = true;
    await scriptDone;
    const elapsedMs = performance.now() - start;
    // Every replacement asked for is settled by the log (made, or refused or timed out) before the cluster closes.
    await Promise.all(reconfigs);
    // Nothing acknowledged is lost: once the faults are over, every key is read
    // once. The reads are in the history, so the checker judges each against
    // every write acknowledged before it. A read that times out is asked
    // again (the cluster may still be electing); one never answered fails the run.
    const finalReads = { answered: 0, unanswered: 0 };
    for (let k = 0; k < o.keys; k++) {
      let answered = false;
      for (let attempt = 0; attempt < FINAL_READ_ATTEMPTS && !answered; attempt++) {
        try {
          await kv.get(`k${k}`);
          answered = true;
        } catch (err) {
          note(`final read of k${k} (attempt ${attempt + 1}) failed: ${(err as Error).message}`);
        }
      }
      if (answered) finalReads.answered++;
      else finalReads.unanswered++;
    }
    note(`final reads after the faults: ${finalReads.answered} of ${o.keys} keys answered`);
    const history = kv.history();
    const view = kv.view();
    await kv.close();
    const violations = [...kv.checker.violations];
    note(`stopped after ${done} operations; checking the history (${history.length} events) for linearizability`);
    const lin = checkLinearizable(history, { timeoutMs: 60_000 });
    const ok = lin.ok && violations.length === 0 && finalReads.unanswered === 0;
    note(`log safety: ${violations.length === 0 ? 'OK' : `${violations.length} violation(s)`}; linearizability: ${lin.status}`);
    return {
      ok,
      protocol: 'kv',
      seed: o.seed,
      cluster: o.cluster,
      elapsedMs: Math.round(elapsedMs),
      decisions: done,
      opsPerSec: Math.round((done * 1000) / Math.max(1, elapsedMs)),
      unknownOutcome,
      leaderChanges,
      faults,
      faultsWithoutEffect,
      crashes,
      restarts: { ...spread(recoveries), planned },
      reconfigurations,
      finalReads,
      view,
      violations,
      linearizability: lin.ok ? { status: lin.status } : { status: lin.status, reason: lin.reason },
      schedule: kvSchedule(o.seed, o.cluster, o.clients, o.keys, ran),
      timeline,
    };
  } finally {
    stop = true;
    if (endTimer !== undefined) clearTimeout(endTimer);
    await kv.close();
  }
}
