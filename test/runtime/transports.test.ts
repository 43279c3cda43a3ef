/**
 * The message paths between threads (src/runtime/transports): every
 * actor-pair transport carries messages between two real worker threads in
 * order, with none lost or duplicated, through wrap-around of the ring and
 * messages bigger than half of it; refuses what it cannot carry with a clear
 * error; and, once closed, leaves no thread running.
 *
 * The workers are the compiled `dist/workers/transport-peer.js` (npm test
 * builds first).
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  createTransport,
  openEndpoint,
  ringTransport,
  transferListOf,
  TransportError,
  type RingEnd,
  type TransportEndpoint,
  type TransportKind,
  type WaitMode,
} from '../../src/runtime/transports/index.js';
import { workerFile } from '../../src/util/paths.js';
import { peerMsg, type PeerTask, type SourceReport } from '../../workers/transport-peer-msg.js';

/** A worker running transport-peer, and how it ended. */
interface Peer {
  readonly worker: Worker;
  readonly exited: Promise<number>;
  readonly report: Promise<SourceReport>;
}

function startPeer(task: PeerTask, transfer: TransferListItem[]): Peer {
  const worker = new Worker(workerFile('transport-peer'));
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const report = new Promise<SourceReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', (err) => reject(new Error(`the peer crashed: ${err.stack ?? err.message}`)));
    void exited.then((code) => reject(new Error(`peer exited with code ${code} before reporting`)));
  });
  // A failure shows up through `report` or `exited`; keep it from also surfacing as unhandled.
  report.catch(() => {});
  worker.postMessage(task, transfer);
  return { worker, exited, report };
}

/**
 * Waits for a worker to end by itself. Nothing here terminates it unless it
 * is still running after `patienceMs` (a hang, which the caller's assertion
 * then reports); the limit only keeps a broken build from hanging the suite.
 */
async function endsByItself(peer: Peer, patienceMs = 30_000): Promise<number | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([peer.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), patienceMs)))]);
  clearTimeout(timer);
  if (r === 'still running') await peer.worker.terminate();
  return r;
}

const CAPACITY = 4096;
/** Payload lengths in characters; 2100 and 3000 encode to more than half of a 4 KiB ring (multi-byte characters included). */
const SIZES = [1, 40, 3000, 200, 0, 1500, 2100, 7, 600, 9000];
const COUNT = 3000;

const packr = new Packr({ useRecords: false });
const encodedBytes = (m: unknown) => packr.pack(m).length;

interface PairCase {
  readonly name: string;
  readonly kind: TransportKind;
  /** Source's and echo's wait modes. */
  readonly waits: readonly [WaitMode, WaitMode];
  readonly startPosition?: number;
}

const cases: PairCase[] = [
  { name: 'port, async ends', kind: 'port', waits: ['async', 'async'] },
  { name: 'port, spinning source and async echo', kind: 'port', waits: ['spin', 'async'] },
  { name: 'hub, async ends', kind: 'hub', waits: ['async', 'async'] },
  { name: 'hub, spinning ends', kind: 'hub', waits: ['spin', 'spin'] },
  { name: 'ring, async ends (waitAsync)', kind: 'ring', waits: ['async', 'async'] },
  { name: 'ring, blocking ends (Atomics.wait)', kind: 'ring', waits: ['block', 'block'] },
  { name: 'ring, spinning ends', kind: 'ring', waits: ['spin', 'spin'] },
  { name: 'ring, blocking source and async echo', kind: 'ring', waits: ['block', 'async'] },
  { name: 'ring, async source and spinning echo', kind: 'ring', waits: ['async', 'spin'] },
  { name: 'ring, adaptive ends (spin, then waitAsync)', kind: 'ring', waits: ['adaptive', 'adaptive'] },
  { name: 'ring, adaptive source and blocking echo', kind: 'ring', waits: ['adaptive', 'block'] },
  { name: 'ring, positions starting just below 2^31 (int32 overflow)', kind: 'ring', waits: ['async', 'block'], startPosition: 2 ** 31 - 2 * CAPACITY },
];

