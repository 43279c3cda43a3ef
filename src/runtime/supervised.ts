/**
 * What the single-decree cluster ({@link Cluster}) and the key-value cluster
 * ({@link KvCluster}) share: actors in worker threads under a
 * {@link Supervisor}, the faults and controls every actor answers (crash,
 * crash points, restart, pause, resume, state, inject), systems and their
 * crashes, health (see health.ts), and the live trace (crashes and restarts
 * seen here, the rest posted by the workers).
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { allActors, type ActorId, type Membership } from '../core/ids.js';
import type { Violation } from '../check/types.js';
import type { Trace, TraceEvent } from '../trace/types.js';
import type { ActorStatus, Supervisor, WorkerProtocol } from './supervisor.js';
import { LinkTable, type LinkFaults, type OutgoingLinks } from './links.js';
import { linkFaultsSchema, parseOptions } from './options.js';
import { TraceCollector } from './tracing.js';
import { stampNow } from './stamps.js';
import { SynodError } from '../errors.js';
import { ensureDir } from './storage/files.js';
import { REGISTRY_DIR } from './storage/registry.js';
import { CRASH_MODES, type CrashMode, type CrashPoint, type ErrorData } from './wire.js';
import type { DetectorOptions } from '../host/failure-detector.js';
import { HealthMonitor, systemsProblem, type ClusterHealth, type HealthChange, type Systems } from './health.js';

/** The ways {@link SupervisedCluster.crashSystem} can crash a system's actors: the crash modes that act at once. */
export type SystemCrashMode = Extract<CrashMode, 'exception' | 'exit' | 'terminate'>;

/** The control calls every kind of actor worker answers. */
export interface CommonControl {
  /** The actor's report: thread id, incarnation, state text, counters. */
  state(): unknown;
  /** Crash now by an uncaught exception or by process.exit. Never answers: the call fails once the worker is seen dead. */
  crash(how: 'exception' | 'exit'): Promise<never>;
  /** Arm a one-shot crash point. */
  arm(point: CrashPoint): void;
  /** Stop stepping the mailbox (what arrives queues up). */
  pause(): void;
  /** Step the mailbox again, starting with what queued up while paused. */
  resume(): void;
  /** Sets the fault rules of the actor's outgoing links. */
  setLinks(links: OutgoingLinks): void;
  /** Test hook: treat `raw` as if it arrived on the link from `via`. */
  inject(raw: unknown, via: ActorId): void;
}

/** A cluster of supervised actors; see the module comment. `E` are the subclass's events, which include `trace`. */
export abstract class SupervisedCluster<P extends WorkerProtocol & { readonly control: CommonControl }, E extends Record<keyof E, unknown[]>> extends EventEmitter<E> {
  /** Set by the subclass's constructor, which builds the supervisor with its own worker protocol. */
  protected abstract readonly supervisor: Supervisor<P>;
  /** The live trace, with `trace: true`; see {@link startTracing}. */
  protected tracer: TraceCollector | null = null;

  /** The cluster's members, set by the subclass's constructor. */
  protected abstract readonly members: Membership;
  /** The link rules (partitions and per-link faults); each actor gets the rules of its outgoing links. */
  protected readonly links = new LinkTable();
  /** Who is alive, set by {@link watchHealth}. */
  private monitor: HealthMonitor | null = null;
  private systems: Systems = {};
  /** Emits health changes as `suspect` and `alive` events (set by {@link watchHealth}). */
  private emitHealth: (changes: readonly HealthChange[]) => void = () => {};

  /** Stops every worker and removes a temporary data directory; see the subclasses. */
  abstract close(): Promise<void>;

  /**
   * Closes the cluster, so that `await using cluster = await createCluster(...)`
   * closes it when the block is left, however it is left. Symbol.asyncDispose
   * exists in every Node this package supports (20.19 and later).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What every trace's `source` says about this cluster (shape, transport, protocol). */
  protected abstract traceSource(): Readonly<Record<string, unknown>>;

