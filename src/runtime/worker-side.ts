/**
 * What differs between the protocols on the worker side, as data the one
 * worker entry (workers/actor.ts) is generic over: which core protocol it
 * hosts, how it opens its storage (one durable record per actor for
 * single-decree Paxos, a record log for Multi-Paxos), how client requests
 * arrive from the main thread, and how its outputs reach the main thread
 * (single-decree: one message per decision and per durable record;
 * Multi-Paxos: one report per turn, shaped for throughput, see mpwire.ts).
 *
 * This module holds only what both sides share: the shape of a side, and
 * the loaders of each side's modules. The single-decree side is in
 * ./worker-side-synod.ts, the Multi-Paxos side in
 * ./worker-side-multipaxos.ts, and a worker loads only its own cluster's
 * (see {@link loadSynodSide} and {@link loadMultiPaxosSide}): a
 * single-decree worker never loads the replicated log, its core or the
 * key-value machine, and a key-value worker never loads the single-decree
 * core, its store or its rehearsal.
 */
import type { ProtocolTypes, Protocol } from '../host/protocol.js';
import type { RawTraceEvent } from '../trace/types.js';
import { dirname, join } from 'node:path';
import { REGISTRY_DIR } from './storage/registry.js';
import type { StorageSpec, WorkerBoot } from './wire.js';

/** An actor's storage, as the worker sees it: replay what was written, append more. */
export interface WorkerStorage<R> {
  load(): Promise<R[]>;
  /** Resolves once `records` are durable (or committed, for the storage experiments). */
  append(records: readonly R[]): Promise<void>;
  /** Waits for pending writes, then closes (an actor stopped for good closes its store before its thread parks). */
  close(): Promise<void>;
}

/** Collects what the main thread should hear of a turn and posts it at the end of the turn. */
export interface Reporter<T extends ProtocolTypes> {
  output(e: T['effect']): void;
  durable(records: readonly T['record'][]): void;
  /** Posts what the turn has for the main thread; `trace` holds its trace events (tracing only), which go first. */
  flush(post: (msg: unknown) => void, trace: RawTraceEvent[] | null): void;
  /** Extra fields of the actor's state report, given the core's state. */
  extra(state: T['state']): object;
}

/** One protocol's worker side. */
export interface WorkerSide<T extends ProtocolTypes, I> {
  readonly protocol: Protocol<T>;
  openStorage(init: I): Promise<WorkerStorage<T['record']>>;
  /** The reporter of one incarnation, which recovered `records`. */
  reporter(init: I, records: readonly T['record'][]): Reporter<T>;
  /** What the 'ready' message says the actor recovered. */
  recovered(state: T['state'], records: readonly T['record'][]): unknown;
  /** The client requests in a post from the main thread, or null if the post is not a request. */
  requests(post: { readonly type: string }): T['request'][] | null;
  /**
   * Runs the protocol's rehearsal (src/host/rehearse.ts) among scratch
   * actors, for an idle worker to compile the turn code ahead of its first
   * requests; resolves with the rehearsal's outputs. Null for a protocol
   * that does not rehearse.
   */
  readonly rehearse: (() => Promise<T['effect'][]>) | null;
}

type LogModule = typeof import('./storage/log.js');
type LmdbModule = typeof import('./storage/lmdb.js');
type EnvironmentModule = typeof import('./storage/environment.js');
type MultiPaxosSideModule = typeof import('./worker-side-multipaxos.js');
type SynodSideModule = typeof import('./worker-side-synod.js');

/**
 * The storage modules load lmdb, so they are loaded only once the worker has
 * started listening for 'halt' (see workers/actor.ts); a spare worker loads
 * them ahead of the restart that will take it.
 */
/** `load`, run at most once: every call returns the first call's promise. A failure is reported by the start that needs the module. */
function loadOnce<M>(load: () => Promise<M>): () => Promise<M> {
  let loaded: Promise<M> | null = null;
  return () => {
    if (loaded === null) {
      loaded = load();
      loaded.catch(() => {});
    }
    return loaded;
  };
}

