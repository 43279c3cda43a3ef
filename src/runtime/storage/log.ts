/**
 * The append-only record log of a Multi-Paxos actor: an acceptor's promises
 * and accepted slots, a proposer's rounds. Recovery replays the records in
 * the order they were written (initMpActor does that), so the log never
 * rewrites anything; it only appends.
 *
 * On disk (openLmdbLog) it is one LMDB environment per actor, as for the
 * single-decree store (./lmdb.ts), whose durability rule it follows: each
 * record is its own key, the key is the record's sequence number (0, 1, 2,
 * ... as a number key, which lmdb-js's ordered-binary key encoding sorts
 * numerically, so key order is write order), and the value is
 *
 *     synod:<schema version>:<crc32 of the body, 8 hex digits>:<body>
 *
 * the same header the single-decree store writes, with the record as JSON
 * for the body. A record that fails its header, version, checksum or shape
 * check on load is a {@link CorruptRecordError} naming the file and the key.
 *
 * Group commit. lmdb-js puts every asynchronous write issued in one event
 * turn into one transaction (`eventTurnBatching`, on by default), so all the
 * appends of one turn share one commit and one fsync; `append` issues its
 * puts synchronously, before any await, so it never pushes a write into a
 * later turn. That is where the throughput of a durable log comes from: an
 * fsync costs ~100-400 us here whether it covers one record or a thousand.
 *
 * Durability. With `durable` (the default) `append` resolves only once its
 * transaction is flushed: it awaits the commit of its puts (which is what
 * rejects when a write fails) and then the `flushed` promise of its last put
 * (lmdb-js's `separateFlushed`); the puts of one append are in one
 * transaction, and a flush covers every transaction committed before it.
 * With `durable: false` it resolves at commit, before the fsync.
 *
 * Compaction. A `trim` record (every slot below `upTo` is chosen, applied by
 * every learner, and will never be needed again) deletes, in the same
 * transaction, the accepted records of those slots and the trim records
 * before it; a learner's `snapshot` record deletes the snapshots before it;
 * an acceptor's `promised` record deletes the promises before it, and a
 * proposer's `round` record the rounds before it. Replaying what is left
 * rebuilds the same state, since replay drops trimmed slots and keeps only
 * the latest snapshot, the highest promise and the highest round anyway (and
 * the cores write a promise or a round only when it is higher than every one
 * before it, so the latest is the highest); the log stays ordered by key,
 * with gaps. Without this an acceptor that promised once per election and a
 * proposer that stood in every election kept every such record forever.
 *
 * Only asynchronous writes are used, for the reason ./lmdb.ts gives
 * (terminating a worker inside a synchronous lmdb write can abort the
 * process). Reads are synchronous.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { liveStorageError, openCheckedEnvironment } from './environment.js';
import type { EnvironmentOptions } from './types.js';
import { isBallot } from '../../core/ballot.js';
import type { AnyStateMachine } from '../../core/multipaxos/machine.js';
import type { MpRecord } from '../../core/multipaxos/types.js';
import { viewsProblem } from '../../core/multipaxos/views.js';
import { batchJson, batchProblem, snapshotProblem } from '../../core/multipaxos/wire.js';
import { CorruptRecordError } from './types.js';

/** The schema version of log records this build writes, and the only one it reads. */
export const LOG_SCHEMA_VERSION = 1;

const HEADER = /^synod:(0|[1-9]\d{0,8}):([0-9a-f]{8}):/;