  /**
   * Starts every actor (the subclass's start calls it) and resolves when
   * the cluster can work: a majority of the acceptors, a proposer and (if
   * there are any) a learner serve. An actor that fails to start — a lost
   * or corrupt store is one — is left failed ({@link failure} says why) and
   * does not stop the others. Rejects with SYNOD_START_FAILED, naming every
   * failed actor and its cause, when the data directory cannot be made or
   * too few actors start. The caller closes the cluster on a rejection.
   */
  protected async startActors(dataDir: string | null): Promise<void> {
    if (dataDir !== null) {
      try {
        ensureDir(join(dataDir, REGISTRY_DIR), 'the cluster\'s data directory');
      } catch (err) {
        throw new SynodError('SYNOD_START_FAILED', `data directory ${dataDir} cannot be used: ${(err as Error).message}`, { cause: err });
      }
    }
    await this.supervisor.start();
    const ids = allActors(this.members);
    const failed = ids.filter((id) => this.supervisor.status(id) === 'failed');
    if (failed.length === 0) return;
    const serving = (ids: readonly ActorId[]) => ids.filter((id) => this.supervisor.status(id) === 'running').length;
    const { proposers, acceptors, learners } = this.members;
    const missing: string[] = [];
    if (serving(acceptors) * 2 <= acceptors.length) missing.push(`a majority of the ${acceptors.length} acceptors (${serving(acceptors)} started)`);
    if (serving(proposers) === 0) missing.push('a proposer');
    if (learners.length > 0 && serving(learners) === 0) missing.push('a learner');
    if (missing.length === 0) return;
    const causes = failed.map((id) => `${id}: ${this.supervisor.failure(id)?.message ?? 'failed'}`).join('; ');
    throw new SynodError('SYNOD_START_FAILED', `${failed.length} of ${ids.length} actors failed to start, and the cluster cannot run without ${missing.join(' and ')}; ${causes}`);
  }

  /**
   * Why actor `id` is failed (its error as data: name, message, code), or
   * null while it is not. After a start in which some actors failed but a
   * quorum started, this says what is wrong with each failed one.
   */
  failure(id: ActorId): ErrorData | null {
    return this.supervisor.failure(id);
  }

  /** Cuts every link between `a` and `b`, both ways, until {@link heal}. Resolves once every live actor applies it. */
  async partition(a: readonly ActorId[], b: readonly ActorId[]): Promise<void> {
    for (const id of [...a, ...b]) this.supervisor.status(id);
    this.traceFault(`partition {${a.join(',')}} | {${b.join(',')}}`);
    this.links.partition(a, b);
    return this.pushLinks([...a, ...b]);
  }

  /** Removes every partition (link faults stay). */
  async heal(): Promise<void> {
    this.traceFault('heal every partition');
    this.links.heal();
    return this.pushLinks(allActors(this.members));
  }

  /** Sets drop/dup/delay faults on the directed link `from` -> `to`, applied by `from` as it sends. All zero removes them. */
  async setLinkFaults(from: ActorId, to: ActorId, faults: LinkFaults): Promise<void> {
    this.supervisor.status(from);
    this.supervisor.status(to);
    const parsed = parseOptions(linkFaultsSchema, faults, 'link faults', 'SYNOD_INVALID_ARGUMENT');
    this.traceFault(`link ${from} -> ${to}: ${JSON.stringify(parsed)}`);
    this.links.setFaults(from, to, parsed);
    return this.pushLinks([from]);
  }

  /** Sends each of `ids` the current rules of its outgoing links; resolves once every live one has them. */
  protected async pushLinks(ids: readonly ActorId[]): Promise<void> {
    // An actor that is down gets the current table when it starts; a failed one none.
    const push = (id: ActorId) => this.supervisor.call(id, (c) => c.setLinks(this.links.outgoing(id))).catch(() => {});
    await Promise.all([...new Set(ids)].map(push));
  }

  /** Turns tracing on with one lane per actor, in this order; every event is also emitted as `trace`. */
  protected startTracing(lanes: readonly ActorId[]): void {
    this.tracer = new TraceCollector(lanes, (e) => (this as EventEmitter).emit('trace', e));
  }

