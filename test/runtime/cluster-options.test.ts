/**
 * The cluster options the experiments and benchmarks rely on: every
 * transport carries a real cluster (across restarts, which re-wire links),
 * cold and warm restarts, live traces with vector clocks, and the two
 * storage experiments (amnesia, no-fsync) that break the durability rule on
 * purpose, each against a control run that keeps it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Violation } from '../../src/check/types.js';
import type { DurableRecord } from '../../src/core/effects.js';
import type { Cluster } from '../../src/runtime/cluster.js';
import { RECORD_KEY } from '../../src/runtime/storage/lmdb.js';
import { decodeRecord } from '../../src/runtime/storage/record.js';
import { checkLinearizable } from '../../src/check/linearizability.js';
import type { ClusterOptions } from '../../src/runtime/cluster.js';
import { createKvCluster } from '../../src/runtime/kv-cluster.js';
import { happenedBefore } from '../../src/trace/builder.js';
import type { TraceEvent } from '../../src/trace/types.js';
import { nextEvent, withCluster } from './fixtures/helpers.js';

const small = { proposers: 2, acceptors: 3, learners: 1 } as const;
const fast = { supervisor: { backoffBaseMs: 1, backoffMaxMs: 5 } } as const;

describe('transports under a real cluster', () => {
  for (const transport of ['port', 'hub', 'ring'] as const) {
    it(`${transport}: decides, and still decides after an acceptor and a proposer restart on fresh links`, async () => {
      await withCluster({ ...small, ...fast, transport }, async (cluster) => {
        const violations: Violation[] = [];
        cluster.on('violation', (v) => violations.push(v));
        const back = Promise.all([nextEvent(cluster, 'restart', 'a1'), nextEvent(cluster, 'restart', 'p1')]);
        await cluster.crash('a1', 'terminate');
        await cluster.crash('p1', 'exception');
        await back;
        const decided = await cluster.propose(`via-${transport}`, { proposer: 'p1', timeoutMs: 20_000 });
        expect(decided).toBe(`via-${transport}`);
        const report = await cluster.state('a2');
        expect(report.counters.received).toBeGreaterThan(0);
        expect(violations).toEqual([]);
      });
    });
  }

  for (const transport of ['hub', 'ring'] as const) {
    it(`${transport}: the key-value cluster serves a linearizable history`, async () => {
      const kv = await createKvCluster({ proposers: 2, acceptors: 3, learners: 1, storage: 'memory', transport, history: true });
      try {
        await Promise.all(Array.from({ length: 40 }, (_, i) => kv.put(`k${i % 4}`, i)));
        const reads = await Promise.all([0, 1, 2, 3].map((k) => kv.get(`k${k}`)));
        expect(reads.every((v) => typeof v === 'number')).toBe(true);
        expect(kv.checker.finish(0)).toEqual([]);
        expect(checkLinearizable(kv.history()).status).toBe('linearizable');
      } finally {
        await kv.close();
      }
    });
  }

  it('ring: messages bigger than the ring (a batch of large values) go through in fragments', async () => {
    // Four 50 KB values batched into one slot make accepts of ~200 KB, three times the default
    // 64 KiB ring; before fragmentation such a message was refused and the cluster stalled.
    const kv = await createKvCluster({ proposers: 2, acceptors: 3, learners: 1, storage: 'memory', transport: 'ring', timeoutMs: 20_000 });
    try {
      const big = (i: number) => `${i}`.repeat(50_000);
      await Promise.all([0, 1, 2, 3].map((i) => kv.put(`big${i}`, big(i))));
      const back = await Promise.all([0, 1, 2, 3].map((i) => kv.get(`big${i}`)));
      expect(back).toEqual([0, 1, 2, 3].map(big));
    } finally {
      await kv.close();
    }
  });

  it('rejects an unknown transport by name', async () => {
    await expect(withCluster({ ...small, transport: 'carrier-pigeon' } as unknown as ClusterOptions, async () => {})).rejects.toThrow(/transport/);
  });
});

describe('spare workers', () => {
  for (const spares of [0, 2]) {
    it(`spares: ${spares} restarts a crashed acceptor and it serves again`, async () => {
      await withCluster({ ...small, supervisor: { ...fast.supervisor, spares } }, async (cluster) => {
        const back = nextEvent(cluster, 'restart', 'a2');
        await cluster.crash('a2', 'terminate');
        const restart = await back;
        expect(restart.recoveryMs).toBeGreaterThan(0);
        expect((await cluster.state('a2')).incarnation).toBe(2);
      });
    });
  }
});

describe('live traces', () => {
  it('records sends, receives, persists, a crash, a restart and the decision, with consistent vector clocks', async () => {
    await withCluster({ ...small, ...fast, trace: true }, async (cluster) => {
      const streamed: TraceEvent[] = [];
      cluster.on('trace', (e) => streamed.push(e));
      const learned = nextEvent(cluster, 'decide', 'l1');
      await cluster.propose('first', { proposer: 'p1' });
      await learned;
      const back = nextEvent(cluster, 'restart', 'a1');
      await cluster.crash('a1', 'exception');
      await back;
      const trace = cluster.traceOf({ note: 'test' });
      expect(trace.format).toBe('synod-trace');
      expect(trace.source).toMatchObject({ kind: 'cluster', note: 'test', transport: 'port' });
      const kinds = new Set(trace.events.map((e) => e.kind));
      for (const k of ['send', 'receive', 'persist', 'durable', 'decide', 'crash', 'restart', 'fault']) expect(kinds).toContain(k);
      expect(trace.actors.slice(0, 6)).toEqual(['p1', 'p2', 'a1', 'a2', 'a3', 'l1']);
      expect(streamed.length).toBeGreaterThan(0);

      const sends = new Map(trace.events.filter((e) => e.kind === 'send').map((e) => [e.msg, e]));
      const receives = trace.events.filter((e) => e.kind === 'receive' && e.msg !== undefined);
      expect(receives.length).toBeGreaterThan(0);
      let matched = 0;
      for (const r of receives) {
        const s = sends.get(r.msg);
        if (s === undefined) continue;
        matched++;
        // A send happened before its receive, and the receive came later in the trace.
        expect(happenedBefore(s, r)).toBe(true);
        expect(happenedBefore(r, s)).toBe(false);
        expect(s.index).toBeLessThan(r.index);
        expect(r.from).toBe(s.actor);
        expect(s.to).toBe(r.actor);
      }
      expect(matched).toBe(receives.length);
      // Each lane's own clock entry counts its events, one by one.
      const seen = new Map<string, number>();
      for (const e of trace.events) {
        const n = (seen.get(e.actor) ?? 0) + 1;
        seen.set(e.actor, n);
        expect(e.vc[e.actor]).toBe(n);
      }
      const decide = trace.events.find((e) => e.kind === 'decide' && e.actor === 'l1');
      expect(decide?.value).toBe('"first"');
    });
  });

  it('the key-value cluster traces too: sends and receives match, slots applied, a leader crash and its restart', async () => {
    const kv = await createKvCluster({ proposers: 2, acceptors: 3, learners: 1, storage: 'memory', trace: true, supervisor: fast.supervisor });
    try {
      await Promise.all(Array.from({ length: 10 }, (_, i) => kv.put(`k${i}`, i)));
      const leader = kv.leader() as string;
      await kv.crash(leader, 'exception');
      await new Promise<void>((resolve) => kv.once('restart', () => resolve()));
      await kv.put('after', 1);
      // Each actor reports on its own port, so a receiver's report can reach the main thread before its sender's: the
      // receives seen now are checked once their sends have arrived too (polls are bounded; no clock is read).
      const wanted = new Set(kv.traceOf().events.filter((e) => e.kind === 'receive').map((e) => e.msg));
      let trace = kv.traceOf();
      for (let polls = 0; polls < 2000; polls++) {
        trace = kv.traceOf();
        const sent = new Set(trace.events.filter((e) => e.kind === 'send').map((e) => e.msg));
        if ([...wanted].every((m) => sent.has(m) || m?.startsWith(`${leader}.1.`))) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(trace.source).toMatchObject({ kind: 'cluster', protocol: 'multi-paxos' });
      const kinds = new Set(trace.events.map((e) => e.kind));
      for (const k of ['send', 'receive', 'persist', 'durable', 'decide', 'crash', 'restart', 'fault']) expect(kinds).toContain(k);
      const sends = new Map(trace.events.filter((e) => e.kind === 'send').map((e) => [e.msg, e]));
      const receives = trace.events.filter((e) => e.kind === 'receive' && wanted.has(e.msg));
      expect(receives.length).toBeGreaterThan(0);
      for (const r of receives) {
        const s = sends.get(r.msg);
        // The crashed incarnation's last report can be overtaken by its death (the supervisor then ignores it), so
        // only its sends may be missing; every other send must be there.
        if (s === undefined && r.msg?.startsWith(`${leader}.1.`)) continue;
        expect(s, `the send of ${r.msg}`).toBeDefined();
        expect(happenedBefore(s as TraceEvent, r)).toBe(true);
        expect(s?.index).toBeLessThan(r.index);
      }
      expect(trace.events.find((e) => e.kind === 'crash')?.actor).toBe(leader);
    } finally {
      await kv.close();
    }
  });

  it('traces nothing unless asked, and says so', async () => {
    await withCluster(small, async (cluster) => {
      await cluster.propose('x');
      expect(cluster.traceEvents).toEqual([]);
      expect(() => cluster.traceOf()).toThrow(/trace: true/);
    });
  });
});

/** The durable record of acceptor `id` that first holds `value` as accepted (reported when the write is acknowledged). */
function acceptedBy(cluster: Cluster, id: string, value: string): Promise<DurableRecord> {
  return new Promise((resolve) => {
    const listener = (e: { id: string; record: DurableRecord }) => {
      if (e.id !== id || e.record.role !== 'acceptor' || e.record.accepted?.value !== value) return;
      cluster.off('durable', listener);
      resolve(e.record);
    };
    cluster.on('durable', listener);
  });
}

