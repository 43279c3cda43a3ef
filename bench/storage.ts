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
 *
 * - commit modes: one lone put of a 300-byte value, awaited until durable,
 *   on a bare LMDB environment opened with synod's options and with each
 *   candidate sync configuration, beside the floors: one write + fdatasync
 *   of a small file, and two in a row (LMDB's minimum: data, then the meta
 *   page that points to it). The cases take turns one operation at a time,
 *   so a busy disk weighs on all of them alike. What each configuration
 *   does on a machine crash is in docs/storage.md ("What one durable commit
 *   costs"); the unsafe ones are here only to show what they would save.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import type { MpRecord, Command } from '../src/core/multipaxos/types.js';
import { encodeLogRecord, openLmdbLog } from '../src/runtime/storage/log.js';
import { kvMachine } from '../src/machines/kv/machine.js';
import { openLmdbStore } from '../src/runtime/storage/lmdb.js';
import { LMDB_OPEN_OPTIONS } from '../src/runtime/storage/environment.js';
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

/** One candidate of the commit-modes comparison: how a lone durable write is made. */
interface CommitMode {
  readonly key: string;
  readonly label: string;
  /** Whether an acknowledged write survives a machine crash (docs/storage.md). */
  readonly safe: string;
  readonly open: (dir: string) => Promise<{ op: (i: number) => Promise<void>; close: () => Promise<void> }>;
}

const COMMIT_VALUE_BYTES = 300;

/** `count` write + fdatasync rounds on a file of its own: the floor a durable write pays. */
function rawSyncs(count: 1 | 2): CommitMode['open'] {
  return async (dir) => {
    const file: FileHandle = await openFile(`${dir}.raw`, 'w');
    const bytes = Buffer.alloc(COMMIT_VALUE_BYTES, 7);
    // Allocate the blocks first, so the timed syncs flush data only, as an LMDB commit that reuses pages does.
    await file.write(Buffer.alloc(4 * 4096), 0, 4 * 4096, 0);
    await file.datasync();
    return {
      op: async (i) => {
        await file.write(bytes, 0, bytes.length, 8192 + (i % 2) * 4096);
        await file.datasync();
        if (count === 2) {
          await file.write(bytes, 0, 128, 0);
          await file.datasync();
        }
      },
      close: () => file.close(),
    };
  };
}

/** A bare LMDB environment with synod's options and `extra`; a write is acknowledged when its `flushed` resolves, then after one more fdatasync when `syncAfter`. */
function lmdbMode(extra: Record<string, boolean>, syncAfter = false): CommitMode['open'] {
  return async (dir) => {
    const db = openLmdb<Buffer, string>({ path: dir, ...LMDB_OPEN_OPTIONS, ...extra });
    await db.put('warm', Buffer.from('up'));
    await db.flushed;
    // fdatasync on a descriptor of our own flushes the file's dirty pages, lmdb's included (Linux).
    const file: FileHandle | null = syncAfter ? await openFile(join(dir, 'data.mdb'), 'r') : null;
    return {
      op: async (i) => {
        const put = db.put('state', Buffer.alloc(COMMIT_VALUE_BYTES, i & 255)) as Promise<boolean> & { readonly flushed?: PromiseLike<unknown> };
        await put;
        await (put.flushed ?? db.flushed);
        if (file !== null) await file.datasync();
      },
      close: async () => {
        await file?.close();
        await db.close();
      },
    };
  };
}

const COMMIT_MODES: readonly CommitMode[] = [
  { key: 'floor-1-fdatasync', label: 'floor: write + fdatasync', safe: '-', open: rawSyncs(1) },
  { key: 'floor-2-fdatasync', label: 'floor: 2 x (write + fdatasync)', safe: '-', open: rawSyncs(2) },
  { key: 'synod', label: "lmdb, synod's options (overlappingSync)", safe: 'yes', open: lmdbMode({}) },
  { key: 'overlapping-off', label: 'lmdb, overlappingSync: false', safe: 'yes', open: lmdbMode({ overlappingSync: false }) },
  { key: 'writemap', label: 'lmdb, useWritemap', safe: 'yes', open: lmdbMode({ useWritemap: true }) },
  { key: 'nometasync-then-sync', label: 'lmdb, noMetaSync + one more fdatasync', safe: 'lone writes only', open: lmdbMode({ noMetaSync: true }, true) },
  { key: 'nometasync', label: 'lmdb, noMetaSync (acknowledged at its flush)', safe: 'NO', open: lmdbMode({ noMetaSync: true }) },
];

const commitOpsOf = (quick: boolean) => (quick ? 200 : 1000);

/** Microseconds of `ops` lone durable writes per mode, the modes taking turns one write at a time. */
async function measureCommitModes(dir: string, ops: number): Promise<Map<CommitMode, number[]>> {
  const opened: { op: (i: number) => Promise<void>; close: () => Promise<void> }[] = [];
  const times = new Map<CommitMode, number[]>(COMMIT_MODES.map((m) => [m, []]));
  try {
    for (const [i, m] of COMMIT_MODES.entries()) opened.push(await m.open(join(dir, `commit-${i}`)));
    for (let i = -WARMUP_APPENDS; i < ops; i++) {
      for (const [k, m] of COMMIT_MODES.entries()) {
        const t0 = performance.now();
        await (opened[k] as { op: (i: number) => Promise<void> }).op(i);
        if (i >= 0) (times.get(m) as number[]).push((performance.now() - t0) * 1000);
      }
    }
  } finally {
    for (const o of opened) await o.close();
  }
  return times;
}

async function runStorage(ctx: BenchContext): Promise<BenchOutput> {
  const runs = new Map<StorageCase, { summary: Summary; recordsPerSec: number }[]>(CASES.map((c) => [c, []]));
  const pooled = new Map<StorageCase, number[]>(CASES.map((c) => [c, []]));
  const modeRuns = new Map<CommitMode, Summary[]>(COMMIT_MODES.map((m) => [m, []]));
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
      const modeTimes = await measureCommitModes(dir, r < 0 ? 5 : commitOpsOf(ctx.quick));
      if (r >= 0) for (const [m, t] of modeTimes) (modeRuns.get(m) as Summary[]).push(summarize(t));
      ctx.step(r < 0 ? 'warm-up' : `repeat ${r + 1}/${ctx.repeats}: commit modes`);
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
  const floor = modeRuns.get(COMMIT_MODES[0] as CommitMode) as Summary[];
  for (const m of COMMIT_MODES) {
    const rs = modeRuns.get(m) as Summary[];
    figures[`commit/${m.key}/p50`] = figure(rs.map((x) => x.p50), 'us', 'lower');
    figures[`commit/${m.key}/p99`] = figure(rs.map((x) => x.p99), 'us', 'lower');
    figures[`commit/${m.key}/p50-vs-1-fdatasync`] = figure(rs.map((x, i) => x.p50 / (floor[i] as Summary).p50), 'x', 'lower');
  }
  const recordBytes = encodeLogRecord({ kind: 'accepted', slot: 12345, ballot: { round: 1, proposer: 'p1' }, value: batchOf(12345) }, kvMachine).length;
  const tables: Table[] = [
    {
      title: `Storage as the acceptors use it: latency per awaited append (us) and records/s; log records ${recordBytes} bytes`,
      head: ['target', 'sync', 'records/append', 'p50 us', 'p99 us', 'records/s'],
      rows: CASES.map((c) => [c.target === 'log' ? 'record log (Multi-Paxos)' : 'actor store (single-decree)', c.durable ? 'durable' : 'commit only', String(c.records), fmtFigure(figures[`${key(c)}/p50`]), fmtFigure(figures[`${key(c)}/p99`]), fmtFigure(figures[`${key(c)}/records-per-s`])]),
    },
    {
      title: `One lone durable write of ${COMMIT_VALUE_BYTES} bytes by sync configuration, the cases taking turns one write at a time (us); "safe": an acknowledged write survives a machine crash (docs/storage.md)`,
      head: ['configuration', 'safe', 'p50 us', 'p99 us', 'p50 / one fdatasync'],
      rows: COMMIT_MODES.map((m) => [m.label, m.safe, fmtFigure(figures[`commit/${m.key}/p50`]), fmtFigure(figures[`commit/${m.key}/p99`]), fmtFigure(figures[`commit/${m.key}/p50-vs-1-fdatasync`])]),
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
    config: { repeats: ctx.repeats, warmupAppends: WARMUP_APPENDS, appends: Object.fromEntries(CASES.map((c) => [key(c), appendsOf(ctx.quick, c.records)])), recordBytes, commandsPerRecord: 8, commitModeWrites: commitOpsOf(ctx.quick), commitModeValueBytes: COMMIT_VALUE_BYTES },
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
    'LMDB as the acceptors use it: a lone durable append awaited (latency), and a turn’s worth of records (32 or 256) in one transaction (latency and records/s), for the Multi-Paxos record log and the single-decree store, durable vs commit only; and a lone durable commit under each candidate LMDB sync configuration beside one and two raw fdatasyncs.',
  repeats: { quick: 3, full: 5 },
  steps: (_quick, repeats) => (repeats + 1) * (CASES.length + 1),
  run: runStorage,
};
