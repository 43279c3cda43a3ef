/**
 * The supervisor: starts one worker thread per actor, wires every pair of
 * actors that talk with a link of the cluster's transport (a direct
 * MessageChannel by default; see src/runtime/transports), watches each worker
 * (error, exit, messageerror) and restarts crashed actors with fresh links.
 *
 * Policy, after Erlang/OTP: `one_for_one` restarts only the actor that
 * crashed, `one_for_all` stops and restarts every actor with it. Restart
 * intensity: an actor restarted `maxRestarts` times within `windowMs` is
 * given up on ('failed') at its next crash. Restarts wait an exponential
 * backoff with jitter. An actor that dies before becoming ready
 * `maxStartupFailures` times in a row is stopped with the cause, however
 * slowly it does so (piscina's workerFailsDuringBootstrap).
 *
 * A stop the supervisor asks for (close, a user restart, a one_for_all
 * sibling) is not a crash: `terminate()` makes a worker exit with code 1 just
 * like a crash, so each life records that it was asked to stop. Every
 * terminate() is preceded by parking the thread (see halt), because one
 * landing inside a native lmdb call aborts the whole process. An actor whose
 * thread parks with no storage write in flight is gone at once: its
 * successor starts without waiting for the thread's exit, and the thread is
 * torn down once no actor is starting.
 *
 * `spares` workers (default 1) are kept booted, with the storage modules
 * their cluster's actors need loaded ({@link SupervisedActors.boot}) and a
 * first full garbage collection behind them; the next actor to start (a
 * restart, usually) takes one, which cuts a restart from over 100 ms to
 * under 10 ms on a 2-vCPU machine. `spares: 0` gives cold restarts. The
 * spares belong to the cluster (any actor may take one), not one to each
 * actor, and close() stops them with the actors.
 *
 * The supervisor does not care which protocol its workers speak beyond a
 * small handshake (init, connect, halt; ready, dying, halted, and health,
 * what an actor's failure detector reports about its peers): the worker
 * file, the start data, what a worker reports on recovery, its other
 * messages and its control API are the type parameter {@link WorkerProtocol}.
 * The single-decree cluster (workers/actor.js) is the default; the
 * Multi-Paxos key-value cluster is another; both start the one worker entry,
 * which hosts either protocol (the start data names it).
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import { workerPath } from '../util/paths.js';
import type { DurableRecord } from '../core/effects.js';
import type { ActorId } from '../core/ids.js';
import type { DetectorOptions, PeerChange } from '../host/failure-detector.js';
import { portTransport, transferListOf, type Transport, type TransportEnd, type TransportPair } from './transports/index.js';
import { SynodError } from '../errors.js';
import { STORAGE_ERROR_CODES } from './storage/types.js';
import { toErrorData, type ActorControl, type CrashHow, type ErrorData, type FromWorker, type ToWorker, type WorkerBoot, type WorkerInit } from './wire.js';

// The UMD adapter sets module.exports to the function, but its typings
// declare an ES default export, which NodeNext then types as a namespace.
const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default;

/**
 * The compiled worker entry, dist/workers/actor.js. Worker threads cannot
 * load .ts, so even when this module runs from its TypeScript source (under
 * vitest) the compiled copy is used (`npm test` builds it first).
 */
export const WORKER_FILE = pathToFileURL(workerPath('actor'));

/** Throws SYNOD_START_FAILED, saying how to fix it, when the compiled worker entry is missing (the project was never built). */
export function requireBuiltWorker(): void {
  const file = fileURLToPath(WORKER_FILE);
  if (!existsSync(file)) throw new SynodError('SYNOD_START_FAILED', `the worker entry ${file} does not exist; build the project first (npm run build)`);
}

/**
 * What a kind of worker speaks, as types. Besides these, every worker
 * understands the supervisor's own messages ({@link SupervisorToWorker}) and
 * sends its 'ready', 'dying' and 'halted' ({@link WorkerToSupervisor}).
 */
export interface WorkerProtocol {
  /** The start data of one incarnation, as `initOf` makes it; the supervisor adds the link ends and the control port. */
  readonly init: object;
  /** What a worker reports it recovered, in its 'ready' message. */
  readonly recovered: unknown;
  /** The worker's other messages, emitted as the supervisor's 'message' event. */
  readonly message: { readonly type: string };
  /** What the owner may post to a serving worker with {@link Supervisor.post}. */
  readonly post: unknown;
  /** The control API the worker exposes over comlink. */
  readonly control: object;
}

