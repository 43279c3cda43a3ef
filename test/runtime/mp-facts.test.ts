// The facts a Multi-Paxos worker posts to the checker on the main thread: an
// acceptor's accepted batches and a learner's applied ones cross the thread
// as digests (src/check/log-safety.ts), not as batches, and the checker still
// tells batches apart from them. Runs the worker side's reporter without threads.
import { describe, expect, it } from 'vitest';
import { digestBatch, LogSafetyChecker } from '../../src/check/log-safety.js';
import { membership, type ActorId } from '../../src/core/ids.js';
import type { Batch, MpRecord } from '../../src/core/multipaxos/types.js';
import type { MpTurnReport, MpWorkerInit } from '../../src/runtime/mpwire.js';
import { multiPaxosWorkerSide } from '../../src/runtime/worker-side-multipaxos.js';

const ballot = { round: 1, proposer: 'p1' };
const batch = (client: string, seq: number): Batch => [{ clientId: client, seq, op: { f: 'write', key: `k${seq}`, value: 'v'.repeat(100) } }];

/** The report a worker of `role` posts after one turn that made `records` durable (an acceptor) or applied `applied` (a learner); null if it posts none. */
function posted(role: 'acceptor' | 'learner', records: readonly MpRecord[], applied: ReadonlyArray<{ slot: number; batch: Batch }>): MpTurnReport | null {
  const reporter = multiPaxosWorkerSide.reporter({ role, reportFacts: true } as unknown as MpWorkerInit, []);
  for (const a of applied) reporter.output({ type: 'appliedSlot', slot: a.slot, batch: a.batch });
  reporter.durable(records);
  let report: MpTurnReport | null = null;
  reporter.flush((r) => (report = structuredClone(r) as MpTurnReport), null);
  return report;
}

function turnReport(role: 'acceptor' | 'learner', records: readonly MpRecord[], applied: ReadonlyArray<{ slot: number; batch: Batch }>): MpTurnReport {
  const report = posted(role, records, applied);
  expect(report).not.toBeNull();
  return report as MpTurnReport;
}

/** Feeds a checker what acceptors a1 and a2 posted after accepting `voted` at slot 0, and what l1 posted after applying `applied` there. */
function judge(voted: Batch, applied: Batch): string[] {
  const checker = new LogSafetyChecker(membership(1, 3, 1));
  let step = 0;
  for (const a of ['a1', 'a2'] as ActorId[]) {
    const r = turnReport('acceptor', [{ kind: 'promised', ballot }, { kind: 'accepted', slot: 0, ballot, value: voted }], []);
    checker.acceptorDurable(a, r.durable ?? [], step++);
  }
  for (const f of turnReport('learner', [], [{ slot: 0, batch: applied }]).learned ?? []) if (!('snapshot' in f)) checker.appliedSlot('l1', f.slot, f.batch, step++);
  return checker.finish(step).map((v) => v.kind);
}

describe('the facts a Multi-Paxos worker posts', () => {
  it('carry digests of batches, not the batches', () => {
    const b = batch('c1', 7);
    const acceptor = turnReport('acceptor', [{ kind: 'accepted', slot: 3, ballot, value: b }], []);
    expect(acceptor.durable).toEqual([{ kind: 'accepted', slot: 3, ballot, value: digestBatch(b) }]);
    const learner = turnReport('learner', [], [{ slot: 3, batch: b }]);
    expect(learner.learned).toEqual([{ slot: 3, batch: { key: 'c1#7' } }]);
    // A learner's records are not facts (it posts nothing); an acceptor's other records pass as they are.
    expect(posted('learner', [{ kind: 'promised', ballot }], [])).toBeNull();
    expect(turnReport('acceptor', [{ kind: 'trim', upTo: 4 }], []).durable).toEqual([{ kind: 'trim', upTo: 4 }]);
  });

  it('still tell batches apart: a learner applying what a majority accepted passes, applying another batch is caught', () => {
    expect(judge(batch('c1', 1), batch('c1', 1))).toEqual([]);
    expect(judge(batch('c1', 1), batch('c1', 2))).toContain('apply-not-chosen');
    expect(judge(batch('c1', 1), batch('c2', 1))).toContain('apply-not-chosen');
  });
});
