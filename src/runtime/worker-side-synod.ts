/**
 * The single-decree worker side (see ./worker-side.ts): one durable record
 * per actor. A worker loads this module only if its cluster is a
 * single-decree cluster (loadSynodSide), so that a key-value worker never
 * loads the single-decree core, its store or its rehearsal.
 */
import { coreConfig } from '../core/config.js';
import type { DurableRecord } from '../core/effects.js';
import { membership, roleOf, type ActorId, type Role } from '../core/ids.js';
import type { Value } from '../core/value.js';
import { rehearse } from '../host/rehearse.js';
import { synodProtocol, type SynodTypes } from '../host/synod.js';
import { lazyStore } from './storage/lazy.js';
import { openMemoryStore } from './storage/memory.js';
import type { StorageSpec, WorkerInit } from './wire.js';
import { fileSafety, loadLmdb, type WorkerSide, type WorkerStorage } from './worker-side.js';

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
    close: () => s.close(),
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

