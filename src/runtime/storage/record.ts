/**
 * The on-disk encoding of an actor's durable record, shared by every store.
 *
 * A stored record is one line of UTF-8 text:
 *
 *     synod:<schema version>:<crc32 of the body, 8 lowercase hex digits>:<body>
 *
 * for example
 *
 *     synod:1:5d0a3f1c:{"accepted":null,"promised":{"proposer":"p1","round":3},"role":"acceptor"}
 *
 * The body is the record as canonical JSON (keys sorted), so equal records
 * encode to equal bytes and a dump of the store is readable as is. The
 * checksum covers exactly the body bytes as stored, so decoding never has to
 * re-serialise anything to verify it. The version comes first and is checked
 * before anything else, so a later schema may change everything after it.
 */
import { crc32 } from 'node:zlib';
import { isBallot } from '../../core/ballot.js';
import type { DurableRecord } from '../../core/effects.js';
import type { Role } from '../../core/ids.js';
import { canonicalJson, isValue, type Value } from '../../core/value.js';
import { CorruptRecordError } from './types.js';

/** The schema version this build writes, and the only one it reads. */
export const SCHEMA_VERSION = 1;

const MAGIC = 'synod';
const HEADER = /^synod:(0|[1-9]\d{0,8}):([0-9a-f]{8}):/;

/**
 * Encodes `record` for storage. Throws a TypeError when `record` is not a
 * well-formed durable record: writing it would leave a record that `load`
 * must refuse, so the caller's bug would brick the actor at its next restart.
 */
export function encodeRecord(record: DurableRecord): string {
  const problem = recordProblem(record);
  if (problem !== null) {
    throw new TypeError(`refusing to persist an invalid durable record: ${problem}; this is a bug in the caller, which must only persist records its role core produced`);
  }
  const body = canonicalJson(record as unknown as Value);
  return `${MAGIC}:${SCHEMA_VERSION}:${crcHex(body)}:${body}`;
}

/**
 * Decodes and verifies a stored record. `file` and `key` say where it came
 * from, for the error. When `expectedRole` is given, a record of another role
 * is refused too (an actor's directory holding another role's state means
 * the directories were mixed up). Throws {@link CorruptRecordError} on a
 * malformed header, unknown schema version, checksum mismatch, unparsable
 * body, or a body that is not a valid record.
 */
export function decodeRecord(raw: string | Uint8Array, file: string, key: string, expectedRole?: Role): DurableRecord {
  const corrupt = (detail: string) => new CorruptRecordError(file, key, detail);
  // Decode bytes leniently: invalid UTF-8 becomes U+FFFD, which cannot match
  // the checksum of the text that was written, so it is caught below.
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  const header = HEADER.exec(text);
  if (header === null) {
    throw corrupt(`no "${MAGIC}:<version>:<crc32>:" header (starts with ${JSON.stringify(text.slice(0, 24))})`);
  }
  const version = Number(header[1]);
  if (version !== SCHEMA_VERSION) {
    throw corrupt(`unknown schema version ${version} (this build reads version ${SCHEMA_VERSION}); run the synod version that wrote it`);
  }
  const body = text.slice(header[0].length);
  const stored = header[2] as string;
  const actual = crcHex(body);
  if (stored !== actual) {
    throw corrupt(`checksum mismatch (stored crc32 ${stored}, body has ${actual})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw corrupt(`body is not JSON (${(err as Error).message})`);
  }
  const problem = recordProblem(parsed);
  if (problem !== null) throw corrupt(problem);
  const record = parsed as DurableRecord;
  if (expectedRole !== undefined && record.role !== expectedRole) {
    throw corrupt(`holds a ${record.role} record but this actor is a ${expectedRole}`);
  }
  return record;
}

function crcHex(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}

/** Why `x` is not a valid durable record, or null when it is one. */
function recordProblem(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return `record is ${describe(x)}, not an object`;
  const r = x as Record<string, unknown>;
  switch (r.role) {
    case 'acceptor':
      return (
        onlyFields(r, ['role', 'promised', 'accepted']) ??
        (r.promised === null || isBallot(r.promised) ? null : `acceptor "promised" is ${describe(r.promised)}, not a ballot or null`) ??
        proposalProblem(r.accepted, 'acceptor "accepted"')
      );
    case 'proposer':
      return (
        onlyFields(r, ['role', 'roundMax']) ??
        (Number.isSafeInteger(r.roundMax) && (r.roundMax as number) >= 0 ? null : `proposer "roundMax" is ${describe(r.roundMax)}, not a safe integer >= 0`)
      );
    case 'learner':
      return onlyFields(r, ['role', 'decided']) ?? proposalProblem(r.decided, 'learner "decided"');
    default:
      return `unknown role ${describe(r.role)}`;
  }
}

/** Why `x` is not an accepted proposal ({ballot, value}) or null, or null when it is one. */
function proposalProblem(x: unknown, what: string): string | null {
  if (x === null) return null;
  if (typeof x !== 'object' || Array.isArray(x)) return `${what} is ${describe(x)}, not a proposal or null`;
  const p = x as Record<string, unknown>;
  const extra = onlyFields(p, ['ballot', 'value']);
  if (extra !== null) return `${what}: ${extra}`;
  if (!isBallot(p.ballot)) return `${what}.ballot is ${describe(p.ballot)}, not a ballot`;
  if (!isValue(p.value)) return `${what}.value is ${describe(p.value)}, not a JSON value`;
  return null;
}

/**
 * Reports a missing or unexpected field. Unexpected fields are refused
 * because they mean the record was written by another schema than the one
 * its version claims, and guessing what they meant is unsafe.
 */
function onlyFields(r: Record<string, unknown>, fields: readonly string[]): string | null {
  for (const f of fields) if (!Object.hasOwn(r, f)) return `missing field "${f}"`;
  for (const f of Object.keys(r)) if (!fields.includes(f)) return `unexpected field "${f}"`;
  return null;
}

function describe(x: unknown): string {
  if (x === undefined) return 'missing';
  const text = JSON.stringify(x) ?? String(x);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
