/**
 * Storage as the acceptors use it (the `storage` benchmark of `synod bench`):
 * the Multi-Paxos record log (src/runtime/storage/log.ts, one LMDB
 * environment, group commit) and the single-decree actor store
 * (src/runtime/storage/lmdb.ts), in this thread, durable (the append waits
 * for the fsync) and not (it waits for the commit only).
 *
 * - one record, awaited: the latency of a lone append, one after another;
 * - a turn's worth: `append` of 32 or 256 accepted records at once (one
 *   transaction, one fsync), awaited, one after another: latency per append
 *   and records/s.
 *
 * An accepted record carries a batch of 8 write commands (about 700 bytes of
 * log text), like a lightly loaded slot. Each repeat uses fresh
 * environments in a temporary directory, after a discarded warm-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MpRecord, Command } from '../src/core/multipaxos/types.js';
import { encodeLogRecord, openLmdbLog } from '../src/runtime/storage/log.js';
import { kvMachine } from '../src/machines/kv/machine.js';
import { openLmdbStore } from '../src/runtime/storage/lmdb.js';
import type { BenchContext, BenchDef } from './lib/context.js';
import { figure, fmtFigure, type BenchOutput, type Chart, type Figure, type Table } from './lib/report.js';
import { percentileCurve, summarize, type Summary } from './lib/stats.js';

interface StorageCase {
  readonly target: 'log' | 'store';
  readonly durable: boolean;
  /** Records per append (always 1 for the store). */
  readonly records: number;
}

const CASES: readonly StorageCase[] = [true, false].flatMap((durable) => [
  { target: 'log' as const, durable, records: 1 },
  { target: 'log' as const, durable, records: 32 },
  { target: 'log' as const, durable, records: 256 },
  { target: 'store' as const, durable, records: 1 },
]);

/** Timed appends per case and repeat (after `warmup` untimed ones). */
const appendsOf = (quick: boolean, records: number) => (records === 1 ? (quick ? 200 : 2000) : records <= 32 ? (quick ? 40 : 400) : quick ? 15 : 120);
const WARMUP_APPENDS = 10;

const key = (c: StorageCase) => `${c.target}/${c.durable ? 'durable' : 'nosync'}/x${c.records}`;

function batchOf(slot: number): Command[] {
  return Array.from({ length: 8 }, (_, i) => ({ clientId: `bench.${i}`, seq: slot + 1, op: { f: 'write' as const, key: `key-${(slot * 8 + i) % 1000}`, value: `value-${slot}-${i}` } }));
}

/** Milliseconds of each of `appends` sequential awaited appends of `records` records. */
async function measureCase(dir: string, c: StorageCase, appends: number): Promise<number[]> {
  const times: number[] = [];
  if (c.target === 'log') {
    const log = await openLmdbLog(dir, { durable: c.durable, actorId: 'a1', machine: kvMachine });
    try {
      let slot = 0;
      for (let i = -WARMUP_APPENDS; i < appends; i++) {
        const records: MpRecord[] = [];
        for (let r = 0; r < c.records; r++, slot++) records.push({ kind: 'accepted', slot, ballot: { round: 1, proposer: 'p1' }, value: batchOf(slot) });
        const t0 = performance.now();
        await log.append(records);
        if (i >= 0) times.push(performance.now() - t0);
      }
    } finally {
      await log.close();
    }
    return times;
  }
  const store = await openLmdbStore(dir, { durable: c.durable, actorId: 'a1', role: 'acceptor' });
  try {
    for (let i = -WARMUP_APPENDS; i < appends; i++) {
      const t0 = performance.now();
      await store.persist({ role: 'acceptor', promised: { round: i + 100, proposer: 'p1' }, accepted: { ballot: { round: i + 100, proposer: 'p1' }, value: `value-${i}` } });
      if (i >= 0) times.push(performance.now() - t0);
    }
  } finally {
    await store.close();
  }
  return times;
}

