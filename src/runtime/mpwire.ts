/**
 * What crosses the boundary between the main thread and a Multi-Paxos
 * actor's worker (workers/mp-actor.js): its start data, the client requests
 * posted to it, the one report it posts per turn, its control API and state
 * report; and the wire form of the messages between actors, with the
 * validation of everything that arrives from a peer, which is untrusted.
 *
 * Both are shaped for throughput, because on this kind of machine structured
 * clone costs ~1 us per small object per hop (serialise plus deserialise) and
 * a command crosses about ten hops: client -> leader -> 3 acceptors, and the
 * commit -> 2 learners + 2 other proposers.
 *
 * - A batch of commands travels between actors as JSON text, encoded once
 *   per batch object and cached ({@link batchJson}): the leader encodes a
 *   batch once for its accepts to every acceptor, its retries and its
 *   commits; an acceptor writes the text it received to its log as it is. A
 *   string clones as a memcpy, and JSON.parse on the receiving side costs
 *   about half of what deserialising the same objects does.
 * - Client requests go to a proposer as one JSON text per turn.
 * - A learner's answers travel as one flat array of primitives per turn —
 *   `[clientId, seq, result, clientId, seq, result, ...]` — where a result is
 *   encoded by what the client already knows about its own operation: 0 for
 *   a write, the swapped flag for a cas, the value for a read (see
 *   {@link encodeResult}).
 */
import type { MessagePort } from 'node:worker_threads';
import type { TransportEnd } from './transports/types.js';
import { isBallot, type Ballot } from '../core/ballot.js';
import type { ActorId, Role } from '../core/ids.js';
import type { AcceptedEntry, Batch, KvResult, MpConfig, MpMessage, MpRecord, MpSnapshot, SlotEntry } from '../core/multipaxos/types.js';
import type { Value } from '../core/value.js';
import type { RawTraceEvent } from '../trace/types.js';
import { batchJson, isSlot, parseBatch, snapshotProblem } from './storage/mpdata.js';
import type { WorkerProtocol } from './supervisor.js';
import type { CrashPoint, StorageSpec } from './wire.js';

/** What makes a worker a given Multi-Paxos actor (the supervisor adds its ports). */
export interface MpWorkerInit {
  readonly id: ActorId;
  readonly role: Role;
  readonly config: MpConfig;
  readonly storage: StorageSpec;
  readonly mailboxLimit: number;
  /** 1 for the first start, +1 per restart. */
  readonly incarnation: number;
  /** Report durable acceptor records and applied slots to the main thread, for the log safety checker. */
  readonly reportFacts: boolean;
  /** Report every send, receive, persist, durable write and applied slot as trace events (messages then carry an id). */
  readonly trace: boolean;
}

/** What an actor recovered, as its 'ready' message reports it. */
export interface MpRecovered {
  /** Durable records replayed. */
  readonly records: number;
  /** An acceptor's recovered promise (null for other roles, or none yet). */
  readonly promised: Ballot | null;
  /** The slot a learner applies next: where its latest snapshot ends, or 0 (0 for other roles). */
  readonly applied: number;
}

/** A client request from the main thread, for a proposer: every command posted in one main-thread turn, as JSON text of a Command array. */
export interface MpRequestPost {
  readonly type: 'request';
  readonly commands: string;
}

/**
 * Everything a worker has for the main thread from one turn (or one write
 * becoming durable), in one message. Absent fields had nothing to say.
 */
export interface MpTurnReport {
  readonly type: 'turn';
  /** Answers for clients, as flat triples `clientId, seq, encodeResult(result)`. */
  answers?: Array<string | number | Value>;
  /** Commands a proposer refused because it does not lead, as flat pairs `clientId, seq`. */
  rejected?: Array<string | number>;
  /** With `rejected`: who the proposer believes leads. */
  leader?: ActorId | null;
  /** A proposer was elected at this ballot. */
  elected?: Ballot;
  /** What a learner applied, in order: slots, and snapshots it installed (only with `reportFacts`). */
  learned?: LearnedFact[];
  /** Records an acceptor made durable, in write order (only with `reportFacts`). */
  durable?: MpRecord[];
  /** Trace events since the last report, in order, with epoch-ms times (only with `trace`). */
  trace?: RawTraceEvent[];
}

/** A learner applied `batch` at `slot`, or installed a peer's snapshot and next applies slot `upTo`. */
export type LearnedFact = { readonly slot: number; readonly batch: Batch } | { readonly snapshot: number };