/** The protocol of the single-decree actor (workers/actor.js): the default. */
export interface SynodProtocol extends WorkerProtocol {
  readonly init: Omit<WorkerInit, 'ends' | 'control'>;
  readonly recovered: DurableRecord | null;
  readonly message: Exclude<FromWorker, { type: 'ready' | 'dying' | 'halted' }>;
  readonly post: ToWorker;
  readonly control: ActorControl;
}

/** The supervisor's own messages to a worker, whatever its protocol. Ports are transferred. */
export type SupervisorToWorker<P extends WorkerProtocol> =
  /** Become this actor: the start data plus a link end per peer and the control port. Always the first message but for 'halt'. */
  | { readonly type: 'init'; readonly init: P['init'] & { readonly ends: Readonly<Record<ActorId, TransportEnd>>; readonly control: MessagePort; readonly watch: PeerWatch } }
  /** A fresh link to `peer` (which restarted); it replaces the old one. */
  | { readonly type: 'connect'; readonly peer: ActorId; readonly end: TransportEnd }
  /**
   * Park the thread (answering 'halted') so that worker.terminate() cannot land inside a native lmdb call.
   * `close`: the actor stops for good (not a crash or a restart), so it closes its store first: a thread torn down
   * with an LMDB environment open could hang in its teardown and keep the process alive.
   */
  | { readonly type: 'halt'; readonly close?: boolean };

/** What any worker sends the supervisor: its handshake messages, then its protocol's own. */
export type WorkerToSupervisor<P extends WorkerProtocol> =
  /** The actor recovered `record` and serves. */
  | { readonly type: 'ready'; readonly threadId: number; readonly record: P['recovered'] }
  /** The worker is about to end itself, and why; its exit follows. */
  | { readonly type: 'dying'; readonly how: CrashHow; readonly cause: ErrorData }
  /**
   * The thread is parked and may be terminated. `quiet`: the actor it hosted
   * had no storage write in flight (nor a start under way) when it parked, so
   * nothing of that actor can reach its store any more and its successor may
   * start before this thread has exited (see {@link Supervisor} halt).
   */
  | { readonly type: 'halted'; readonly quiet: boolean }
  /** The worker's failure detector saw peers go silent or be heard again (only when the actors watch their peers). */
  | { readonly type: 'health'; readonly changes: readonly PeerChange[] }
  | P['message'];

/** How the supervisor restarts actors. */
export interface SupervisorOptions {
  /** `one_for_one`: restart only the crashed actor; `one_for_all`: restart every actor with it. */
  readonly policy: 'one_for_one' | 'one_for_all';
  /** Restart intensity: at most this many restarts of one actor within {@link windowMs}; the next crash fails it. */
  readonly maxRestarts: number;
  /** The window of the restart intensity, in ms. */
  readonly windowMs: number;
  /** First backoff before a restart; doubles per restart within the window, up to {@link backoffMaxMs}, then jittered by x0.5..1.5. */
  readonly backoffBaseMs: number;
  /** Upper bound of the backoff before a restart, in ms (before jitter). */
  readonly backoffMaxMs: number;
  /** An actor that dies this many times in a row before becoming ready is failed. */
  readonly maxStartupFailures: number;
  /** Safety net: if a terminated worker has not exited after this long, it is abandoned and treated as exited. */
  readonly terminateTimeoutMs: number;
  /** Worker threads kept booted, with lmdb loaded, for the next actors to start (restarts skip booting a thread). 0: cold restarts. */
  readonly spares: number;
  /**
   * {@link Supervisor.start} gives an actor this long to become ready; one
   * that has not is stopped and reported failed (SYNOD_START_FAILED), so a
   * start that hangs (a data directory on a file system that never
   * answers) cannot hang the cluster's start.
   */
  readonly startTimeoutMs: number;
}

/** The default supervisor options. */
export const DEFAULT_SUPERVISOR: SupervisorOptions = Object.freeze({
  policy: 'one_for_one',
  maxRestarts: 10,
  windowMs: 5000,
  backoffBaseMs: 5,
  backoffMaxMs: 500,
  maxStartupFailures: 3,
  terminateTimeoutMs: 5000,
  spares: 1,
  startTimeoutMs: 30_000,
});

/**
 * Causes of death that a restart cannot mend: a store that is lost,
 * corrupt, on a full disk or failing I/O, and a corrupt record. An actor
 * that dies of one is failed at once, not restarted into the same fault;
 * `restart(id)` tries again once the file is mended.
 */