  /** Puts the supervisor's crashes and restarts on the actors' lanes (call once the supervisor exists). */
  protected traceLifecycle(): void {
    this.supervisor.on('crash', (e) => this.tracer?.addHere({ actor: e.id, kind: 'crash', text: `crashed (${e.how}): ${e.cause.message}` }));
    this.supervisor.on('restart', (e) =>
      this.tracer?.addHere({ actor: e.id, kind: 'restart', text: `${e.planned ? 'restarted' : 'recovered'} after ${e.recoveryMs.toFixed(1)} ms (thread ${e.threadId})` }),
    );
  }

  /**
   * Places the actors on `systems`. Subclasses call it as soon as the
   * members are known, before anything is made on disk. Throws
   * SYNOD_INVALID_OPTIONS (`what` names the options) for a system naming an
   * actor that is not one, or an actor placed on two systems.
   */
  protected placeSystems(systems: Systems, what: string): void {
    const problem = systemsProblem(systems, allActors(this.members));
    if (problem !== null) throw new SynodError('SYNOD_INVALID_OPTIONS', `invalid ${what}: ${problem}`);
    this.systems = systems;
  }

  /**
   * Makes every actor watch its peers with a failure detector of these
   * settings (null: no pings), and feeds {@link health} and the `suspect`
   * and `alive` events. Subclasses call it once the supervisor exists,
   * before starting it.
   */
  protected watchHealth(failureDetector: DetectorOptions | null): void {
    const ids = allActors(this.members);
    const monitor = new HealthMonitor(ids, (id) => this.supervisor.peersOf(id), this.systems, stampNow);
    this.monitor = monitor;
    this.supervisor.watchPeers(failureDetector);
    const emit = (changes: readonly HealthChange[]) => {
      for (const c of changes) (this as EventEmitter).emit(c.status === 'alive' ? 'alive' : 'suspect', c);
    };
    this.emitHealth = emit;
    this.supervisor.on('health', (id, changes) => emit(monitor.observed(id, changes)));
    this.supervisor.on('crash', (e) => emit(monitor.threadDown(e.id, `its thread exited (${e.how}): ${e.cause.message}`)));
    this.supervisor.on('failed', (e) => emit(monitor.threadDown(e.id, `failed, not restarted: ${e.cause.message}`)));
    this.supervisor.on('ready', (id) => emit(monitor.threadUp(id)));
  }

  /** The actors changed (a reconfiguration added or removed some): health follows {@link members} from now on. */
  protected actorsChanged(): void {
    if (this.monitor !== null) this.emitHealth(this.monitor.setActors(allActors(this.members)));
  }

  /**
   * Who is alive now: per actor alive, suspected (its thread runs but no
   * live peer hears it) or dead (its thread is down), per directed link
   * alive or suspected (its receiver does not hear its sender), per system
   * alive, suspected or dead; each with since when (epoch ms) and why.
   * Print it with formatHealth.
   */
  health(): ClusterHealth {
    return (this.monitor as HealthMonitor).report();
  }

  /**
   * Crashes every actor of system `system` at once, as a machine crash
   * would (default: `terminate`, the thread killed from outside with no
   * chance to run anything; see {@link crash}). Resolves once the
   * supervisor has seen each of them die; the supervisor restarts them as
   * usual. An unknown system or mode is a SYNOD_INVALID_ARGUMENT error.
   */
  async crashSystem(system: string, how: SystemCrashMode = 'terminate'): Promise<void> {
    const actors = Object.hasOwn(this.systems, system) ? this.systems[system] : undefined;
    if (actors === undefined) {
      const known = Object.keys(this.systems);
      throw new SynodError('SYNOD_INVALID_ARGUMENT', `no system ${JSON.stringify(system)}; ${known.length === 0 ? 'this cluster has none (create it with the systems option)' : `the systems are ${known.join(', ')}`}`);
    }
    if (!(['exception', 'exit', 'terminate'] as const).includes(how)) throw new SynodError('SYNOD_INVALID_ARGUMENT', `a system crashes at once: use exception, exit or terminate, not ${JSON.stringify(how)}`);
    this.traceFault(`crash system ${system}: ${actors.join(', ')} (${how})`);
    // Actors a reconfiguration removed are gone already.
    const current = allActors(this.members);
    await Promise.all(actors.filter((id) => current.includes(id)).map((id) => this.crash(id, how)));
  }

