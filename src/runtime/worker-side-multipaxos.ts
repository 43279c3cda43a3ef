/**
 * The Multi-Paxos worker side (see ./worker-side.ts): the replicated log of
 * the key-value store. A worker loads this module only if its cluster is a
 * key-value cluster (loadMultiPaxosSide), so that a single-decree worker
 * never loads the replicated log's core or the key-value machine.
 */
import type { Ballot } from '../core/ballot.js';
import type { Value } from '../core/value.js';
import { multiPaxosProtocol, type MultiPaxosTypes } from '../host/multipaxos.js';
import { kvClient } from '../machines/kv/client.js';
import type { ClientMachine } from './client/log-client.js';
import type { KvView, MpRecovered, MpTurnReport, MpWorkerInit, ReconfigAnswer } from './mpwire.js';
import { lastView, type View } from '../core/multipaxos/views.js';
import type { Command } from '../core/multipaxos/types.js';
import type { ActorId } from '../core/ids.js';
import { fileSafety, loadLog, type WorkerSide } from './worker-side.js';
import { digestBatch } from '../check/log-safety.js';

/**
 * The state machine the replicated log carries on worker threads (the
 * key-value store), as its client sees it: the learners apply its machine,
 * the record log validates its snapshots, and a learner's answers carry its
 * results in its `encodeResult` form. The one place the worker names a
 * machine.
 */
const carried: ClientMachine<unknown, Value, Value, unknown> = kvClient;
const machine = carried.machine;

/** A view as the main thread hears of it. */
function viewOf(v: View): KvView {
  return { epoch: v.epoch, from: v.from, proposers: v.members.proposers, acceptors: v.members.acceptors, learners: v.members.learners };
}

/** A learner's answer to reconfiguration `command`, applied at `slot` with `result` (see applyReconfig in the learner). */
function reconfigAnswer(command: Command, slot: number, result: Value): ReconfigAnswer {
  const r = result as unknown as { readonly done: boolean; readonly epoch: number; readonly from: number; readonly proposers: readonly ActorId[]; readonly acceptors: readonly ActorId[]; readonly learners: readonly ActorId[] };
  return { clientId: command.clientId, seq: command.seq, slot, done: r.done, view: { epoch: r.epoch, from: r.from, proposers: r.proposers, acceptors: r.acceptors, learners: r.learners } };
}

/** Warms up the record log's code in a spare (see warmUpLog in ./storage/log.ts), with the machine its records are checked against. */
export async function warmUpLog(): Promise<void> {
  await (await loadLog()).warmUpLog(machine);
}

/** The Multi-Paxos worker side: the replicated log of the key-value store. */
export const multiPaxosWorkerSide: WorkerSide<MultiPaxosTypes, MpWorkerInit> = {
  protocol: multiPaxosProtocol(machine),
  async openStorage(init) {
    const { openLmdbLog, openMemoryLog } = await loadLog();
    return init.storage.kind === 'memory' ? openMemoryLog() : openLmdbLog(init.storage.dir, { ...fileSafety(init.id, init.storage), durable: init.storage.durable, machine });
  },
  reporter(init) {
    let report: MpTurnReport = { type: 'turn' };
    let reporting = false;
    return {
      output(e) {
        switch (e.type) {
          case 'applied':
            reporting = true;
            if (e.command.reconfig !== undefined) (report.reconfigured ??= []).push(reconfigAnswer(e.command, e.slot, e.result));
            else (report.answers ??= []).push(e.command.clientId, e.command.seq, carried.encodeResult(e.result));
            return;
          case 'expired':
            reporting = true;
            (report.expired ??= []).push(e.command.clientId, e.command.seq);
            return;
          case 'reject': {
            reporting = true;
            const rejected = (report.rejected ??= []);
            for (const c of e.commands) rejected.push(c.clientId, c.seq);
            report.leader = e.leader;
            return;
          }
          case 'elected':
            reporting = true;
            report.elected = e.ballot;
            return;
          case 'appliedSlot':
            if (!init.reportFacts) return;
            reporting = true;
            (report.learned ??= []).push({ slot: e.slot, batch: digestBatch(e.batch) });
            return;
          case 'installedSnapshot':
            if (!init.reportFacts) return;
            reporting = true;
            (report.learned ??= []).push({ snapshot: e.upTo });
            return;
        }
      },
      durable(records) {
        if (!init.reportFacts || init.role !== 'acceptor') return;
        reporting = true;
        const durable = (report.durable ??= []);
        // The checker keys a batch by its commands' names: a digest, not the batch, crosses to the main thread.
        for (const r of records) durable.push(r.kind === 'accepted' ? { kind: 'accepted', slot: r.slot, ballot: r.ballot, value: digestBatch(r.value) } : r);
      },
      flush(post, trace) {
        if (trace !== null && trace.length > 0) {
          report.trace = trace;
          reporting = true;
        }
        if (!reporting) return;
        post(report);
        report = { type: 'turn' };
        reporting = false;
      },
      extra: (state) => ({ view: state.role === 'acceptor' ? null : viewOf(lastView(state.views)) }),
    };
  },
  recovered(state, records): MpRecovered {
    let promised: Ballot | null = null;
    if (state.role === 'acceptor') promised = state.promised;
    return { records: records.length, promised, applied: state.role === 'learner' ? state.nextSlot : 0 };
  },
  requests(post) {
    if (post.type !== 'request') return null;
    // From the main thread, which is trusted: the commands are parsed, not checked.
    return JSON.parse((post as unknown as { readonly commands: string }).commands) as MultiPaxosTypes['request'][];
  },
  // A key-value cluster serves many commands, so compiling on the first few is not worth a rehearsal (not measured).
  rehearse: null,
};