/** Why a Multi-Paxos worker dropped an input without stepping it. */
export type MpDropReason =
  /** validateMpMessage refused it. */
  | 'malformed'
  /** It claims a sender that is not the peer on that port, or not a member. */
  | 'unknownSender'
  /** The mailbox was full (the newest message is the one dropped). */
  | 'overflow'
  /** Sent to a peer the actor has no channel to (the peer is down or failed). */
  | 'unroutable';

/** A Multi-Paxos actor's counters since its worker started. */
export interface MpActorCounters {
  /** Peer messages received (each message of a bundle counts). */
  received: number;
  /** Turns: drains of the mailbox, each stepping everything that had arrived. */
  turns: number;
  steps: number;
  /** Client commands received from the main thread. */
  commands: number;
  /** Inputs the core returned an `ignore` effect for (stale, duplicate, foreign). */
  ignored: number;
  /** Peer messages sent, and the postMessage calls that carried them (one per peer per turn). */
  sent: number;
  posts: number;
  /** Appends (one per turn that wrote) and the records they made durable. */
  appends: number;
  persisted: number;
  dropped: Record<MpDropReason, number>;
}

/** What `kv.state(id)` returns. */
export interface MpActorReport {
  readonly id: ActorId;
  readonly role: Role;
  /** The worker thread's `threadId`. */
  readonly threadId: number;
  readonly incarnation: number;
  readonly paused: boolean;
  /** `describeMpState` of the core's state, cut to its first {@link DESCRIBE_MAX_CHARS} characters (an acceptor's log can be long). */
  readonly describe: string;
  readonly mailbox: { readonly length: number; readonly limit: number };
  readonly counters: MpActorCounters;
}

/** Longest `describe` text a state report carries. */
export const DESCRIBE_MAX_CHARS = 4000;

/** The control API a Multi-Paxos worker exposes over comlink. Not on the data path. */
export interface MpActorControl {
  state(): MpActorReport;
  /** Crash now by an uncaught exception or by process.exit. */
  crash(how: 'exception' | 'exit'): void;
  /** Arm a one-shot crash point. */
  arm(point: CrashPoint): void;
  /** Stop stepping the mailbox (messages, requests and timer firings queue up). */
  pause(): void;
  resume(): void;
  /** Test hook: treat `raw` as if it arrived on the port from `via`. */
  inject(raw: unknown, via: ActorId): void;
}

/** The Multi-Paxos worker's protocol, for the {@link Supervisor}. */
export interface MpProtocol extends WorkerProtocol {
  readonly init: MpWorkerInit;
  readonly recovered: MpRecovered;
  readonly message: MpTurnReport;
  readonly post: MpRequestPost;
  readonly control: MpActorControl;
}

/** The start data as the worker receives it, link ends and control port included. */
export type MpWorkerStart = MpWorkerInit & { readonly ends: Readonly<Record<ActorId, TransportEnd>>; readonly control: MessagePort };

/** A result as it travels in {@link MpTurnReport.answers}: the client knows which operation it asked for. */
export function encodeResult(result: KvResult): Value {
  return result.f === 'read' ? result.value : result.f === 'cas' ? result.ok : 0;
}

/**
 * The wire form of a message between actors: the message with the value of
 * every slot entry replaced by its batch's JSON text. Other messages travel
 * as they are. {@link validateMpMessage} reads it back.
 */
export function toWire(msg: MpMessage): unknown {
  switch (msg.type) {
    case 'accept':
    case 'commit':
      return { ...msg, entries: msg.entries.map((e) => ({ slot: e.slot, value: batchJson(e.value) })) };
    case 'promise':
      return { ...msg, entries: msg.entries.map((e) => ({ slot: e.slot, ballot: e.ballot, value: batchJson(e.value) })) };
    default:
      return msg;
  }
}

/** The result of {@link validateMpMessage}: the message, or why it was refused. */
export type MpValidated = { readonly ok: true; readonly msg: MpMessage } | { readonly ok: false; readonly reason: string };

/**
 * Checks that untrusted input is an {@link MpMessage} in wire form (see
 * {@link toWire}) and returns a fresh copy of its envelope holding only the
 * fields the protocol knows (commands inside batches are checked in place,
 * see batchProblem in storage/mpdata.ts). It checks shape only (types,
 * safe-integer slots and rounds, JSON values); whether a ballot is
 * acceptable is the acceptor's guard to decide.
 */