/** The record log's module (Multi-Paxos storage, in memory or in LMDB). */
export const loadLog = loadOnce<LogModule>(() => import('./storage/log.js'));
/** The single-decree LMDB store's module. */
export const loadLmdb = loadOnce<LmdbModule>(() => import('./storage/lmdb.js'));
/** The LMDB environment's module, which both stores open theirs with (and lmdb with it). */
const loadEnvironment = loadOnce<EnvironmentModule>(() => import('./storage/environment.js'));
/** The Multi-Paxos worker side's module, with the replicated log's core and the key-value machine. */
export const loadMultiPaxosSide = loadOnce<MultiPaxosSideModule>(() => import('./worker-side-multipaxos.js'));
/** The single-decree worker side's module, with the single-decree core and its store. */
export const loadSynodSide = loadOnce<SynodSideModule>(() => import('./worker-side-synod.js'));

/**
 * Loads what an actor described by `boot` needs: its protocol's worker side
 * and, with LMDB storage, its store's module (the record log for a
 * key-value actor, which it needs in memory too), side by side rather than
 * one after the other. Never rejects: a module that fails to load is
 * reported by the start that needs it.
 */
export function loadSideModules(boot: WorkerBoot): Promise<void> {
  const loads: Promise<unknown>[] = boot.protocol === 'multipaxos' ? [loadMultiPaxosSide(), loadLog()] : [loadSynodSide(), ...(boot.lmdb ? [loadLmdb()] : [])];
  return Promise.all(loads).then(
    () => {},
    () => {},
  );
}

/**
 * What a spare does ahead of the restart that will take it: loads what an
 * actor described by `boot` needs (see {@link loadSideModules}; both
 * protocols' modules without `boot`), and starts lmdb's per-thread set-up
 * if it will use LMDB (whose write and close finish on their own), then,
 * for a key-value actor, the record log's warm-up. Resolves
 * once the modules are loaded; never rejects.
 */
export function preloadStorage(boot?: WorkerBoot): Promise<void> {
  const loads: Promise<unknown>[] = boot === undefined ? [loadSideModules({ protocol: 'synod', lmdb: true }), loadSideModules({ protocol: 'multipaxos', lmdb: true })] : [loadSideModules(boot)];
  // The warm-ups are not waited for (their writes and closes finish on their own); a key-value spare's log warm-up follows lmdb's.
  const logs = boot?.protocol === 'multipaxos';
  if (boot === undefined || boot.lmdb) loads.push(loadEnvironment().then((m) => void m.warmUpLmdb().then(() => (logs ? loadMultiPaxosSide().then((side) => side.warmUpLog()) : undefined)).catch(() => {})));
  return Promise.all(loads).then(
    () => {},
    () => {},
  );
}

/**
 * The file-safety options of an actor's LMDB store: the registry of actors
 * that have existed sits beside the actors' directories, in the cluster's
 * data directory (each actor's store is `<data directory>/<actor id>`).
 */
export function fileSafety(id: string, spec: Extract<StorageSpec, { kind: 'lmdb' }>) {
  return { actorId: id, registryDir: join(dirname(spec.dir), REGISTRY_DIR), ...(spec.minFreeBytes !== undefined ? { minFreeBytes: spec.minFreeBytes } : {}) };
}

/**
 * Runs the rehearsal of the protocol `boot` names, if it has one (see
 * {@link WorkerSide.rehearse}). Never rejects: a rehearsal that fails only
 * leaves the turn code uncompiled.
 */
export async function rehearseProtocol(boot?: WorkerBoot): Promise<void> {
  try {
    if (boot?.protocol === 'synod') await (await loadSynodSide()).synodWorkerSide.rehearse?.();
    else if (boot?.protocol === 'multipaxos') await (await loadMultiPaxosSide()).multiPaxosWorkerSide.rehearse?.();
  } catch {
    // Nothing to do: see above.
  }
}