describe('transports between two worker threads', () => {
  it('the test messages include some bigger than half the ring (fragmented) and one bigger than the whole ring', () => {
    const sizes = SIZES.map((_, seq) => encodedBytes(peerMsg(seq, SIZES)));
    expect(sizes.filter((n) => n > CAPACITY / 2 && n <= CAPACITY).length).toBeGreaterThanOrEqual(2);
    expect(sizes.filter((n) => n > 2 * CAPACITY).length).toBeGreaterThanOrEqual(1);
  });

  for (const c of cases) {
    it(`${c.name}: ${COUNT} messages there and back, in order, none lost or duplicated; both threads end after close`, async () => {
      const transport = createTransport(c.kind, { capacityBytes: CAPACITY, ...(c.startPosition !== undefined ? { startPosition: c.startPosition } : {}) });
      const pair = transport.createPair();
      const [a, b] = pair.ends;
      const echo = startPeer({ role: 'echo', end: b, wait: c.waits[1] }, transferListOf(b));
      const source = startPeer({ role: 'source', end: a, wait: c.waits[0], count: COUNT, sizes: SIZES, batchEvery: 5, batchSize: 16 }, transferListOf(a));

      // If the echo dies first, fail now rather than wait for a report that cannot come. An echo that ends with code 0
      // has seen the source close the link, which the source does once it is done: its report is on its way (the
      // main thread may take the echo's exit first), so only a failing exit counts.
      const echoDown = new Promise<never>((_, reject) => {
        echo.worker.once('error', (err) => reject(new Error(`the echo peer crashed: ${err.stack ?? err.message}`)));
        void echo.exited.then((code) => {
          if (code !== 0) reject(new Error(`the echo peer exited with code ${code} before the source reported`));
        });
      });
      echoDown.catch(() => {});
      const report = await Promise.race([source.report, echoDown]);
      expect(report.mismatches).toEqual([]);
      expect(report).toEqual({ sent: COUNT, received: COUNT, mismatches: [], extra: 0 });

      // The source closed the link: both threads let go and end on their own, with code 0.
      expect(await endsByItself(source)).toBe(0);
      expect(await endsByItself(echo)).toBe(0);

      if (c.kind === 'ring') {
        // The data went round the rings many times (head counts every byte ever written).
        const start = c.startPosition ?? 0;
        for (const sab of (a as RingEnd).rings) {
          const head = new Int32Array(sab, 0, 1)[0] as number;
          const written = (head - start) >>> 0;
          expect(written).toBeGreaterThan(100 * CAPACITY);
          if (c.startPosition !== undefined) expect(head).toBeLessThan(0);
        }
      }
      pair.close();
      pair.close();
    });
  }

  it('closing a ring pair from the creating thread ends a peer blocked in Atomics.wait, which then exits by itself', async () => {
    const pair = ringTransport({ capacityBytes: CAPACITY }).createPair();
    const echo = startPeer({ role: 'echo', end: pair.ends[1], wait: 'block' }, []);
    // The echo is alive and serving: one round trip through it.
    const ep = openEndpoint<{ n: number }>(pair.ends[0]);
    const back = await new Promise<{ n: number }>((resolve) => {
      ep.onMessage(resolve);
      ep.send({ n: 42 });
    });
    expect(back).toEqual({ n: 42 });
    pair.close();
    expect(ep.closed).toBe(true);
    expect(await endsByItself(echo)).toBe(0);
  });

  for (const kind of ['port', 'hub'] as const) {
    it(`a ${kind} link closes by itself when the peer's thread dies`, async () => {
      const pair = createTransport(kind).createPair();
      const echo = startPeer({ role: 'echo', end: pair.ends[1], wait: 'async' }, transferListOf(pair.ends[1]));
      const ep = openEndpoint<{ n: number }>(pair.ends[0]);
      const back = await new Promise<{ n: number }>((resolve) => {
        ep.onMessage(resolve);
        ep.send({ n: 1 });
      });
      expect(back).toEqual({ n: 1 });
      await echo.worker.terminate();
      await until(() => ep.closed);
      expect(() => ep.send({ n: 2 })).toThrow(expect.objectContaining({ code: 'SYNOD_TRANSPORT_CLOSED' }));
      ep.close();
      pair.close();
    });
  }
});

