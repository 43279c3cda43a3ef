/**
 * What differs between the protocols on the worker side, as data the one
 * worker entry (workers/actor.ts) is generic over: which core protocol it
 * hosts, how it opens its storage (one durable record per actor for
 * single-decree Paxos, a record log for Multi-Paxos), how client requests
 * arrive from the main thread, and how its outputs reach the main thread
 * (single-decree: one message per decision and per durable record;
 * Multi-Paxos: one report per turn, shaped for throughput, see mpwire.ts).
 */
import type { Ballot } from '../core/ballot.js';
import type { DurableRecord } from '../core/effects.js';
import type { MpRecord } from '../core/multipaxos/types.js';
import type { Protocol, ProtocolTypes } from '../host/protocol.js';
import { multiPaxosProtocol, type MultiPaxosTypes } from '../host/multipaxos.js';
import { synodProtocol, type SynodTypes } from '../host/synod.js';
import { kvClient } from '../machines/kv/client.js';
import type { ClientMachine } from './client/log-client.js';
import type { Value } from '../core/value.js';
import type { RawTraceEvent } from '../trace/types.js';
import { dirname, join } from 'node:path';
import { lazyStore } from './storage/lazy.js';
import { REGISTRY_DIR } from './storage/registry.js';
import { openMemoryStore } from './storage/memory.js';
import type { KvView, MpRecovered, MpTurnReport, MpWorkerInit, ReconfigAnswer } from './mpwire.js';
import { lastView, type View } from '../core/multipaxos/views.js';
import type { Command } from '../core/multipaxos/types.js';
import type { ActorId } from '../core/ids.js';
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
}

type LogModule = typeof import('./storage/log.js');
type LmdbModule = typeof import('./storage/lmdb.js');

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
const loadLog = loadOnce<LogModule>(() => import('./storage/log.js'));
/** The single-decree LMDB store's module. */
const loadLmdb = loadOnce<LmdbModule>(() => import('./storage/lmdb.js'));

/**
 * Loads, off the path of a start, the storage modules an actor described by
 * `boot` will need (all of them without `boot`), and starts lmdb's
 * per-thread set-up if it will use LMDB (whose write and close finish on
 * their own). Resolves once the modules are loaded; never rejects (a module
 * that fails to load is reported by the start that needs it).
 */
export function preloadStorage(boot?: WorkerBoot): Promise<void> {
  const loads: Promise<unknown>[] = [];
  if (boot === undefined || boot.protocol === 'multipaxos') loads.push(loadLog());
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
function fileSafety(id: string, spec: Extract<StorageSpec, { kind: 'lmdb' }>) {
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
};

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
  return { epoch: v.epoch, from: v.from, acceptors: v.members.acceptors, learners: v.members.learners };
}

/** A learner's answer to reconfiguration `command`, applied at `slot` with `result` (see applyReconfig in the learner). */
function reconfigAnswer(command: Command, slot: number, result: Value): ReconfigAnswer {
  const r = result as unknown as { readonly done: boolean; readonly epoch: number; readonly from: number; readonly acceptors: readonly ActorId[]; readonly learners: readonly ActorId[] };
  return { clientId: command.clientId, seq: command.seq, slot, done: r.done, view: { epoch: r.epoch, from: r.from, acceptors: r.acceptors, learners: r.learners } };
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
            (report.learned ??= []).push({ slot: e.slot, batch: e.batch });
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
        for (const r of records) durable.push(r);
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
};

