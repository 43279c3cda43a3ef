/**
 * The per-stage breakdown of key-value operations, from the stage stamps a
 * cluster created with `stamps: true` takes on every thread
 * (src/runtime/stamps.ts). For each operation it follows the command and
 * then its slot: client -> leader (the proposer that committed the slot) ->
 * the acceptor whose vote completed the quorum -> leader -> the learner
 * whose answer arrived first -> client, and
 * splits the time between the client posting the command and the answer
 * arriving into consecutive stages, which therefore add up to it exactly.
 */
import type { Stamp, StampKind } from '../../src/runtime/stamps.js';

/** One stage: from one stamp of an operation's path to the next. */
export interface StageDef {
  readonly id: string;
  /** The stage of the list it is part of. */
  readonly group: string;
  readonly what: string;
}

/** The stages in path order. */
export const STAGES: readonly StageDef[] = [
  { id: 'client-post', group: 'client -> leader', what: 'client: operation begun -> command posted (the main thread\'s next turn)' },
  { id: 'to-leader', group: 'client -> leader', what: 'main thread -> leader thread (the request arrives)' },
  { id: 'leader-propose', group: 'leader -> acceptors', what: 'leader: request arrived -> accept handed to the links' },
  { id: 'to-acceptor', group: 'leader -> acceptors', what: 'leader -> acceptor thread (the accept arrives)' },
  { id: 'acceptor-step', group: 'leader -> acceptors', what: 'acceptor: accept arrived -> its append issued' },
  { id: 'append', group: 'durable append', what: 'acceptor: append issued -> durable (LMDB commit and sync)' },
  { id: 'acceptor-reply', group: 'accepted -> learner', what: 'acceptor: durable -> accepted handed to the link' },
  { id: 'to-leader-vote', group: 'accepted -> learner', what: 'acceptor -> leader thread (the quorum-completing vote arrives)' },
  { id: 'leader-commit', group: 'accepted -> learner', what: 'leader: quorum -> commit handed to the links' },
  { id: 'to-learner', group: 'accepted -> learner', what: 'leader -> learner thread (the commit arrives)' },
  { id: 'apply', group: 'apply', what: 'learner: commit arrived -> applied, answer posted at the end of its turn' },
  { id: 'to-client', group: 'answer', what: 'learner -> main thread (the first answer arrives)' },
];

/** The stage groups, in path order. */
export const STAGE_GROUPS: readonly string[] = [...new Set(STAGES.map((s) => s.group))];

/** What {@link breakdown} found: per stage, one duration (ms) per complete operation, in the same order. */
export interface Breakdown {
  /** Operations begun in the window whose whole path was stamped. */
  readonly ops: number;
  /** Operations begun in the window with a stamp missing (a re-send, a leader change, a crashed actor). */
  readonly incomplete: number;
  /** Stage id -> durations (ms), one per complete operation. */
  readonly stages: Readonly<Record<string, readonly number[]>>;
  /** Operation begun (its command made) -> first answer (ms), the sum of the stages, one per complete operation. */
  readonly total: readonly number[];
}

/**
 * Splits every operation begun within `[from, to)` (epoch ms) into the
 * {@link STAGES}, given every stamp of the run and the number of acceptors
 * (the quorum is a majority of them).
 */
export function breakdown(stamps: readonly Stamp[], acceptors: number, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): Breakdown {
  const quorum = Math.floor(acceptors / 2) + 1;
  const index = new Map<string, Stamp[]>();
  for (const s of stamps) {
    const k = `${s.kind}|${s.key}`;
    const list = index.get(k);
    if (list) list.push(s);
    else index.set(k, [s]);
  }
  for (const list of index.values()) list.sort((a, b) => a.at - b.at);
  /** The earliest stamp of `kind` for `key` that `match` accepts. */
  const first = (kind: StampKind, key: string | number, match: (s: Stamp) => boolean = () => true): Stamp | undefined => index.get(`${kind}|${key}`)?.find(match);

  const stages: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s.id, []]));
  const total: number[] = [];
  let ops = 0;
  let incomplete = 0;
  for (const begin of stamps) {
    if (begin.kind !== 'begin' || begin.at < from || begin.at >= to) continue;
    const c = begin.key;
    const answer = first('answer', c);
    const learner = answer?.peer;
    const slot = learner === undefined ? undefined : first('applied', c, (s) => s.actor === learner)?.slot;
    let path: Array<Stamp | undefined> = [];
    if (slot !== undefined) {
      // The leader is whoever committed the slot to that learner: after a leader change, not the proposer the request reached first.
      const commitIn = first('commit-in', slot, (s) => s.actor === learner);
      const leader = commitIn?.peer;
      const vote = (index.get(`accepted-in|${slot}`) ?? []).filter((s) => s.actor === leader)[quorum - 1];
      const acceptor = vote?.peer;
      const at = (s: Stamp) => s.actor === acceptor;
      const acceptIn = first('accept-in', slot, (s) => at(s) && s.peer === leader);
      const appendStart = first('append-start', slot, (s) => at(s) && acceptIn !== undefined && s.at >= acceptIn.at);
      const appendDone = first('append-done', slot, (s) => at(s) && appendStart !== undefined && s.at >= appendStart.at);
      path = [
        begin,
        first('post', c),
        first('request', c),
        first('accept-out', slot, (s) => s.actor === leader && s.peer === acceptor),
        acceptIn,
        appendStart,
        appendDone,
        first('accepted-out', slot, (s) => at(s) && s.peer === leader && appendDone !== undefined && s.at >= appendDone.at),
        vote,
        first('commit-out', slot, (s) => s.actor === leader && s.peer === learner),
        commitIn,
        first('answer-out', c, (s) => s.actor === learner),
        answer,
      ];
    }
    if (path.length !== STAGES.length + 1 || path.some((s) => s === undefined)) {
      incomplete++;
      continue;
    }
    const p = path as Stamp[];
    ops++;
    STAGES.forEach((stage, i) => (stages[stage.id] as number[]).push((p[i + 1] as Stamp).at - (p[i] as Stamp).at));
    total.push((p[p.length - 1] as Stamp).at - (p[0] as Stamp).at);
  }
  return { ops, incomplete, stages, total };
}