/** An actor's append-only record log. */
export interface RecordLog {
  /** The directory of the LMDB environment, or null for an in-memory log. */
  readonly path: string | null;
  /**
   * Appends `records`, in order, after every record appended before. Resolves
   * once they are durable (or committed, when the log is not durable); all
   * the appends of one event turn share one transaction. Rejects if the write
   * fails: then nothing that depends on these records may be acted on.
   */
  append(records: readonly MpRecord[]): Promise<void>;
  /** Every record, in the order written (less those a trim deleted). */
  load(): Promise<MpRecord[]>;
  /** Waits for pending writes, then closes. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link openLmdbLog}. */
export interface LmdbLogOptions extends EnvironmentOptions {
  /**
   * When true (the default) `append` resolves only once the records are
   * synced to disk; when false, once committed and visible. Only for
   * experiments: a machine crash can then lose records whose replies were sent.
   */
  readonly durable?: boolean;
  /** The state machine whose commands and snapshots the log holds: records read back are checked against it. */
  readonly machine: AnyStateMachine;
}

/** A put promise as lmdb-js returns it with `separateFlushed` (the `flushed` field is not in its typings). */
type PutPromise = Promise<boolean> & { readonly flushed?: PromiseLike<unknown> };

/** Opens (creating `dir` if missing) the LMDB record log of one actor. */
export async function openLmdbLog(dir: string, opts: LmdbLogOptions): Promise<RecordLog> {
  const durable = opts.durable ?? true;
  const who = opts.actorId === undefined ? 'the record log' : `the record log of actor ${opts.actorId}`;
  const { db, path, file, space } = openCheckedEnvironment<number>(dir, who, opts);
  // The next sequence number follows the last key written, so a reopened log appends after its records.
  let next = 0;
  for (const key of db.getKeys({ reverse: true, limit: 1 })) {
    if (!Number.isSafeInteger(key) || key < 0) throw new CorruptRecordError(file, String(key), 'the last key is not a record sequence number; this is not a synod record log');
    next = key + 1;
  }
  /** The keys of the records compaction may delete: accepted records by slot, trims and snapshots. Built by load(). */
  const bySlot = new Map<number, number[]>();
  let trims: number[] = [];
  let snapshots: number[] = [];
  let promises: number[] = [];
  let rounds: number[] = [];
  let viewRecords: number[] = [];
  /** Obsolete records a load found (see load); deleted with the next append. */
  let leftover: number[] = [];
  /** Indexes record `key` and returns the keys it makes obsolete (dropping them from the index). */
  const index = (record: MpRecord, key: number): number[] => {
    if (record.kind === 'accepted') {
      const keys = bySlot.get(record.slot);
      if (keys) keys.push(key);
      else bySlot.set(record.slot, [key]);
      return [];
    }
    if (record.kind === 'snapshot') {
      const older = snapshots;
      snapshots = [key];
      return older;
    }
    if (record.kind === 'promised') {
      const older = promises;
      promises = [key];
      return older;
    }
    if (record.kind === 'round') {
      const older = rounds;
      rounds = [key];
      return older;
    }
    if (record.kind === 'views') {
      const older = viewRecords;
      viewRecords = [key];
      return older;
    }
    if (record.kind !== 'trim') return [];
    const older = trims;
    trims = [key];
    for (const [slot, slotKeys] of bySlot) {
      if (slot >= record.upTo) continue;
      for (const k of slotKeys) older.push(k);
      bySlot.delete(slot);
    }
    return older;
  };
  let closing: Promise<void> | null = null;
  const closedError = (op: string) => new Error(`cannot ${op}: ${who} in ${path} is closed; open it again with openLmdbLog`);
  const failed = (err: unknown): never => {
    throw liveStorageError(err, file, `appending (${who}) to`, 'the records are not durable, so the replies riding on them must not be sent');
  };

  return {
    path,

    // Not `async`: the puts must be issued synchronously in the caller's turn.
    append(records: readonly MpRecord[]): Promise<void> {
      if (closing !== null) return Promise.reject(closedError('append'));
      if (records.length === 0) return Promise.resolve();
      const puts: PutPromise[] = [];
      try {
        // Encode everything first, so a bad record writes nothing.
        const encoded = records.map((r) => encodeLogRecord(r, opts.machine));
        space.take(encoded.reduce((n, b) => n + b.length, 0));
        records.forEach((record, i) => {
          const key = next++;
          puts.push(db.put(key, encoded[i] as Buffer) as PutPromise);
          // Issued in this turn too, so the deletes commit in the same transaction as the record that obsoletes them.
          for (const old of index(record, key)) puts.push(db.remove(old) as PutPromise);
        });
        for (const old of leftover) puts.push(db.remove(old) as PutPromise);
        leftover = [];
      } catch (err) {
        return Promise.reject(err instanceof TypeError ? err : liveStorageError(err, file, `appending (${who}) to`, 'nothing was written'));
      }
      const last = puts[puts.length - 1] as PutPromise;
      const committed = puts.length === 1 ? last : Promise.all(puts);
      // The commit comes first because it is what rejects when the transaction fails; `flushed` only ever resolves.
      const done = durable ? committed.then(() => last.flushed ?? db.flushed) : committed;
      return done.then(() => undefined, failed);
    },

    async load(): Promise<MpRecord[]> {
      if (closing !== null) throw closedError('load');
      const records: MpRecord[] = [];
      bySlot.clear();
      trims = [];
      snapshots = [];
      promises = [];
      rounds = [];
      viewRecords = [];
      leftover = [];
      for (const { key, value } of db.getRange({})) {
        if (!Number.isSafeInteger(key) || key < 0) throw new CorruptRecordError(file, String(key), 'the key is not a record sequence number; this is not a synod record log');
        const record = decodeLogRecord(value, file, String(key), opts.machine);
        // Deletes commit with the record that obsoletes them, so what a load finds obsolete was written
        // by a build that did not compact it (promises and rounds were once kept forever): the next append
        // deletes it. It is still returned, since replay keeps only the latest anyway.
        for (const old of index(record, key)) leftover.push(old);
        records.push(record);
      }
      return records;
    },

    close(): Promise<void> {
      // lmdb-js's close waits for pending commits and their flushes first.
      closing ??= db.close();
      return closing;
    },
  };
}

/**
 * The record log's part of a spare's warm-up (after warmUpLmdb, in
 * ./environment.ts): opens a throwaway log, appends a record and loads it
 * back, so that the code of a log's open, load and append is compiled
 * before a restart needs it (a key-value acceptor's first load of its log
 * took ~0.9 ms in a fresh worker here, against ~0.1 ms once compiled). Best
 * effort: any failure is ignored. On Linux the directory is removed in the
 * synchronous stretch that opens it, as warmUpLmdb does, so a spare halted
 * meanwhile leaves nothing behind.
 */
export async function warmUpLog(machine: AnyStateMachine): Promise<void> {
  const unlinkEarly = process.platform === 'linux';
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), 'synod-warm-log-'));
    // openLmdbLog opens the environment before its first await.
    const opening = openLmdbLog(join(dir, 'log'), { machine, minFreeBytes: 0 });
    if (unlinkEarly) {
      rmSync(dir, { recursive: true, force: true });
      dir = null;
    }
    const log = await opening;
    await log.append([{ kind: 'promised', ballot: { round: 1, proposer: 'p1' } }]);
    await log.load();
    await log.close();
  } catch {
    // Only a warm-up.
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}

