/**
 * The shared-memory ring is written by an untrusted peer: records that do not
 * decode (garbage bytes, a value nested 100,000 levels deep, a corrupt length
 * word) are dropped and counted, as the port transport drops what it cannot
 * deserialize, and the next good message still arrives. In one thread (the
 * counts) and with the receiving end in a worker thread (it survives and
 * echoes what follows). The worker is the compiled
 * `dist/workers/transport-peer.js` (build first).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { openEndpoint, ringTransport, type RingEnd } from '../../src/runtime/transports/index.js';
import { workerFile } from '../../src/util/paths.js';

const CAPACITY = 4096;
const DATA = 128; // the ring's header bytes (ring.ts)

/** Writes raw records at the start of side 0's ring, as a hostile producer would, before side 0 is opened. */
function writeRaw(end: RingEnd, records: readonly (Uint8Array | { readonly lengthWord: number })[]): void {
  const sab = end.rings[0];
  const header = new Int32Array(sab, 0, DATA / 4);
  const words = new Int32Array(sab, DATA, CAPACITY / 4);
  const data = new Uint8Array(sab, DATA, CAPACITY);
  let at = 0;
  for (const r of records) {
    if ('lengthWord' in r) {
      words[at >>> 2] = r.lengthWord;
      at += 8;
      continue;
    }
    words[at >>> 2] = r.length;
    data.set(r, at + 4);
    at += 4 + ((r.length + 3) & ~3);
  }
  Atomics.store(header, 0, at);
}

const garbage = Uint8Array.from([0xc1, 0xc1, 0xc1, 0xc1]); // 0xc1 is never used in msgpack
const truncated = Uint8Array.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]); // a str32 longer than the record
const deep = (() => {
  const b = new Uint8Array(100_001);
  b.fill(0x91, 0, 100_000); // an array of one element, 100,000 levels deep
  b[100_000] = 0xc0;
  return b;
})();

describe('a ring drops and counts what it cannot decode', () => {
  it('garbage, a truncated record and a value nested 100,000 levels deep are dropped and counted; the next message arrives', async () => {
    const big = ringTransport({ capacityBytes: 256 * 1024 }).createPair();
    // The deep value needs a ring big enough to carry it as one record.
    const records = [garbage, truncated, deep];
    const sab = (big.ends[0] as RingEnd).rings[0];
    const words = new Int32Array(sab, DATA);
    const data = new Uint8Array(sab, DATA);
    let at = 0;
    for (const r of records) {
      words[at >>> 2] = r.length;
      data.set(r, at + 4);
      at += 4 + ((r.length + 3) & ~3);
    }
    Atomics.store(new Int32Array(sab, 0, DATA / 4), 0, at);
    const receiver = openEndpoint<{ ok: number }>(big.ends[1]);
    const sender = openEndpoint<{ ok: number }>(big.ends[0]);
    const got = new Promise<number>((resolve) => receiver.onMessage((m) => resolve(m.ok)));
    sender.send({ ok: 7 });
    expect(await got).toBe(7);
    expect(receiver.undecodable).toBe(3);
    sender.close();
    big.close();
  });

  it('a length word that cannot be right drops what was published, counted once, and the ring goes on', async () => {
    const pair = ringTransport({ capacityBytes: CAPACITY }).createPair();
    writeRaw(pair.ends[0] as RingEnd, [{ lengthWord: 0x7fffffff }]);
    const receiver = openEndpoint<{ ok: number }>(pair.ends[1]);
    const sender = openEndpoint<{ ok: number }>(pair.ends[0]);
    const got: number[] = [];
    const two = new Promise<void>((resolve) =>
      receiver.onMessage((m) => {
        got.push(m.ok);
        if (got.length === 2) resolve();
      }),
    );
    // The receiver reads (and drops) the corrupt record in a microtask of onMessage; what is sent after it arrives.
    await new Promise((resolve) => setImmediate(resolve));
    expect(receiver.undecodable).toBe(1);
    sender.send({ ok: 1 });
    sender.send({ ok: 2 });
    await two;
    expect(got).toEqual([1, 2]);
    sender.close();
    pair.close();
  });

  for (const wait of ['async', 'adaptive', 'block'] as const) {
    it(`a receiving worker thread (${wait}) survives garbage and deep nesting on its ring and echoes the next message`, async () => {
      const pair = ringTransport({ capacityBytes: 256 * 1024 }).createPair();
      const sab = (pair.ends[0] as RingEnd).rings[0];
      const words = new Int32Array(sab, DATA);
      const data = new Uint8Array(sab, DATA);
      let at = 0;
      for (const r of [garbage, deep, truncated]) {
        words[at >>> 2] = r.length;
        data.set(r, at + 4);
        at += 4 + ((r.length + 3) & ~3);
      }
      Atomics.store(new Int32Array(sab, 0, DATA / 4), 0, at);
      const worker = new Worker(workerFile('transport-peer'));
      let crashed: Error | null = null;
      worker.on('error', (err) => (crashed = err));
      worker.postMessage({ role: 'echo', end: pair.ends[1], wait });
      const me = openEndpoint<{ seq: number }>(pair.ends[0]);
      const echoed = new Promise<number>((resolve) => me.onMessage((m) => resolve(m.seq)));
      me.send({ seq: 41 });
      expect(await echoed).toBe(41);
      expect(crashed).toBeNull();
      me.close();
      pair.close();
      await worker.terminate();
    });
  }
});