async function runStorage(ctx: BenchContext): Promise<BenchOutput> {
  const runs = new Map<StorageCase, { summary: Summary; recordsPerSec: number }[]>(CASES.map((c) => [c, []]));
  const pooled = new Map<StorageCase, number[]>(CASES.map((c) => [c, []]));
  for (let r = -1; r < ctx.repeats; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'synod-bench-storage-'));
    try {
      for (const c of CASES) {
        const appends = r < 0 ? 5 : appendsOf(ctx.quick, c.records);
        const times = await measureCase(join(dir, key(c).replaceAll('/', '-')), c, appends);
        if (r >= 0) {
          const total = times.reduce((a, b) => a + b, 0);
          (runs.get(c) as { summary: Summary; recordsPerSec: number }[]).push({ summary: summarize(times), recordsPerSec: (appends * c.records * 1000) / total });
          for (const t of times) (pooled.get(c) as number[]).push(t * 1000);
        }
        ctx.step(r < 0 ? 'warm-up' : `repeat ${r + 1}/${ctx.repeats}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const figures: Record<string, Figure> = {};
  for (const c of CASES) {
    const rs = runs.get(c) as { summary: Summary; recordsPerSec: number }[];
    figures[`${key(c)}/p50`] = figure(rs.map((x) => x.summary.p50 * 1000), 'us', 'lower');
    figures[`${key(c)}/p99`] = figure(rs.map((x) => x.summary.p99 * 1000), 'us', 'lower');
    figures[`${key(c)}/records-per-s`] = figure(rs.map((x) => x.recordsPerSec), 'records/s', 'higher');
  }
  for (const c of CASES.filter((x) => !x.durable)) {
    const d = CASES.find((x) => x.durable && x.target === c.target && x.records === c.records) as StorageCase;
    const a = runs.get(d) as { summary: Summary }[];
    const b = runs.get(c) as { summary: Summary }[];
    figures[`${key(d)}/p50-vs-nosync`] = figure(a.map((x, i) => x.summary.p50 / (b[i] as { summary: Summary }).summary.p50), 'x', 'lower');
  }
  const recordBytes = encodeLogRecord({ kind: 'accepted', slot: 12345, ballot: { round: 1, proposer: 'p1' }, value: batchOf(12345) }, kvMachine).length;
  const tables: Table[] = [
    {
      title: `Storage as the acceptors use it: latency per awaited append (us) and records/s; log records ${recordBytes} bytes`,
      head: ['target', 'sync', 'records/append', 'p50 us', 'p99 us', 'records/s'],
      rows: CASES.map((c) => [c.target === 'log' ? 'record log (Multi-Paxos)' : 'actor store (single-decree)', c.durable ? 'durable' : 'commit only', String(c.records), fmtFigure(figures[`${key(c)}/p50`]), fmtFigure(figures[`${key(c)}/p99`]), fmtFigure(figures[`${key(c)}/records-per-s`])]),
    },
  ];
  const charts: Chart[] = [
    {
      kind: 'percentiles',
      title: 'Append latency distribution (us; all repeats pooled)',
      unit: 'us',
      series: CASES.map((c) => ({ name: `${c.target} ${c.durable ? 'durable' : 'nosync'} x${c.records}`, points: percentileCurve(Float64Array.from(pooled.get(c) as number[]).sort()) })),
    },
    {
      kind: 'bars',
      title: 'Records/s, awaited appends one after another',
      unit: 'records/s',
      log: true,
      bars: CASES.map((c) => {
        const f = figures[`${key(c)}/records-per-s`] as Figure;
        return { label: `${c.target} ${c.durable ? 'durable' : 'nosync'} x${c.records}`, value: f.value, min: f.min, max: f.max };
      }),
    },
  ];
  return {
    config: { repeats: ctx.repeats, warmupAppends: WARMUP_APPENDS, appends: Object.fromEntries(CASES.map((c) => [key(c), appendsOf(ctx.quick, c.records)])), recordBytes, commandsPerRecord: 8 },
    figures,
    charts,
    tables,
    notes: [],
  };
}

export const storageBench: BenchDef = {
  name: 'storage',
  title: 'Storage',
  description:
    'LMDB as the acceptors use it: a lone durable append awaited (latency), and a turn’s worth of records (32 or 256) in one transaction (latency and records/s), for the Multi-Paxos record log and the single-decree store, durable vs commit only.',
  repeats: { quick: 3, full: 5 },
  steps: (_quick, repeats) => (repeats + 1) * CASES.length,
  run: runStorage,
};
