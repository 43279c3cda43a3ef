/**
 * The edges of the public API: whatever an application hands to propose,
 * put, get, cas or crash, the answer is a rejected promise with a
 * SynodError that says what is wrong — never a synchronous throw, a
 * DataCloneError from deep inside, a silent no-op, or a value that comes
 * back changed (-0 and holes in arrays are refused, not rewritten). Keys,
 * like values, have a size limit, and so do the batches actors exchange.
 */
import { describe, expect, it } from 'vitest';
import type { Value } from '../../src/core/value.js';
import { SynodError } from '../../src/errors.js';
import { createKvCluster, maxBatchBytes, type KvCluster, type KvClusterOptions } from '../../src/runtime/kv-cluster.js';
import { withCluster } from './fixtures/helpers.js';

/** The error a call ended with: what it threw synchronously is a failure of the test, not an answer. */
function outcome(call: () => Promise<unknown>): Promise<unknown> {
  let p: Promise<unknown>;
  try {
    p = call();
  } catch (err) {
    return Promise.resolve({ threwSynchronously: err });
  }
  return p.then(
    (v) => ({ resolved: v }),
    (e: unknown) => e,
  );
}

const invalid = (pattern: RegExp) => expect.objectContaining({ name: 'SynodError', code: 'SYNOD_INVALID_ARGUMENT', message: expect.stringMatching(pattern) });

const throwingGetter = (): Value => {
  const v = {};
  Object.defineProperty(v, 'x', { enumerable: true, get: () => { throw new Error('boom'); } });
  return v as Value;
};
const proxy = (): Value => new Proxy({ a: 1 }, {}) as Value;
// eslint-disable-next-line no-sparse-arrays
const sparse = (): Value => [1, , 3] as Value;

async function withKv<T>(options: KvClusterOptions, body: (kv: KvCluster) => Promise<T>): Promise<T> {
  const kv = await createKvCluster(options);
  try {
    return await body(kv);
  } finally {
    await kv.close();
  }
}

describe('single-decree cluster: propose and crash', () => {
  it('refuses bad values, timeouts and crash modes with a SynodError', async () => {
    await withCluster({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory' }, async (cluster) => {
      expect(await outcome(() => cluster.propose(throwingGetter()))).toEqual(invalid(/getter/));
      expect(await outcome(() => cluster.propose(proxy()))).toEqual(invalid(/Proxy/));
      expect(await outcome(() => cluster.propose(-0))).toEqual(invalid(/not -0/));
      expect(await outcome(() => cluster.propose(sparse()))).toEqual(invalid(/without holes/));
      expect(await outcome(() => cluster.propose('v', { timeoutMs: -5 }))).toEqual(invalid(/timeoutMs/));
      expect(await outcome(() => cluster.propose('v', { timeoutMs: Number.NaN }))).toEqual(invalid(/timeoutMs/));
      expect(await outcome(() => cluster.crash('a1', 'bogus' as never))).toEqual(invalid(/unknown crash mode "bogus"/));
      expect(await outcome(() => cluster.crash('zz'))).toEqual(invalid(/not an actor/));
      // The cluster still works, and a value with 0 and null in place of -0 and a hole comes back as it went.
      expect(await cluster.propose([0, null, 3], { timeoutMs: 60_000 })).toEqual([0, null, 3]);
    });
  });
});

describe('key-value cluster: put, get, cas', () => {
  it('rejects (never throws) bad values and over-long keys with a SynodError, and still serves', async () => {
    await withKv({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory', maxKeyBytes: 64 }, async (kv) => {
      expect(await outcome(() => kv.put('k', throwingGetter()))).toEqual(invalid(/reading it threw|getter/));
      expect(await outcome(() => kv.put('k', proxy()))).toEqual(invalid(/Proxy/));
      expect(await outcome(() => kv.cas('k', null, proxy()))).toEqual(invalid(/Proxy/));
      expect(await outcome(() => kv.put('k', -0))).toEqual(invalid(/not -0/));
      expect(await outcome(() => kv.put('k', sparse()))).toEqual(invalid(/without holes/));
      const longKey = 'k'.repeat(10 * 1024 * 1024);
      expect(await outcome(() => kv.put(longKey, 1))).toEqual(invalid(/more than maxKeyBytes \(64\)/));
      expect(await outcome(() => kv.get(longKey))).toEqual(invalid(/maxKeyBytes/));
      expect(await outcome(() => kv.put('é'.repeat(40), 1))).toEqual(invalid(/80 bytes of UTF-8/));
      await kv.put('k'.repeat(64), [0, null]);
      expect(await kv.get('k'.repeat(64))).toEqual([0, null]);
    });
  });

  it('an actor drops, as oversized, a batch from a peer larger than any the client could make', async () => {
    const options = { batchMax: 1, maxKeyBytes: 16, maxValueBytes: 16 };
    await withKv({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory', ...options }, async (kv) => {
      const bound = maxBatchBytes(options);
      const big = JSON.stringify([{ clientId: 'c', seq: 1, op: { f: 'write', key: 'k', value: 'x'.repeat(bound) } }]);
      const ballot = { round: 1, proposer: 'p1' };
      await kv.inject('a1', { type: 'accept', from: 'p1', ballot, entries: [{ slot: 0, value: big }] }, 'p1');
      const a1 = await kv.state('a1');
      expect(a1.counters.dropped.oversized).toBe(1);
      expect(a1.describe).toMatch(/log={}/);
      const p1 = await kv.inject('p1', { type: 'promise', from: 'a1', ballot, entries: [{ slot: 0, ballot, value: big }], trimmed: 0 }, 'a1').then(() => kv.state('p1'));
      expect(p1.counters.dropped.oversized).toBe(1);
    });
  });
});

it('outcome() tells a synchronous throw from a rejection (control)', async () => {
  expect(await outcome(() => { throw new SynodError('SYNOD_INVALID_ARGUMENT', 'x'); })).toEqual({ threwSynchronously: expect.any(SynodError) });
  expect(await outcome(() => Promise.reject(new SynodError('SYNOD_INVALID_ARGUMENT', 'x')))).toEqual(invalid(/x/));
});
