/**
 * What crosses the boundary between the main thread and an actor's worker:
 * the data a worker starts with, the typed messages on its `parentPort`, the
 * control API it exposes over comlink, its state report, and errors, which
 * travel as plain data because class identity does not survive a thread hop.
 *
 * Actor-to-actor traffic is not here: it is plain core `Message`s on the
 * direct MessagePorts between workers, and the failure detector's pings
 * (src/host/failure-detector.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import type { RawTraceEvent } from '../trace/types.js';
import type { TransportEnd } from './transports/types.js';
import type { Ballot } from '../core/ballot.js';
import type { CoreConfig } from '../core/config.js';
import type { DurableRecord } from '../core/effects.js';
import type { ActorId, Role } from '../core/ids.js';
import type { Value } from '../core/value.js';
import type { OutgoingLinks } from './links.js';

/** An error as data: what survives postMessage and comlink intact. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
}

/** Turns anything thrown into {@link ErrorData}, keeping a string `code` if it has one. */
export function toErrorData(err: unknown): ErrorData {
  if (typeof err !== 'object' || err === null) return { name: 'Error', message: String(err) };
  const e = err as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
    ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

// The package has always exported SynodError with the worker protocol,
// whose ErrorData carries its codes across threads; it is defined in
// src/errors.ts so that every layer can use it.
export { SynodError, type SynodErrorCode } from '../errors.js';

/**
 * Ways to crash an actor on purpose. `exception`, `exit` and `terminate` act
 * at once; `after-receive` and `after-persist` are crash points armed inside
 * the worker that fire at the next message received (before anything of it
 * is persisted) or the next write made durable (before its replies leave).
 */
export type CrashMode = 'exception' | 'exit' | 'terminate' | 'after-receive' | 'after-persist';

/** Every {@link CrashMode}, for checking one given at run time. */
export const CRASH_MODES: readonly CrashMode[] = ['exception', 'exit', 'terminate', 'after-receive', 'after-persist'];

/** The crash points a worker can arm. */
export type CrashPoint = Extract<CrashMode, 'after-receive' | 'after-persist'>;

/**
 * How an actor died, as the supervisor saw it: one of the crash modes (an
 * `exception` is any uncaught throw, broken invariants and failed writes
 * included; `exit` is the worker ending itself), or `messageerror` when a
 * message from the worker could not be deserialised.
 */
export type CrashHow = CrashMode | 'messageerror';

/** Where an actor keeps its durable record. */
export type StorageSpec =
  | {
      readonly kind: 'lmdb';
      readonly dir: string;
      readonly durable: boolean;
      /** The no-fsync experiment: acknowledge writes at once and flush them every this many ms (see storage/lazy.ts). */
      readonly lazyFlushMs?: number;
      /** Writes are refused (SYNOD_DISK_FULL) while the disk has less than this many bytes free; default 64 MiB. */
      readonly minFreeBytes?: number;
    }
  | { readonly kind: 'memory' };

/** Longest `describe` text a state report carries (either protocol's). */
export const DESCRIBE_MAX_CHARS = 4000;

/**
 * What a worker is told as it boots (its `workerData`), before it knows
 * which actor it will become: which storage module to load and warm up
 * while it waits, so that the actor taking it finds them loaded.
 */
export interface WorkerBoot {
  /** The protocol of the cluster's actors: a Multi-Paxos worker loads the record log (memory or LMDB), a single-decree one the LMDB store if it needs it. */
  readonly protocol: 'synod' | 'multipaxos';
  /** Whether any actor of the cluster keeps its state in LMDB: then lmdb is loaded and its per-thread set-up done while the worker waits. */
  readonly lmdb: boolean;
  /**
   * Set by the supervisor when an actor takes the worker as it boots (no
   * spare was ready): the worker then does none of a spare's preparations
   * (preloading, lmdb's warm-up, a collection, a rehearsal) before that
   * actor is ready, since they would only delay its start.
   */
  readonly takenAtBoot?: boolean;
}

/** What makes a worker a given actor (its 'init' message). The control port and the ends' ports are transferred. */
export interface WorkerInit {
  /** Which protocol the actor speaks (the one worker entry hosts either). */
  readonly protocol: 'synod';
  readonly id: ActorId;
  readonly role: Role;
  readonly config: CoreConfig;
  readonly storage: StorageSpec;
  readonly mailboxLimit: number;
  readonly maxValueBytes: number;
  /** 1 for the first start, +1 per restart. */
  readonly incarnation: number;
  /** Test hook: throw during start-up, before becoming ready. */
  readonly failStartup: boolean;
  /** The worker's end of the comlink control channel. */
  readonly control: MessagePort;
  /** One link end per peer the actor talks to, by peer id (open it with openEndpoint). */
  readonly ends: Readonly<Record<ActorId, TransportEnd>>;
  /** Fault rules of the actor's outgoing links. */
  readonly links: OutgoingLinks;
  /** Report every send, receive, drop, persist and decision as trace events (messages then carry an id). */
  readonly trace: boolean;
}

/** A peer message as it travels when the cluster traces: the message and the id of this send. */
export interface TracedEnvelope {
  readonly $trace: string;
  readonly msg: unknown;
}

/** Messages from the main thread to a worker. */
export type ToWorker =
  /** Become this actor. Always the first message but for 'halt'. */
  | { readonly type: 'init'; readonly init: WorkerInit }
  /** A fresh channel to `peer` (which restarted); it replaces the old one. */
  | { readonly type: 'connect'; readonly peer: ActorId; readonly end: TransportEnd }
  /** A client request for a proposer. */
  | { readonly type: 'propose'; readonly value: Value }
  /** Park the thread (answering 'halted') so that worker.terminate() cannot land inside a native lmdb call. */
  | { readonly type: 'halt' };

/** Messages from a worker to the main thread. */
export type FromWorker =
  /** The actor recovered `record` and serves. */
  | { readonly type: 'ready'; readonly threadId: number; readonly record: DurableRecord | null }
  /** `record` is durable (sent before the replies that rode on it). */
  | { readonly type: 'durable'; readonly record: DurableRecord }
  /** A learner decided. */
  | { readonly type: 'decide'; readonly ballot: Ballot; readonly value: Value }
  /** A proposer's answer to its clients: this value was chosen. */
  | { readonly type: 'chosen'; readonly ballot: Ballot; readonly value: Value }
  /** Trace events of this actor, in the order they happened, with epoch-ms times (only when the cluster traces). */
  | { readonly type: 'trace'; readonly events: readonly RawTraceEvent[] }
  /** The thread is parked and may be terminated; `quiet`: no write of the actor was in flight (see the supervisor's handshake). */
  | { readonly type: 'halted'; readonly quiet: boolean }
  /** The worker is about to end itself, and why; its exit follows. */
  | { readonly type: 'dying'; readonly how: CrashHow; readonly cause: ErrorData };

/** Why a worker dropped an input without stepping it. */
export type DropReason =
  /** validateMessage refused it. */
  | 'malformed'
  /** It claims a sender that is not the peer on that port, or not a member. */
  | 'unknownSender'
  /** Its value is larger than `maxValueBytes`. */
  | 'oversized'
  /** The mailbox was full (the newest message is the one dropped). */
  | 'overflow'
  /** Dropped on an outgoing link by a partition or a drop fault. */
  | 'link'
  /** Sent to a peer the actor has no channel to (the peer is down or failed). */
  | 'unroutable';

/** An actor's counters since its worker started. */
export interface ActorCounters {
  received: number;
  /** Turns: drains of the mailbox, each stepping everything that had arrived. */
  turns: number;
  steps: number;
  /** Client requests received from the main thread. */
  commands: number;
  /** Inputs the core returned an `ignore` effect for (stale, duplicate, foreign). */
  ignored: number;
  sent: number;
  /** The postMessage calls that carried the messages sent (one per peer per turn). */
  posts: number;
  /** Appends (one per turn that wrote) and the records they made durable. */
  appends: number;
  persisted: number;
  /** Messages sent twice by a dup fault. */
  duplicated: number;
  /** Messages held back by a delay fault. */
  delayed: number;
  dropped: Record<DropReason, number>;
}

/** What `cluster.state(id)` returns. */
export interface ActorReport {
  readonly id: ActorId;
  readonly role: Role;
  /** The worker thread's `threadId`. */
  readonly threadId: number;
  /** The thread's id in the operating system (Linux; the TID `top -H` and /proc/<pid>/task show), or null where the system does not say. */
  readonly osThreadId: number | null;
  readonly incarnation: number;
  readonly paused: boolean;
  /** `describeState` of the core's state. */
  readonly describe: string;
  /** The last record known durable (recovered or written since). */
  readonly durable: DurableRecord | null;
  readonly mailbox: { readonly length: number; readonly limit: number };
  readonly counters: ActorCounters;
}

/** The control API a worker exposes over comlink. Not on the data path. */
export interface ActorControl {
  /** The actor's report: thread id, incarnation, state text, counters. */
  state(): ActorReport;
  /** Crash now by an uncaught exception or by process.exit. Never answers: the call fails once the worker is seen dead. */
  crash(how: 'exception' | 'exit'): Promise<never>;
  /** Arm a one-shot crash point. */
  arm(point: CrashPoint): void;
  /** Stop stepping the mailbox (messages and timer firings queue up). */
  pause(): void;
  /** Step the mailbox again, starting with what queued up while paused. */
  resume(): void;
  /** Replace the fault rules (partitions, drop/dup/delay) of the actor's outgoing links; it applies them as it sends. */
  setLinks(links: OutgoingLinks): void;
  /** Test hook: treat `raw` as if it arrived on the port from `via`. */
  inject(raw: unknown, via: ActorId): void;
}