export function isPermanentCause(cause: ErrorData): boolean {
  return cause.code !== undefined && (STORAGE_ERROR_CODES.includes(cause.code) || cause.code === 'SYNOD_CORRUPT_RECORD');
}

/** Where an actor is in its life cycle. */
export type ActorStatus = 'starting' | 'running' | 'down' | 'failed' | 'stopped';

/** An actor crashed. */
export interface CrashEvent {
  readonly id: ActorId;
  readonly how: CrashHow;
  readonly cause: ErrorData;
}

/** An actor serves again; `recoveryMs` runs from its crash (or stop) to ready. */
export interface RestartEvent {
  readonly id: ActorId;
  readonly recoveryMs: number;
  /** True when it did not crash itself: a user restart or a one_for_all sibling. */
  readonly planned: boolean;
  readonly threadId: number;
}

/** The supervisor gave up on an actor; it stays down. */
export interface FailedEvent {
  readonly id: ActorId;
  readonly cause: ErrorData;
}

/** The supervisor's events. `ready` and `message` are for the cluster; the others are public. */
export interface SupervisorEvents<P extends WorkerProtocol = SynodProtocol> {
  crash: [CrashEvent];
  restart: [RestartEvent];
  failed: [FailedEvent];
  /** Actor `id` is ready (first start or restart) and recovered `record`. */
  ready: [id: ActorId, record: P['recovered']];
  /** Any other message from actor `id`'s worker. */
  message: [id: ActorId, msg: P['message']];
  /** Actor `id`'s failure detector reports `changes` about its peers. */
  health: [id: ActorId, changes: readonly PeerChange[]];
}

/** What each actor's start data says about watching its peers: whom, and with what settings; null when it does not watch. */
export type PeerWatch = (DetectorOptions & { readonly peers: readonly ActorId[] }) | null;

/** What the supervisor needs to know about the actors. */
export interface SupervisedActors<P extends WorkerProtocol = SynodProtocol> {
  readonly ids: readonly ActorId[];
  /** The actors `id` talks to; each such pair gets a direct channel. */
  peersOf(id: ActorId): readonly ActorId[];
  /** The start data of incarnation `incarnation` of `id`, except the link ends and control port the supervisor makes. */
  initOf(id: ActorId, incarnation: number): P['init'];
  /** What carries the actors' messages; default: direct MessagePorts. */
  readonly transport?: Transport;
  /** What every worker is told as it boots (its workerData), before it knows which actor it becomes; see {@link WorkerBoot}. */
  readonly boot?: WorkerBoot;
}

/** A worker thread and the promise of its exit. */
interface Thread {
  readonly worker: Worker;
  readonly exited: Promise<void>;
}

/**
 * A worker's control API as the main thread calls it: every method returns
 * a promise (what comlink makes of a plain method). Declared here rather than
 * taken from comlink, whose declarations need the DOM library: a consumer of
 * this package type-checks without it.
 */
