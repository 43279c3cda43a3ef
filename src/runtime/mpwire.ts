/**
 * What crosses the boundary between the main thread and a Multi-Paxos
 * actor's worker (workers/actor.js): its start data, the client requests
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
 *   encoded by what the client already knows about its own operation, by the
 *   machine's `encodeResult` (a ClientMachine, src/runtime/client/log-client.ts;
 *   for the key-value store: 0 for a write, the swapped flag for a cas, the
 *   value for a read).
 */
import type { MessagePort } from 'node:worker_threads';
import type { TransportEnd } from './transports/types.js';
import type { Ballot } from '../core/ballot.js';
import type { ActorId, Membership, Role } from '../core/ids.js';
import type { MpConfig } from '../core/multipaxos/types.js';
import type { Value } from '../core/value.js';
import type { RawTraceEvent } from '../trace/types.js';
import type { BatchDigest, CheckedRecord } from '../check/log-safety.js';
import type { WorkerProtocol } from './supervisor.js';
import type { OutgoingLinks } from './links.js';
import type { CrashPoint, StorageSpec } from './wire.js';
import type { Stamp } from './stamps.js';

/** What makes a worker a given Multi-Paxos actor (the supervisor adds its ports). */
export interface MpWorkerInit {
  /** Which protocol the actor speaks (the one worker entry hosts either). */
  readonly protocol: 'multipaxos';
  readonly id: ActorId;
  readonly role: Role;
  readonly config: MpConfig;
  readonly storage: StorageSpec;
  readonly mailboxLimit: number;
  /** Peer messages with a batch of more bytes of JSON than this are dropped as oversized (see maxBatchBytes in kv-cluster.ts). */
  readonly maxBatchBytes: number;
  /** 1 for the first start, +1 per restart. */
  readonly incarnation: number;
  /** Report durable acceptor records and applied slots to the main thread, for the log safety checker. */
  readonly reportFacts: boolean;
  /** Report every send, receive, persist, durable write and applied slot as trace events (messages then carry an id). */
  readonly trace: boolean;
  /** Fault rules of the actor's outgoing links (partitions, drop, duplicate, delay). */
  readonly links: OutgoingLinks;
  /** Take stage stamps (src/runtime/stamps.ts), for measuring; absent or false: none. */
  readonly stamps?: boolean;
  /** The actors the cluster runs besides the configured members (brought in by reconfigurations), which the actor accepts messages from; absent: none. */
  readonly spares?: Membership;
}

/** Who an actor accepts messages from and watches, as the cluster's members change (see {@link MpActorControl.regroup}). */
export interface MpGroup {
  /** The actors besides the configured members to accept messages from. */
  readonly spares: Membership;
  /** The peers its failure detector watches. */
  readonly watch: readonly ActorId[];
}

/** A view of the log as the cluster reports it: view `epoch` decides every slot from `from` on, with these proposers, acceptors and learners. */
export interface KvView {
  readonly epoch: number;
  readonly from: number;
  readonly proposers: readonly ActorId[];
  readonly acceptors: readonly ActorId[];
  readonly learners: readonly ActorId[];
}

/**
 * A learner's answer to a reconfiguration applied at `slot`: `done` if it
 * made the newest view, `view` (false: stale or invalid, nothing changed).
 */
export interface ReconfigAnswer {
  readonly clientId: string;
  readonly seq: number;
  readonly slot: number;
  readonly done: boolean;
  readonly view: KvView;
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
  /** Answers for clients, as flat triples `clientId, seq, encodeResult(result)` (the carried machine's encodeResult). */
  answers?: Array<string | number | Value>;
  /** Commands a learner refused because their client's session was evicted, as flat pairs `clientId, seq`. */
  expired?: Array<string | number>;
  /** Commands a proposer refused because it does not lead, as flat pairs `clientId, seq`. */
  rejected?: Array<string | number>;
  /** With `rejected`: who the proposer believes leads. */
  leader?: ActorId | null;
  /** Answers to reconfigurations (a learner's), apart from the clients' answers. */
  reconfigured?: ReconfigAnswer[];
  /** A proposer was elected at this ballot. */
  elected?: Ballot;
  /** What a learner applied, in order: slots, and snapshots it installed (only with `reportFacts`). */
  learned?: LearnedFact[];
  /** Records an acceptor made durable, in write order, an accepted batch as its digest (only with `reportFacts`). */
  durable?: CheckedRecord[];
  /** Trace events since the last report, in order, with epoch-ms times (only with `trace`). */
  trace?: RawTraceEvent[];
}