export function validateMpMessage(x: unknown): MpValidated {
  if (typeof x !== 'object' || x === null) return refuse('not an object');
  const m = x as Record<string, unknown>;
  const from = m.from;
  if (typeof from !== 'string' || from.length === 0) return refuse('missing sender');
  const ballot = m.ballot as Ballot;
  const needBallot = BALLOTED.has(m.type);
  if (needBallot && !isBallot(ballot)) return refuse(`bad ballot in ${String(m.type)}`);
  const b = needBallot ? { round: ballot.round, proposer: ballot.proposer } : null;
  switch (m.type) {
    case 'prepare':
      if (!isSlot(m.fromSlot)) return refuse('bad fromSlot');
      return { ok: true, msg: { type: 'prepare', from, ballot: b as Ballot, fromSlot: m.fromSlot } };
    case 'promise': {
      const entries = acceptedEntries(m.entries);
      if (typeof entries === 'string') return refuse(`promise: ${entries}`);
      if (!isSlot(m.trimmed)) return refuse('promise: bad trimmed');
      return { ok: true, msg: { type: 'promise', from, ballot: b as Ballot, entries, trimmed: m.trimmed } };
    }
    case 'nack':
      if (!isBallot(m.promised)) return refuse('bad promised ballot');
      return { ok: true, msg: { type: 'nack', from, ballot: b as Ballot, promised: { round: m.promised.round, proposer: m.promised.proposer } } };
    case 'accept': {
      const entries = slotEntries(m.entries);
      if (typeof entries === 'string') return refuse(`accept: ${entries}`);
      return { ok: true, msg: { type: 'accept', from, ballot: b as Ballot, entries } };
    }
    case 'accepted': {
      if (!Array.isArray(m.slots) || !m.slots.every(isSlot)) return refuse('accepted: slots must be an array of slot numbers');
      return { ok: true, msg: { type: 'accepted', from, ballot: b as Ballot, slots: [...(m.slots as number[])] } };
    }
    case 'commit': {
      const entries = slotEntries(m.entries);
      if (typeof entries === 'string') return refuse(`commit: ${entries}`);
      return { ok: true, msg: { type: 'commit', from, entries } };
    }
    case 'heartbeat':
      if (!isSlot(m.commitIndex)) return refuse('bad commitIndex');
      return { ok: true, msg: { type: 'heartbeat', from, ballot: b as Ballot, commitIndex: m.commitIndex } };
    case 'catchup':
      if (!isSlot(m.fromSlot)) return refuse('bad fromSlot');
      return { ok: true, msg: { type: 'catchup', from, fromSlot: m.fromSlot } };
    case 'applied':
    case 'trim':
      if (!isSlot(m.upTo)) return refuse(`${m.type}: bad upTo`);
      return { ok: true, msg: { type: m.type, from, upTo: m.upTo } };
    case 'snapshot-request':
      if (typeof m.learner !== 'string' || m.learner.length === 0) return refuse('snapshot-request: no learner');
      return { ok: true, msg: { type: 'snapshot-request', from, learner: m.learner } };
    case 'snapshot':
      return snapshot(from, m);
    default:
      return refuse('unknown message type');
  }
}

/** The message types that carry a ballot. */
const BALLOTED: ReadonlySet<unknown> = new Set(['prepare', 'promise', 'nack', 'accept', 'accepted', 'heartbeat']);

function refuse(reason: string): MpValidated {
  return { ok: false, reason };
}

function slotEntries(x: unknown): SlotEntry[] | string {
  if (!Array.isArray(x)) return 'entries must be an array';
  const out: SlotEntry[] = [];
  for (const e of x as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'an entry is not an object';
    const { slot, value } = e as Record<string, unknown>;
    if (!isSlot(slot)) return 'an entry has a bad slot';
    const batch = parseBatch(value);
    if (typeof batch === 'string') return `slot ${slot}: ${batch}`;
    out.push({ slot, value: batch });
  }
  return out;
}

function acceptedEntries(x: unknown): AcceptedEntry[] | string {
  if (!Array.isArray(x)) return 'entries must be an array';
  const out: AcceptedEntry[] = [];
  for (const e of x as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'an entry is not an object';
    const { slot, ballot, value } = e as Record<string, unknown>;
    if (!isSlot(slot)) return 'an entry has a bad slot';
    if (!isBallot(ballot)) return `slot ${slot}: bad ballot`;
    const batch = parseBatch(value);
    if (typeof batch === 'string') return `slot ${slot}: ${batch}`;
    out.push({ slot, ballot: { round: ballot.round, proposer: ballot.proposer }, value: batch });
  }
  return out;
}

/** A snapshot message, checked in place (see {@link snapshotProblem}). */
function snapshot(from: ActorId, m: Record<string, unknown>): MpValidated {
  const problem = snapshotProblem(m);
  if (problem !== null) return refuse(`snapshot: ${problem}`);
  const { upTo, data, sessions } = m as unknown as MpSnapshot;
  return { ok: true, msg: { type: 'snapshot', from, upTo, data, sessions } };
}