  /** Puts a fault injected from outside on the `env` lane. */
  protected traceFault(text: string): void {
    this.tracer?.addHere({ actor: 'env', kind: 'fault', text });
  }

  /** Puts a violation the checker found on the `env` lane. */
  protected traceViolation(v: Violation): void {
    this.tracer?.addHere({ actor: 'env', kind: 'note', text: `safety violation (${v.kind}): ${v.message}` });
  }

  /**
   * Crashes actor `id` (default: an uncaught exception in its worker), or
   * arms a crash point in it. Resolves once the supervisor has seen the
   * worker die (so a call made next waits for the restart instead of
   * failing on the dying worker), or once the crash point is armed; an actor
   * that is down already is left alone. The supervisor restarts it.
   * An unknown mode or actor is a SYNOD_INVALID_ARGUMENT error, not a no-op.
   */
  async crash(id: ActorId, how: CrashMode = 'exception'): Promise<void> {
    if (!CRASH_MODES.includes(how)) throw new SynodError('SYNOD_INVALID_ARGUMENT', `unknown crash mode ${JSON.stringify(how)}: use ${CRASH_MODES.join(', ')}`);
    if (!allActors(this.members).includes(id)) throw new SynodError('SYNOD_INVALID_ARGUMENT', `${JSON.stringify(id)} is not an actor of this cluster; the actors are ${allActors(this.members).join(', ')}`);
    const status = this.supervisor.status(id);
    if (status !== 'running' && status !== 'starting') return;
    this.traceFault(how === 'after-receive' || how === 'after-persist' ? `arm crash point ${how} in ${id}` : `crash ${id} (${how})`);
    if (how === 'terminate') return this.supervisor.terminate(id);
    try {
      await this.supervisor.call(id, (c) => (how === 'exception' || how === 'exit' ? c.crash(how) : c.arm(how)));
    } catch (err) {
      // The actor went down (the point of the call) or was given up on meanwhile.
      if (!(err instanceof SynodError)) throw err;
    }
  }

  /** Stops actor `id` (not counted as a crash) and starts it again; resolves when it serves. Also revives a failed actor. */
  restart(id: ActorId): Promise<void> {
    return this.supervisor.restart(id);
  }

  /** Where actor `id` is in its life cycle. */
  status(id: ActorId): ActorStatus {
    return this.supervisor.status(id);
  }

  /** The state report of actor `id`: thread id, state text, counters (waits while it restarts). */
  state(id: ActorId): Promise<ReturnType<P['control']['state']>> {
    return this.supervisor.call(id, (c) => c.state() as Promise<ReturnType<P['control']['state']>>);
  }

  /** Stops actor `id` from stepping its mailbox; what arrives queues up (peer messages up to the mailbox limit). */
  pause(id: ActorId): Promise<void> {
    return this.supervisor.call(id, (c) => c.pause() as Promise<void>);
  }

  /** Lets a paused actor step its mailbox again. */
  resume(id: ActorId): Promise<void> {
    return this.supervisor.call(id, (c) => c.resume() as Promise<void>);
  }

  /**
   * Test hook: hands `raw` to actor `id` as if it had arrived on its link
   * from `via` (default: a stranger), through the same validation as real
   * traffic. `raw` must be structured-cloneable.
   */
  inject(id: ActorId, raw: unknown, via: ActorId = 'stranger'): Promise<void> {
    return this.supervisor.call(id, (c) => c.inject(raw, via) as Promise<void>);
  }

  /** The trace events recorded so far (empty unless the cluster was created with `trace: true`). */
  get traceEvents(): readonly TraceEvent[] {
    return this.tracer?.events ?? [];
  }

  /**
   * The trace recorded so far, as a {@link Trace} (write it with
   * writeTraceFile). `source` is merged into its `source` field. Throws
   * SYNOD_INVALID_ARGUMENT unless the cluster traces.
   */
  traceOf(source: Readonly<Record<string, unknown>> = {}): Trace {
    if (this.tracer === null) throw new SynodError('SYNOD_INVALID_ARGUMENT', 'this cluster does not trace; create it with trace: true');
    return this.tracer.trace({ ...this.traceSource(), ...source });
  }
}