/**
 * Opens an empty in-memory log, for `storage: 'memory'` experiments.
 * Nothing survives the worker, so an acceptor using it forgets its promises
 * on a crash; only use it where that is the point (or for measuring what the
 * disk costs). Appends resolve on a microtask, so a caller still cannot see a
 * record durable within the turn it was appended in. Records are kept as
 * given, not encoded: they are immutable objects made by a core (which never
 * changes a record after emitting it), and copying them would measure
 * copying rather than the protocol.
 */
export function openMemoryLog(): RecordLog {
  let records: MpRecord[] = [];
  let closed = false;
  const closedError = () => new Error('this in-memory record log is closed; open a new one with openMemoryLog()');
  return {
    path: null,
    append(added: readonly MpRecord[]): Promise<void> {
      if (closed) return Promise.reject(closedError());
      for (const r of added) {
        // Compaction drops what a record makes obsolete, as the LMDB log does, so a long run stays within memory.
        if (r.kind === 'trim') records = records.filter((old) => old.kind !== 'trim' && !(old.kind === 'accepted' && old.slot < r.upTo));
        if (r.kind === 'snapshot' || r.kind === 'promised' || r.kind === 'round' || r.kind === 'views') records = records.filter((old) => old.kind !== r.kind);
        records.push(r);
      }
      return Promise.resolve();
    },
    async load(): Promise<MpRecord[]> {
      if (closed) throw closedError();
      return [...records];
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}

/**
 * Encodes one record for the log. Throws a TypeError for a record whose
 * kind, slot, ballot or round is malformed, which `load` would refuse (the
 * commands of a batch were validated when they arrived, and are checked
 * again on load).
 */
export function encodeLogRecord(record: MpRecord, machine: AnyStateMachine): Buffer {
  const problem = shallowProblem(record, machine);
  if (problem !== null) throw new TypeError(`refusing to append an invalid log record: ${problem}; this is a bug in the caller, which must only append records its role core produced`);
  // A batch is usually logged as the very text it arrived in (see batchJson).
  const body = record.kind === 'accepted' ? `{"kind":"accepted","slot":${record.slot},"ballot":${JSON.stringify(record.ballot)},"value":${batchJson(record.value)}}` : JSON.stringify(record);
  return Buffer.from(`synod:${LOG_SCHEMA_VERSION}:${crcHex(body)}:${body}`, 'utf8');
}

/**
 * Decodes and verifies one log record. `file` and `key` say where it came
 * from, for the error. Throws {@link CorruptRecordError} on a malformed
 * header, an unknown schema version, a checksum mismatch, an unparsable body,
 * or a body that is not a well-formed record.
 */
export function decodeLogRecord(raw: string | Uint8Array, file: string, key: string, machine: AnyStateMachine): MpRecord {
  const corrupt = (detail: string) => new CorruptRecordError(file, key, detail);
  // Invalid UTF-8 becomes U+FFFD, which cannot match the checksum of the text written.
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  const header = HEADER.exec(text);
  if (header === null) throw corrupt(`no "synod:<version>:<crc32>:" header (starts with ${JSON.stringify(text.slice(0, 24))})`);
  const version = Number(header[1]);
  if (version !== LOG_SCHEMA_VERSION) throw corrupt(`unknown log schema version ${version} (this build reads version ${LOG_SCHEMA_VERSION}); run the synod version that wrote it`);
  const body = text.slice(header[0].length);
  const stored = header[2] as string;
  const actual = crcHex(body);
  if (stored !== actual) throw corrupt(`checksum mismatch (stored crc32 ${stored}, body has ${actual})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw corrupt(`body is not JSON (${(err as Error).message})`);
  }
  const problem = shallowProblem(parsed, machine);
  if (problem !== null) throw corrupt(problem);
  const record = parsed as MpRecord;
  if (record.kind !== 'accepted') return record;
  const batch = batchProblem(record.value, machine);
  if (batch !== null) throw corrupt(`slot ${record.slot}: ${batch}`);
  return record;
}

/** Why a record's optional `views` are bad (null when absent or good). */
function optionalViews(r: Record<string, unknown>): string | null {
  return r.views === undefined ? null : viewsProblem(r.views);
}

function crcHex(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}

/** Why `x` is not a log record, looking at everything but the commands of a batch (a snapshot is checked whole); null when it is one. */
function shallowProblem(x: unknown, machine: AnyStateMachine): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'the record is not an object';
  const r = x as Record<string, unknown>;
  const fields = (names: readonly string[]) => {
    const extra = Object.keys(r).find((k) => !names.includes(k));
    return extra === undefined ? null : `unexpected field ${JSON.stringify(extra)} in a ${String(r.kind)} record`;
  };
  switch (r.kind) {
    case 'promised':
      return fields(['kind', 'ballot']) ?? (isBallot(r.ballot) ? null : 'a promised record without a valid ballot');
    case 'accepted':
      if (!Number.isSafeInteger(r.slot) || (r.slot as number) < 0) return 'an accepted record without a valid slot';
      if (!isBallot(r.ballot)) return `accepted slot ${String(r.slot)} without a valid ballot`;
      if (!Array.isArray(r.value)) return `accepted slot ${String(r.slot)} without a batch`;
      return fields(['kind', 'slot', 'ballot', 'value']);
    case 'round':
      return fields(['kind', 'roundMax']) ?? (Number.isSafeInteger(r.roundMax) && (r.roundMax as number) >= 0 ? null : 'a round record without a valid roundMax');
    case 'trim':
      return fields(['kind', 'upTo', 'views']) ?? (Number.isSafeInteger(r.upTo) && (r.upTo as number) >= 0 ? null : 'a trim record without a valid upTo') ?? optionalViews(r);
    case 'views':
      return fields(['kind', 'base', 'views']) ?? (Number.isSafeInteger(r.base) && (r.base as number) >= 0 ? null : 'a views record without a valid base') ?? viewsProblem(r.views);
    case 'snapshot': {
      const bad = fields(['kind', 'upTo', 'data', 'sessions', 'views']) ?? optionalViews(r);
      if (bad !== null) return bad;
      const problem = snapshotProblem(r, machine);
      return problem === null ? null : `a snapshot record: ${problem}`;
    }
    default:
      return `unknown record kind ${JSON.stringify(r.kind) ?? String(r.kind)}`;
  }
}