/** The record in the LMDB store at `dir` as another process sees it (what survives a crash), or null. */
async function onDisk(dir: string): Promise<DurableRecord | null> {
  const script = `import { open } from 'lmdb';
const db = open({ path: process.argv[1], encoding: 'binary', readOnly: true });
process.stdout.write(db.getBinary(${JSON.stringify(RECORD_KEY)})?.toString('utf8') ?? '');
await db.close();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, dir], { cwd: process.cwd() });
  return stdout === '' ? null : decodeRecord(stdout, dir, RECORD_KEY);
}

/**
 * p1's value is accepted by every acceptor; then every acceptor crashes and
 * comes back, and the checker compares what they recovered with what they
 * had reported durable.
 */
async function crashEveryAcceptorAfterAValue(options: Partial<ClusterOptions>): Promise<Violation[]> {
  return withCluster({ ...small, ...fast, ...options }, async (cluster) => {
    const violations: Violation[] = [];
    cluster.on('violation', (v) => violations.push(v));
    // A majority is enough to decide: wait for the last acceptor's accept to land too.
    const acceptedByAll = Promise.all(['a1', 'a2', 'a3'].map((a) => acceptedBy(cluster, a, 'kept')));
    await cluster.propose('kept', { proposer: 'p1' });
    await acceptedByAll;
    for (const a of ['a1', 'a2', 'a3']) {
      const back = nextEvent(cluster, 'restart', a);
      await cluster.crash(a, 'terminate');
      await back;
    }
    return violations;
  });
}

describe('the storage experiments break the durability rule, and their controls keep it', () => {
  it('amnesia: acceptors recover nothing after a crash; the checker reports the regression', async () => {
    const violations = await crashEveryAcceptorAfterAValue({ amnesia: true });
    expect(violations.map((v) => v.kind)).toContain('promise-regressed');
  });

  it('no-fsync: writes acknowledged before they reach LMDB are lost with the crash; the checker reports it', async () => {
    const violations = await crashEveryAcceptorAfterAValue({ noFsync: true, noFsyncFlushMs: 60_000 });
    expect(violations.map((v) => v.kind)).toContain('promise-regressed');
  });

  it('control: with durable LMDB storage the same crashes lose nothing', async () => {
    expect(await crashEveryAcceptorAfterAValue({})).toEqual([]);
  });

  it('control: no-fsync with a short flush interval loses nothing when the crash comes after the flush', async () => {
    const violations = await withCluster({ ...small, ...fast, noFsync: true, noFsyncFlushMs: 5 }, async (cluster) => {
      const found: Violation[] = [];
      cluster.on('violation', (v) => found.push(v));
      const accepted = acceptedBy(cluster, 'a1', 'kept');
      await cluster.propose('kept', { proposer: 'p1' });
      const record = await accepted;
      // The crash must come after the flush: wait until a1's record is on disk, as another process reads it.
      const dataDir = cluster.dataDir as string;
      while (!isDeepStrictEqual(await onDisk(join(dataDir, 'a1')), record)) await new Promise((r) => setTimeout(r, 10));
      const back = nextEvent(cluster, 'restart', 'a1');
      await cluster.crash('a1', 'terminate');
      await back;
      return found;
    });
    expect(violations).toEqual([]);
  });

  it('refuses both experiments at once', async () => {
    await expect(withCluster({ ...small, amnesia: true, noFsync: true }, async () => {})).rejects.toThrow(/choose one/);
  });
});
