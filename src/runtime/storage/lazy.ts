/**
 * The no-fsync experiment's store: it breaks the durability rule on purpose.
 *
 * `persist` resolves at once, so the replies riding on a write leave before
 * the write is durable; the latest record reaches the real store only every
 * `flushEveryMs`. When the worker dies, whatever was not flushed yet is lost,
 * exactly as an acceptor that acknowledges before its fsync loses its
 * promise when the machine loses power. Never use it but to show why the
 * rule exists (`createCluster({ noFsync: true })`, `synod chaos --experiment no-fsync`).
 */
import type { DurableRecord } from '../../core/effects.js';
import type { ActorStore } from './types.js';

/** Wraps `inner` so that writes are acknowledged at once and flushed to it every `flushEveryMs`. */
export function lazyStore(inner: ActorStore, flushEveryMs: number): ActorStore {
  let pending: DurableRecord | null = null;
  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (pending === null) return flushing;
    const record = pending;
    pending = null;
    flushing = flushing.then(() => inner.persist(record));
    return flushing;
  };
  const timer = setInterval(() => void flush(), flushEveryMs);
  // The timer must not keep a finished worker alive.
  timer.unref();
  return {
    path: inner.path,
    load: () => inner.load(),
    async persist(record: DurableRecord): Promise<void> {
      pending = record;
    },
    async close(): Promise<void> {
      clearInterval(timer);
      await flush();
      await inner.close();
    },
  };
}