describe('transports refuse clearly what they cannot carry', () => {
  it('a ring carries messages bigger than itself, as fragments, in order with the rest', async () => {
    const capacity = 1024;
    {
      const [a, b] = ringTransport({ capacityBytes: capacity }).createPair().ends;
      const sender = openEndpoint<{ p: string }>(a);
      const receiver = openEndpoint<{ p: string }>(b);
      // Sizes around the fragment size (half the ring), the whole ring, and many times it.
      const sizes = [10, 500, 508, 509, 1019, 1020, 1021, 5000, 64 * 1024, 3];
      const sent = sizes.map((n, i) => ({ p: `${i}:`.padEnd(n, String.fromCharCode(97 + (i % 26))) }));
      const got: string[] = [];
      const all = new Promise<void>((resolve) => {
        receiver.onMessage((m) => {
          got.push(m.p);
          if (got.length === sent.length) {
            receiver.onMessage(null);
            resolve();
          }
        });
      });
      for (const m of sent.slice(0, 5)) sender.send(m);
      sender.sendBatch(sent.slice(5));
      await all;
      expect(got).toEqual(sent.map((m) => m.p));
      sender.close();
      receiver.close();
    }
  });

  it('a batch with a message that cannot be encoded is refused whole: none of it is sent', async () => {
    const [a, b] = ringTransport({ capacityBytes: 1024 }).createPair().ends;
    const sender = openEndpoint<{ p: unknown }>(a);
    const receiver = openEndpoint<{ p: unknown }>(b);
    expect(() => sender.sendBatch([{ p: 'first' }, { p: 10n ** 40n }, { p: 'third' }])).toThrow(expect.objectContaining({ code: 'SYNOD_TRANSPORT_BAD_MESSAGE' }));
    const first = new Promise<unknown>((resolve) => receiver.onMessage((m) => resolve(m.p)));
    sender.send({ p: 'only this' });
    expect(await first).toBe('only this');
    sender.close();
  });

  it('a full async ring queues in order and delivers everything once the peer reads; nothing is dropped', async () => {
    const [a, b] = ringTransport({ capacityBytes: 256 }).createPair().ends;
    const sender = openEndpoint<{ i: number; pad: string }>(a);
    const receiver = openEndpoint<{ i: number; pad: string }>(b);
    for (let i = 0; i < 200; i++) sender.send({ i, pad: 'z'.repeat(i % 50) });
    expect(sender.queued).toBeGreaterThan(150);
    const got: number[] = [];
    await new Promise<void>((resolve) => {
      receiver.onMessage((m) => {
        got.push(m.i);
        if (got.length === 200) resolve();
      });
    });
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(sender.queued).toBe(0);
    receiver.close();
  });

  for (const kind of ['port', 'hub', 'ring'] as const) {
    it(`${kind}: arrays are refused as messages, and sending on a closed link throws`, () => {
      const pair = createTransport(kind).createPair();
      const a: TransportEndpoint<unknown> = openEndpoint(pair.ends[0]);
      const b: TransportEndpoint<unknown> = openEndpoint(pair.ends[1]);
      expect(() => a.send([1, 2])).toThrow(expect.objectContaining({ code: 'SYNOD_TRANSPORT_BAD_MESSAGE' }));
      expect(() => a.sendBatch([{ ok: 1 }, [2]])).toThrow(expect.objectContaining({ code: 'SYNOD_TRANSPORT_BAD_MESSAGE' }));
      a.close();
      a.close();
      expect(a.closed).toBe(true);
      expect(b.closed).toBe(true);
      expect(() => a.send({ late: true })).toThrow(expect.objectContaining({ code: 'SYNOD_TRANSPORT_CLOSED' }));
      expect(() => b.send({ late: true })).toThrow(/closed/);
      pair.close();
    });
  }

  it('wait modes and options a transport cannot honour are refused', () => {
    expect(() => createTransport('port', { wait: 'block' })).toThrow(expect.objectContaining({ code: 'SYNOD_TRANSPORT_UNSUPPORTED' }));
    const pair = createTransport('port').createPair();
    expect(() => openEndpoint(pair.ends[0], { wait: 'block' })).toThrow(/'block' needs the shared-memory ring/);
    for (const end of pair.ends) if (end.kind !== 'ring') end.port.close();
    expect(() => ringTransport({ capacityBytes: 1000 })).toThrow(expect.objectContaining({ code: 'SYNOD_TRANSPORT_UNSUPPORTED' }));
    expect(() => ringTransport({ capacityBytes: 32 })).toThrow(/power of two/);
    expect(() => createTransport('hub', { wait: 'adaptive' })).toThrow(/'adaptive' needs the shared-memory ring/);
    expect(() => ringTransport({ wait: 'adaptive', spin: { maxShare: 2 } })).toThrow(expect.objectContaining({ code: 'SYNOD_TRANSPORT_UNSUPPORTED', message: expect.stringMatching(/maxShare/) }));
    expect(() => ringTransport({ spin: { maxSpinUs: 100, burstUs: 10 } })).toThrow(/burstUs must be at least maxSpinUs/);
    const ring = ringTransport().createPair();
    expect(() => openEndpoint(ring.ends[0], { wait: 'sometimes' as WaitMode })).toThrow(/use 'async', 'adaptive', 'block' or 'spin'/);
    ring.close();
  });
});

/** Waits until `cond` holds, checking every 10 ms; gives up after 6000 checks, a minute or more (then the caller's assertion fails). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 6000 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}