/** A learner applied the batch digested in `batch` at `slot` (see digestBatch in src/check), or installed a peer's snapshot and next applies slot `upTo`. */
export type LearnedFact = { readonly slot: number; readonly batch: BatchDigest } | { readonly snapshot: number };

/** Why a Multi-Paxos worker dropped an input without stepping it. */
export type MpDropReason =
  /** validateMpMessage refused it. */
  | 'malformed'
  /** It claims a sender that is not the peer on that port, or not a member. */
  | 'unknownSender'
  /** Its value is larger than the protocol allows (single-decree only; never counted here). */
  | 'oversized'
  /** The mailbox was full (the newest message is the one dropped). */
  | 'overflow'
  /** Dropped on an outgoing link by a partition or a drop fault. */
  | 'link'
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
  /** Messages sent twice by a dup fault. */
  duplicated: number;
  /** Messages held back by a delay fault. */
  delayed: number;
  dropped: Record<MpDropReason, number>;
}

/** What `kv.state(id)` returns. */
export interface MpActorReport {
  readonly id: ActorId;
  readonly role: Role;
  /** The worker thread's `threadId`. */
  readonly threadId: number;
  /** The thread's id in the operating system (Linux; the TID `top -H` and /proc/<pid>/task show), or null where the system does not say. */
  readonly osThreadId: number | null;
  readonly incarnation: number;
  readonly paused: boolean;
  /** The newest view this actor knows of (a proposer's or a learner's; an acceptor knows none and says null). */
  readonly view: KvView | null;
  /** `describeMpState` of the core's state, cut to its first `DESCRIBE_MAX_CHARS` (4,000) characters (an acceptor's log can be long). */
  readonly describe: string;
  readonly mailbox: { readonly length: number; readonly limit: number };
  readonly counters: MpActorCounters;
}

// Defined in wire.ts, which a single-decree worker loads: importing it from here would load the Multi-Paxos wire code re-exported below.
export { DESCRIBE_MAX_CHARS } from './wire.js';

/** The control API a Multi-Paxos worker exposes over comlink. Not on the data path. */
export interface MpActorControl {
  /** The actor's report: thread id, incarnation, state text, counters. */
  state(): MpActorReport;
  /** Crash now by an uncaught exception or by process.exit. Never answers: the call fails once the worker is seen dead. */
  crash(how: 'exception' | 'exit'): Promise<never>;
  /** Arm a one-shot crash point. */
  arm(point: CrashPoint): void;
  /** Stop stepping the mailbox (messages, requests and timer firings queue up). */
  pause(): void;
  /** Step the mailbox again, starting with what queued up while paused. */
  resume(): void;
  /** Sets the fault rules of the actor's outgoing links. */
  setLinks(links: OutgoingLinks): void;
  /** Test hook: treat `raw` as if it arrived on the port from `via`. */
  inject(raw: unknown, via: ActorId): void;
  /** From now on accepts messages from `group.spares` besides the configured members, and watches `group.watch` (a reconfiguration added or removed actors). */
  regroup(group: MpGroup): void;
  /** The stage stamps taken since the last call (none unless the actor was started with `stamps`), handed over and forgotten. */
  takeStamps(): Stamp[];
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

export { batchJson, batchProblem, snapshotProblem, toWire, validateMpMessage, type MpValidated } from '../core/multipaxos/wire.js';
