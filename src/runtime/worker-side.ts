/**
 * What differs between the protocols on the worker side, as data the one
 * worker entry (workers/actor.ts) is generic over: which core protocol it
 * hosts, how it opens its storage (one durable record per actor for
 * single-decree Paxos, a record log for Multi-Paxos), how client requests
 * arrive from the main thread, and how its outputs reach the main thread
 * (single-decree: one message per decision and per durable record;
 * Multi-Paxos: one report per turn, shaped for throughput, see mpwire.ts).
 *
 * The single-decree side is here; the Multi-Paxos side is in
 * ./worker-side-multipaxos.ts, which a worker loads only if its cluster is a
 * key-value cluster (see {@link loadMultiPaxosSide}): a single-decree worker
 * then never loads the replicated log, its core or the key-value machine.
 */
import { coreConfig } from '../core/config.js';
import type { DurableRecord } from '../core/effects.js';
import { membership, roleOf, type ActorId, type Role } from '../core/ids.js';
import type { Protocol, ProtocolTypes } from '../host/protocol.js';
import { rehearse } from '../host/rehearse.js';
import { synodProtocol, type SynodTypes } from '../host/synod.js';
import type { Value } from '../core/value.js';
import type { RawTraceEvent } from '../trace/types.js';
import { dirname, join } from 'node:path';
import { lazyStore } from './storage/lazy.js';
import { REGISTRY_DIR } from './storage/registry.js';
import { openMemoryStore } from './storage/memory.js';
import type { StorageSpec, WorkerBoot, WorkerInit } from './wire.js';

/** An actor's storage, as the worker sees it: replay what was written, append more. */
export interface WorkerStorage<R> {
  load(): Promise<R[]>;
  /** Resolves once `records` are durable (or committed, for the storage experiments). */
  append(records: readonly R[]): Promise<void>;
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
type MultiPaxosSideModule = typeof import('./worker-side-multipaxos.js');

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
const loadLmdb = loadOnce<LmdbModule>(() => import('./storage/lmdb.js'));
/** The Multi-Paxos worker side's module, with the replicated log's core and the key-value machine. */
export const loadMultiPaxosSide = loadOnce<MultiPaxosSideModule>(() => import('./worker-side-multipaxos.js'));

/**
 * Loads, off the path of a start, the storage modules an actor described by
 * `boot` will need (all of them without `boot`), with the Multi-Paxos worker
 * side if it is a key-value actor, and starts lmdb's per-thread set-up if it
 * will use LMDB (whose write and close finish on their own). Resolves once
 * the modules are loaded; never rejects (a module that fails to load is
 * reported by the start that needs it).
 */
export function preloadStorage(boot?: WorkerBoot): Promise<void> {
  const loads: Promise<unknown>[] = [];
  if (boot === undefined || boot.protocol === 'multipaxos') loads.push(loadLog(), loadMultiPaxosSide());
  if (boot === undefined || boot.lmdb) loads.push(loadLmdb().then((m) => void m.warmUpLmdb()));
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

async function openSynodStore(id: string, role: WorkerInit['role'], spec: StorageSpec): Promise<WorkerStorage<DurableRecord>> {
  let store;
  if (spec.kind === 'memory') store = openMemoryStore();
  else {
    store = await (await loadLmdb()).openLmdbStore(spec.dir, { ...fileSafety(id, spec), role, durable: spec.durable });
    if (spec.lazyFlushMs !== undefined) store = lazyStore(store, spec.lazyFlushMs);
  }
  const s = store;
  return {
    load: async () => {
      const record = await s.load();
      return record === null ? [] : [record];
    },
    // Each record is the role's whole durable state: the latest of an append is all that needs to reach the disk.
    append: (records) => s.persist(records[records.length - 1] as DurableRecord),
  };
}

/**
 * The single-decree rehearsal: one decision of a 1/3/1 cluster, each scratch
 * actor writing to an in-memory store of its own, as a worker's actor with
 * in-memory storage does (which encodes and checks its records as LMDB's
 * does). A single-decree cluster decides once, so without it every function
 * of its decision would be compiled on that decision's path.
 */
function rehearseSynod(): Promise<SynodTypes['effect'][]> {
  const members = membership(1, 3, 1);
  const stores = new Map<ActorId, Promise<WorkerStorage<DurableRecord>>>();
  return rehearse(synodProtocol, {
    config: coreConfig(members),
    requests: [['p1', 'rehearsal']],
    maxValueBytes: 64 * 1024,
    append(id, records) {
      let store = stores.get(id);
      if (store === undefined) stores.set(id, (store = openSynodStore(id, roleOf(members, id) as Role, { kind: 'memory' })));
      return store.then((s) => s.append(records));
    },
  });
}

/** The single-decree worker side. */
export const synodWorkerSide: WorkerSide<SynodTypes, WorkerInit> = {
  protocol: synodProtocol,
  openStorage: (init) => openSynodStore(init.id, init.role, init.storage),
  reporter(_init, records) {
    let posts: unknown[] = [];
    // The last record known durable: recovered, or written since.
    let durable: DurableRecord | null = records.at(-1) ?? null;
    return {
      output(e) {
        if (e.type === 'decide' || e.type === 'chosen') posts.push({ type: e.type, ballot: e.ballot, value: e.value });
      },
      durable(records) {
        for (const record of records) {
          durable = record;
          posts.push({ type: 'durable', record });
        }
      },
      flush(post, trace) {
        if (trace !== null && trace.length > 0) post({ type: 'trace', events: trace });
        const out = posts;
        posts = [];
        for (const p of out) post(p);
      },
      extra: () => ({ durable }),
    };
  },
  recovered: (_state, records) => records.at(-1) ?? null,
  requests: (post) => (post.type === 'propose' ? [(post as unknown as { readonly value: Value }).value] : null),
  rehearse: rehearseSynod,
};

/**
 * Runs the rehearsal of the protocol `boot` names, if it has one (see
 * {@link WorkerSide.rehearse}). Never rejects: a rehearsal that fails only
 * leaves the turn code uncompiled.
 */
export async function rehearseProtocol(boot?: WorkerBoot): Promise<void> {
  try {
    if (boot?.protocol === 'synod') await synodWorkerSide.rehearse?.();
    else if (boot?.protocol === 'multipaxos') await (await loadMultiPaxosSide()).multiPaxosWorkerSide.rehearse?.();
  } catch {
    // Nothing to do: see above.
  }
}