export type RemoteControl<C> = { readonly [K in keyof C]: C[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

/** One worker thread hosting an actor, from spawn to exit. */
interface Life<C> extends Thread {
  readonly control: Comlink.Remote<C>;
  readonly controlPort: MessagePort;
  ready: boolean;
  /** The supervisor asked this worker to stop: its exit is not a crash. */
  stopping: boolean;
  /** Why it is going down, as first seen (the error event or the worker's own notice comes before the exit). */
  death: { how: CrashHow; cause: ErrorData } | null;
  /** Rejecters of control calls in flight: comlink never settles them if the worker dies. */
  readonly calls: Set<(err: Error) => void>;
}

interface Slot<C> {
  readonly id: ActorId;
  life: Life<C> | null;
  status: ActorStatus;
  incarnation: number;
  /** Set while the actor is down between lives; cleared (with a restart event) when it is ready again. */
  down: { since: number; planned: boolean } | null;
  failure: ErrorData | null;
  /** Times of the restarts within the intensity window. */
  restarts: number[];
  startupFailures: number;
  timer: NodeJS.Timeout | null;
  readonly waiters: Array<{ resolve: () => void; reject: (err: Error) => void }>;
}

/** Supervises one worker per actor. See the module comment. */
export class Supervisor<P extends WorkerProtocol = SynodProtocol> extends EventEmitter<SupervisorEvents<P>> {
  private readonly slots = new Map<ActorId, Slot<P['control']>>();
  /** Booted workers with lmdb loaded, waiting to become whichever actors start next. */
  private readonly spares: Thread[] = [];
  /** The live link between each pair of actors, by {@link pairKey}. */
  private readonly pairs = new Map<string, TransportPair>();
  private readonly transport: Transport;
  private closing = false;
  /** Actors stopped for good by {@link retire}. */
  private readonly removed = new Set<ActorId>();
  /** The failure detector settings of actors started from now on; null: they do not watch their peers. */
  private detector: DetectorOptions | null = null;
  /** Called, and forgotten, once no actor is starting (see {@link noneStarting}). */
  private readonly startsOver: Array<() => void> = [];

  constructor(
    private readonly actors: SupervisedActors<P>,
    private readonly options: SupervisorOptions,
    /** The compiled worker entry every actor runs. */
    private readonly workerFile: URL = WORKER_FILE,
  ) {
    super();
    this.transport = actors.transport ?? portTransport();
    for (const id of actors.ids) this.slots.set(id, newSlot(id));
  }

  /**
   * Starts every actor; resolves once each serves or is failed (see
   * {@link failure}), never later than `startTimeoutMs`: an actor not ready
   * by then is stopped and failed. Whether the cluster can run without the
   * failed ones is the caller's decision.
   */
  async start(): Promise<void> {
    await this.startSlots([...this.slots.values()]);
  }

  /**
   * Brings in actor `id`, which a reconfiguration adds: makes it a slot and
   * starts it with links to every live peer (by now `peersOf` must name it,
   * and its peers' `peersOf` must name it too), and resolves once it serves
   * or is failed (see {@link failure}), as {@link start} does. An id is
   * never used twice, not even once {@link retire}d.
   */
  async add(id: ActorId): Promise<void> {
    if (this.closing) throw new SynodError('SYNOD_CLOSED', `cannot add ${id}: the cluster is closed`);
    if (this.slots.has(id)) throw new SynodError('SYNOD_INVALID_ARGUMENT', `${id} is ${this.removed.has(id) ? 'a removed actor' : 'an actor of this cluster already'}; an id is used once`);
    const slot = newSlot<P['control']>(id);
    this.slots.set(id, slot);
    await this.startSlots([slot]);
  }

  /**
   * Stops actor `id` for good, as a reconfiguration that removed it asks: a
   * planned stop (not a crash) of its thread if it has one, whether it
   * serves, restarts or is failed, with no restart after it and every link
   * to it closed. Its status is 'stopped' from then on, and calls to it
   * reject with SYNOD_CLOSED.
   */
  async retire(id: ActorId): Promise<void> {
    const slot = this.slot(id);
    this.removed.add(id);
    slot.down = null;
    await this.stop(slot);
    for (const [key, pair] of this.pairs) {
      if (!key.split('\u0000').includes(id)) continue;
      pair.close();
      this.pairs.delete(key);
    }
    slot.status = 'stopped';
    this.settle(slot, new SynodError('SYNOD_CLOSED', `${id} was removed from the cluster`));
  }

  /** Spawns `slots` and resolves once each serves or is failed, never later than `startTimeoutMs` (see {@link start}). */
  private async startSlots(slots: Slot<P['control']>[]): Promise<void> {
    for (const slot of slots) this.spawn(slot);
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      Promise.all(slots.map((slot) => this.running(slot).catch(() => {}))).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.startTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!late) return;
    const stuck = slots.filter((slot) => slot.status === 'starting' || slot.status === 'down');
    await Promise.all(
      stuck.map(async (slot) => {
        await this.stop(slot);
        if (slot.status !== 'stopped') this.fail(slot, { name: 'SynodError', code: 'SYNOD_START_FAILED', message: `${slot.id} did not become ready within startTimeoutMs (${this.options.startTimeoutMs} ms) and was stopped; check that its data directory is on a file system that answers` });
      }),
    );
  }

  /**
   * Makes every actor started from now on watch the peers it talks to with a
   * failure detector of these settings (null: no watching, no pings), and
   * report what it sees as 'health' events.
   */
  watchPeers(settings: DetectorOptions | null): void {
    this.detector = settings;
  }

  /** The actors `id` talks to, each of which watches it (when actors watch their peers). */
  peersOf(id: ActorId): readonly ActorId[] {
    return this.actors.peersOf(id);
  }

  /** Why actor `id` is failed, or null if it is not. */
  failure(id: ActorId): ErrorData | null {
    const slot = this.slot(id);
    return slot.status === 'failed' ? slot.failure : null;
  }

  /** True when `id` is an actor of this supervisor (one {@link retire}d included). */
  has(id: ActorId): boolean {
    return this.slots.has(id);
  }

  /** The status of actor `id`. */
  status(id: ActorId): ActorStatus {
    return this.slot(id).status;
  }

  /** Posts `msg` to actor `id`'s worker if it serves; otherwise drops it (the caller re-sends on 'ready'). */
  post(id: ActorId, msg: P['post']): void {
    const slot = this.slot(id);
    if (slot.status === 'running') slot.life?.worker.postMessage(msg);
  }

  /**
   * Runs a control call on actor `id` once it serves (waiting through a
   * restart). Rejects with SYNOD_ACTOR_DOWN if the worker dies before
   * answering, SYNOD_ACTOR_FAILED if the actor is failed, SYNOD_CLOSED after close.
   */
  async call<T>(id: ActorId, fn: (control: RemoteControl<P['control']>) => Promise<T>): Promise<T> {
    const slot = this.slot(id);
    await this.running(slot);
    const life = slot.life as Life<P['control']>;
    return new Promise<T>((resolve, reject) => {
      life.calls.add(reject);
      fn(life.control as unknown as RemoteControl<P['control']>)
        .then(resolve, reject)
        .finally(() => life.calls.delete(reject));
    });
  }

  /** Crashes actor `id` from outside with worker.terminate(); a no-op when it has no worker. */
  terminate(id: ActorId): Promise<void> {
    const slot = this.slot(id);
    const life = slot.life;
    if (!life || life.death || life.stopping) return Promise.resolve();
    this.dying(slot, life, 'terminate', { name: 'Terminated', message: `${id} was terminated by crash(${JSON.stringify(id)}, 'terminate')` });
    return this.kill(slot);
  }

  /**
   * A user restart: stops actor `id` (not counted as a crash), starts it
   * again at once and resolves when it serves. It also revives a failed
   * actor, with its intensity and start-up counts reset.
   */
  async restart(id: ActorId): Promise<void> {
    const slot = this.slot(id);
    if (this.closing) throw new SynodError('SYNOD_CLOSED', `cannot restart ${id}: the cluster is closed`);
    if (this.removed.has(id)) throw new SynodError('SYNOD_INVALID_ARGUMENT', `cannot restart ${id}: it was removed from the cluster`);
    slot.down = { since: performance.now(), planned: true };
    await this.stop(slot);
    if (slot.life) return this.running(slot); // another restart got there first
    slot.restarts = [];
    slot.startupFailures = 0;
    this.spawn(slot);
    return this.running(slot);
  }

  /** Stops every actor (and the spare) and rejects everything waiting on them. */
  async close(): Promise<void> {
    this.closing = true;
    this.startEnded();
    const spares = this.spares.splice(0);
    // A stop may be over before its thread has exited (see halt): close waits for the threads themselves.
    const exits = [...this.slots.values()].flatMap((slot) => (slot.life ? [this.within(slot.life.exited)] : []));
    await Promise.all([...[...this.slots.values()].map((slot) => this.stop(slot)), ...spares.map((t) => this.halt(t)), ...exits]);
    for (const pair of this.pairs.values()) pair.close();
    this.pairs.clear();
    for (const slot of this.slots.values()) {
      slot.status = 'stopped';
      this.settle(slot, new SynodError('SYNOD_CLOSED', `${slot.id}: the cluster is closed`));
    }
  }

  private slot(id: ActorId): Slot<P['control']> {
    const slot = this.slots.get(id);
    if (!slot) throw new SynodError('SYNOD_INVALID_ARGUMENT', `no actor ${JSON.stringify(id)}; the actors are ${[...this.slots.keys()].join(', ')}`);
    return slot;
  }

  /** Resolves when `slot` serves; rejects if it is failed or stopped first. */
  private running(slot: Slot<P['control']>): Promise<void> {
    if (slot.status === 'running') return Promise.resolve();
    if (slot.status === 'failed') return Promise.reject(this.failedError(slot));
    if (slot.status === 'stopped') return Promise.reject(new SynodError('SYNOD_CLOSED', `${slot.id}: ${this.removed.has(slot.id) && !this.closing ? 'it was removed from the cluster' : 'the cluster is closed'}`));
    return new Promise((resolve, reject) => slot.waiters.push({ resolve, reject }));
  }

  private settle(slot: Slot<P['control']>, err?: Error): void {
    for (const w of slot.waiters.splice(0)) err ? w.reject(err) : w.resolve();
  }

  private failedError(slot: Slot<P['control']>): SynodError {
    return new SynodError('SYNOD_ACTOR_FAILED', `${slot.id} failed and will not be restarted: ${slot.failure?.message}; restart it with cluster.restart(${JSON.stringify(slot.id)}) or use another actor`, { cause: slot.failure });
  }

  /** Starts a new life of `slot`: fresh links to every live peer, a fresh control channel. */
  private spawn(slot: Slot<P['control']>): void {
    if (this.closing) return;
    slot.timer = null;
    slot.incarnation++;
    slot.status = 'starting';
    const ends: Record<ActorId, TransportEnd> = {};
    const transfer: MessagePort[] = [];
    const connects: Array<() => void> = [];
    for (const peer of this.actors.peersOf(slot.id)) {
      // A peer without a worker gets its link to us when it starts.
      const other = this.slots.get(peer)?.life;
      if (!other) continue;
      const key = pairKey(slot.id, peer);
      this.pairs.get(key)?.close();
      const pair = this.transport.createPair();
      this.pairs.set(key, pair);
      const [mine, theirs] = pair.ends;
      ends[peer] = mine;
      transfer.push(...transferListOf(mine));
      connects.push(() => other.worker.postMessage({ type: 'connect', peer: slot.id, end: theirs } satisfies SupervisorToWorker<P>, transferListOf(theirs)));
    }
    const { port1: controlPort, port2: workerControl } = new MessageChannel();
    const watch: PeerWatch = this.detector === null ? null : { ...this.detector, peers: this.actors.peersOf(slot.id) };
    const init = { ...this.actors.initOf(slot.id, slot.incarnation), ends, control: workerControl, watch };
    const { worker, exited } = this.spares.shift() ?? this.boot(true);
    worker.postMessage({ type: 'init', init } satisfies SupervisorToWorker<P>, [workerControl, ...transfer]);
    // The peers hear of the new links after the actor does: its start is the restart's critical path, theirs is not.
    for (const post of connects) post();
    const life: Life<P['control']> = {
      worker,
      exited,
      control: Comlink.wrap<P['control']>(nodeEndpoint(controlPort)),
      controlPort,
      ready: false,
      stopping: false,
      death: null,
      calls: new Set(),
    };
    slot.life = life;
    worker.on('message', (msg: WorkerToSupervisor<P>) => this.onMessage(slot, life, msg));
    worker.on('error', (err) => this.dying(slot, life, 'exception', toErrorData(err)));
    worker.on('messageerror', (err) => {
      this.dying(slot, life, 'messageerror', toErrorData(err));
      void this.kill(slot);
    });
    worker.on('exit', (code) => this.onExit(slot, life, `exited with code ${code}`));
  }

  private onMessage(slot: Slot<P['control']>, life: Life<P['control']>, msg: WorkerToSupervisor<P>): void {
    if (slot.life !== life) return;
    // The handshake messages are told apart by type; anything else belongs to the protocol.
    const handshake = msg as Exclude<WorkerToSupervisor<P>, P['message']>;
    if (handshake.type === 'dying') {
      this.dying(slot, life, handshake.how, handshake.cause);
    } else if (handshake.type === 'ready') {
      this.onReady(slot, life, handshake.threadId, handshake.record);
    } else if (handshake.type === 'health') {
      this.emit('health', slot.id, handshake.changes);
    } else if (handshake.type !== 'halted') {
      this.emit('message', slot.id, msg as P['message']);
    }
  }

  private onReady(slot: Slot<P['control']>, life: Life<P['control']>, threadId: number, record: P['recovered']): void {
    life.ready = true;
    slot.status = 'running';
    slot.startupFailures = 0;
    this.emit('ready', slot.id, record);
    const down = slot.down;
    slot.down = null;
    if (down) this.emit('restart', { id: slot.id, recoveryMs: performance.now() - down.since, planned: down.planned, threadId });
    this.settle(slot);
    this.refillSpares();
    this.startEnded();
  }

  /**
   * Boots spare workers up to `spares`, but only while no actor is starting:
   * booting a thread and loading lmdb takes tens of ms of CPU, which on a
   * small machine would slow down the very restart the spare was for.
   */
  private refillSpares(): void {
    if (this.closing || this.spares.length >= this.options.spares || !this.noneStarting()) return;
    while (this.spares.length < this.options.spares) this.spares.push(this.boot(false));
  }

  /** True when no actor is starting. */
  private noneStarting(): boolean {
    for (const slot of this.slots.values()) if (slot.status === 'starting') return false;
    return true;
  }

  /** Resolves once no actor is starting (at once if none is, or the supervisor is closing). */
  private whenNoneStarting(): Promise<void> {
    if (this.closing || this.noneStarting()) return Promise.resolve();
    return new Promise((resolve) => this.startsOver.push(resolve));
  }

  /** An actor's start ended (it serves, or went down or failed first): wakes those waiting for no start. */
  private startEnded(): void {
    if (this.startsOver.length > 0 && (this.closing || this.noneStarting())) for (const wake of this.startsOver.splice(0)) wake();
  }

  /** Records why `life` is going down, as first seen, and stops treating the actor as serving. */
  private dying(slot: Slot<P['control']>, life: Life<P['control']>, how: CrashHow, cause: ErrorData): void {
    life.death ??= { how, cause };
    if (slot.life !== life) return;
    slot.status = 'down';
    slot.down ??= { since: performance.now(), planned: false };
    this.startEnded();
  }

  /** The worker of `life` is gone (or abandoned after a terminate timeout). */
  private onExit(slot: Slot<P['control']>, life: Life<P['control']>, detail: string): void {
    if (slot.life !== life) return;
    slot.life = null;
    const death = life.death ?? { how: 'exit' as const, cause: { name: 'WorkerExit', message: `${slot.id} ${detail}` } };
    const down = new SynodError('SYNOD_ACTOR_DOWN', `${slot.id} went down (${death.how}: ${death.cause.message}) before answering`);
    for (const reject of life.calls) reject(down);
    life.controlPort.close();
    // Its links die with it: a ring end in a dead thread cannot close itself, and the peers' sends must fail, not fill a ring no one reads.
    for (const peer of this.actors.peersOf(slot.id)) {
      const key = pairKey(slot.id, peer);
      this.pairs.get(key)?.close();
      this.pairs.delete(key);
    }
    slot.status = 'down';
    this.startEnded();
    if (life.stopping) return;
    slot.down ??= { since: performance.now(), planned: false };
    this.emit('crash', { id: slot.id, ...death });
    if (this.closing) return;
    if (isPermanentCause(death.cause)) return this.fail(slot, death.cause);
    if (!life.ready && ++slot.startupFailures >= this.options.maxStartupFailures) {
      return this.fail(slot, { ...death.cause, message: `${slot.id} died during start-up ${slot.startupFailures} times in a row; last cause: ${death.cause.message}` });
    }
    const now = performance.now();
    slot.restarts = slot.restarts.filter((t) => now - t < this.options.windowMs);
    if (slot.restarts.length >= this.options.maxRestarts) {
      return this.fail(slot, { ...death.cause, message: `${slot.id} crashed after ${slot.restarts.length} restarts within ${this.options.windowMs} ms (maxRestarts ${this.options.maxRestarts}); last cause: ${death.cause.message}` });
    }
    slot.restarts.push(now);
    const { backoffBaseMs, backoffMaxMs } = this.options;
    const delayMs = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (slot.restarts.length - 1)) * (0.5 + Math.random());
    if (this.options.policy === 'one_for_one') {
      // Without backoff, at once: a timer of 0 ms still waits a turn of the event loop and at least 1 ms.
      if (delayMs === 0) this.spawn(slot);
      else slot.timer = setTimeout(() => this.spawn(slot), delayMs);
      return;
    }
    const siblings = [...this.slots.values()].filter((s) => s !== slot && s.life);
    for (const s of siblings) s.down ??= { since: now, planned: true };
    void Promise.all(siblings.map((s) => this.stop(s))).then(() => {
      if (this.closing) return;
      slot.timer = setTimeout(() => {
        slot.timer = null;
        for (const s of this.slots.values()) if (s.status === 'down' && !s.life && !s.timer && !this.removed.has(s.id)) this.spawn(s);
      }, delayMs);
    });
  }

  private fail(slot: Slot<P['control']>, cause: ErrorData): void {
    slot.status = 'failed';
    this.startEnded();
    slot.failure = cause;
    slot.down = null;
    this.emit('failed', { id: slot.id, cause });
    this.settle(slot, this.failedError(slot));
  }

  /** A planned stop of `slot`'s worker, if it has one; cancels a pending restart. */
  private stop(slot: Slot<P['control']>): Promise<void> {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    if (!slot.life) return Promise.resolve();
    slot.life.stopping = true;
    return this.kill(slot);
  }

  /**
   * Boots a worker thread; it becomes an actor when it gets an 'init'
   * message. `now`: an actor takes it at once (no spare was ready), so it
   * skips a spare's idle preparations, which would only delay that start.
   */
  private boot(now: boolean): Thread {
    const boot = this.actors.boot;
    const worker = new Worker(this.workerFile, boot === undefined ? {} : { workerData: now ? { ...boot, takenAtBoot: true } : boot });
    // Until it is an actor, a failure only loses the spare; the life watches it after that.
    worker.on('error', () => {});
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    void exited.then(() => {
      const i = this.spares.findIndex((t) => t.worker === worker);
      if (i >= 0) this.spares.splice(i, 1);
    });
    return { worker, exited };
  }

  /**
   * Terminates `slot`'s worker; one that does not exit is abandoned and
   * treated as exited. Resolves once the actor is gone: at the worker's
   * exit, or as soon as it parked quietly (see halt), which lets the next
   * life start while the thread is still being torn down.
   */
  private async kill(slot: Slot<P['control']>): Promise<void> {
    const life = slot.life;
    if (!life) return;
    let parked!: () => void;
    const gone = new Promise<void>((resolve) => (parked = resolve));
    const halted = this.halt(
      life,
      () => {
        this.onExit(slot, life, 'parked with no write in flight and was terminated');
        parked();
      },
      life.stopping,
    ).then((exited) => {
      if (!exited) this.onExit(slot, life, `did not exit within ${this.options.terminateTimeoutMs} ms of terminate() and was abandoned`);
    });
    await Promise.race([gone, halted]);
  }

  /**
   * Terminates a worker thread; true once it exited. worker.terminate()
   * landing while the thread is inside a native lmdb call (loading the
   * addon, starting a write) aborts the whole process: lmdb-js is built
   * without node-addon-api's NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS, and
   * here about half of the runs of 60 kills aborted. So the worker is first
   * asked to park its thread, which it can only do between event-loop
   * callbacks, and is terminated once parked. Safety nets: a worker that
   * does not park within terminateTimeoutMs is terminated anyway, and false
   * is returned if it has not exited terminateTimeoutMs later.
   *
   * A thread takes a few ms to be torn down after terminate() (4 of the 10 ms
   * of a warm restart here), and nothing of it runs meanwhile: it is parked.
   * What could still reach the actor's store is a write it issued before
   * parking, which lmdb-js commits on its own thread. So a worker that
   * parks with no write in flight says so (`quiet`), and `parked` is then
   * called at once: the actor is gone, and its successor may open the
   * store. One that parks with a write in flight is gone only at its exit.
   */
  private async halt({ worker, exited }: Thread, parked?: () => void, close = false): Promise<boolean> {
    let quiet = false;
    const halted = new Promise<void>((resolve) => {
      const onHalted = (m: WorkerToSupervisor<P>) => {
        if ((m as { type: string }).type !== 'halted') return;
        quiet = parked !== undefined && (m as { quiet?: boolean }).quiet === true;
        if (quiet) parked?.();
        resolve();
      };
      worker.on('message', onHalted);
      void exited.then(() => worker.off('message', onHalted));
    });
    worker.postMessage({ type: 'halt', ...(close ? { close } : {}) } satisfies SupervisorToWorker<P>);
    await this.within(Promise.race([halted, exited]));
    // A quietly parked thread costs nothing but memory: its teardown waits until the starts under way (its successor's, usually) are over, rather than compete with them for the CPUs.
    if (quiet) await this.within(this.whenNoneStarting());
    void worker.terminate();
    return this.within(exited);
  }

  /** True if `p` settles within terminateTimeoutMs. */
  private async within(p: Promise<void>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.options.terminateTimeoutMs)));
    const settled = await Promise.race([p.then(() => true), timedOut]);
    clearTimeout(timer);
    return settled;
  }
}

/** A slot for actor `id` that has not started. */
function newSlot<C>(id: ActorId): Slot<C> {
  return { id, life: null, status: 'down', incarnation: 0, down: null, failure: null, restarts: [], startupFailures: 0, timer: null, waiters: [] };
}

/** The key of the link between actors `a` and `b`, whichever way round. */
function pairKey(a: ActorId, b: ActorId): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}
