/**
 * Fault schedules: the faults of one simulated run as an explicit list, so a
 * run can be recorded, replayed exactly, edited and shrunk.
 *
 * Faults are keyed by the world's step counter. A crash or a partition
 * listed at step `s` happens at the first scheduling point at which the
 * world has reached step `s`. A message fault (drop, dup, delay) applies to
 * a message sent at step `s` — every step is one input to one actor, so
 * `(step, from, to)` names the input that sent it — of type `type`; `nth`
 * tells apart several such messages of one step (almost always 0).
 */
import type { ActorId } from '../core/ids.js';

/** Actor `actor` crashes at step `step` and restarts `downFor` virtual ms later. */
export interface CrashFault {
  readonly kind: 'crash';
  readonly step: number;
  readonly actor: ActorId;
  readonly downFor: number;
}

/** At step `step` the actors split into `side` and the rest; the partition heals `healAfter` virtual ms later. */
export interface PartitionFault {
  readonly kind: 'partition';
  readonly step: number;
  readonly side: readonly ActorId[];
  readonly healAfter: number;
}

/**
 * At step `step` an administrator asks the replicated log to change its
 * acceptors and learners to these, and its proposers too when `proposers`
 * is given (a reconfiguration, see `core/multipaxos/views.ts`); the
 * protocol decides when, or whether, it takes effect. Only a protocol with
 * views has it (the key-value store).
 */
export interface ReconfigFault {
  readonly kind: 'reconfig';
  readonly step: number;
  readonly acceptors: readonly ActorId[];
  readonly learners: readonly ActorId[];
  /** The new proposers; absent: the proposers stay as they are. */
  readonly proposers?: readonly ActorId[];
}

/** A reconfiguration as text: `acceptors {a1,a2}, learners {l1}` (and `, proposers {p1}` when it changes them). */
export function describeReconfig(f: ReconfigFault): string {
  return `acceptors {${f.acceptors.join(',')}}, learners {${f.learners.join(',')}}${f.proposers ? `, proposers {${f.proposers.join(',')}}` : ''}`;
}

/** Which message a message fault applies to. */
export interface MessageKey {
  readonly step: number;
  readonly from: ActorId;
  readonly to: ActorId;
  /** The message's type tag: one of the protocol's messages, or a client link's (`request`, `reply`, `redirect`). */
  readonly type: string;
  /** Index among the messages of this type from `from` to `to` sent at this step. */
  readonly nth: number;
}

/** The message is lost. */
export interface DropFault extends MessageKey {
  readonly kind: 'drop';
}

/** The message is delivered twice; the extra copy arrives `extra` virtual ms after the send. */
export interface DupFault extends MessageKey {
  readonly kind: 'dup';
  readonly extra: number;
}

/** The message is held back: it arrives `by` virtual ms after the send (instead of a normal delay). */
export interface DelayFault extends MessageKey {
  readonly kind: 'delay';
  readonly by: number;
}

/** One injected fault. */
export type ScheduledFault = CrashFault | PartitionFault | ReconfigFault | DropFault | DupFault | DelayFault;
/** A message fault. */
export type MessageFault = DropFault | DupFault | DelayFault;

/** The faults of a run, in the order they happened. */
export type FaultSchedule = readonly ScheduledFault[];

/** The file format written by `synod sim` and `synod kv-sim` (`--shrink-out`, `--save-schedule`) and read by `--schedule`. */
export interface ScheduleFile {
  readonly format: 'synod-fault-schedule';
  readonly version: 1;
  /** The seed the schedule was recorded with (informative; the command line's `--seed` wins). */
  readonly seed?: number;
  /** The step bound it was shrunk to (informative). */
  readonly steps?: number;
  readonly faults: FaultSchedule;
}

/** True for drop, dup and delay. */
export function isMessageFault(f: ScheduledFault): f is MessageFault {
  return f.kind === 'drop' || f.kind === 'dup' || f.kind === 'delay';
}

/** The lookup key of a message fault. */
export function messageKey(k: Pick<MessageKey, 'step' | 'from' | 'to' | 'type' | 'nth'>): string {
  return `${k.step}|${k.from}|${k.to}|${k.type}|${k.nth}`;
}

/** One fault as a line of text, e.g. `step   412  crash a3, down 57 ms`. */
export function describeFault(f: ScheduledFault): string {
  const at = `step ${String(f.step).padStart(5)}  `;
  switch (f.kind) {
    case 'crash':
      return `${at}crash ${f.actor}, down ${f.downFor} ms`;
    case 'partition':
      return `${at}partition {${f.side.join(',')}} | rest, heals after ${f.healAfter} ms`;
    case 'reconfig':
      return `${at}reconfigure to ${describeReconfig(f)}`;
    case 'drop':
      return `${at}drop ${msgName(f)}`;
    case 'dup':
      return `${at}dup ${msgName(f)}, extra copy after ${f.extra} ms`;
    case 'delay':
      return `${at}delay ${msgName(f)} by ${f.by} ms`;
  }
}

function msgName(k: MessageKey): string {
  return `${k.from}->${k.to} ${k.type}${k.nth > 0 ? ` #${k.nth}` : ''}`;
}

/** The message types of single-decree Paxos: what a `synod sim` schedule's message faults may name. */
export const SYNOD_MESSAGE_TYPES: readonly string[] = Object.freeze(['prepare', 'promise', 'nack', 'accept', 'accepted', 'decide']);

/**
 * Validates a parsed JSON value as a schedule file (or a bare array of
 * faults) whose message faults name one of `messageTypes`. Throws an Error
 * naming the first thing that is wrong.
 */
export function parseScheduleFile(raw: unknown, messageTypes: readonly string[] = SYNOD_MESSAGE_TYPES): ScheduleFile {
  const obj = Array.isArray(raw) ? { format: 'synod-fault-schedule', version: 1, faults: raw } : raw;
  if (typeof obj !== 'object' || obj === null) throw new Error('a schedule file is a JSON object with a "faults" array');
  const o = obj as Record<string, unknown>;
  if (o.format !== undefined && o.format !== 'synod-fault-schedule') throw new Error(`unknown format ${JSON.stringify(o.format)}`);
  if (o.version !== undefined && o.version !== 1) throw new Error(`unsupported version ${JSON.stringify(o.version)}`);
  if (!Array.isArray(o.faults)) throw new Error('a schedule file is a JSON object with a "faults" array');
  const faults = o.faults.map((f: unknown, i: number) => parseFault(f, `faults[${i}]`, messageTypes));
  const optInt = (name: string) => {
    const v = o[name];
    if (v === undefined) return undefined;
    if (!Number.isSafeInteger(v)) throw new Error(`"${name}" must be an integer`);
    return v as number;
  };
  const seed = optInt('seed');
  const steps = optInt('steps');
  return { format: 'synod-fault-schedule', version: 1, ...(seed !== undefined ? { seed } : {}), ...(steps !== undefined ? { steps } : {}), faults };
}

function parseFault(raw: unknown, where: string, messageTypes: readonly string[]): ScheduledFault {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${where}: expected an object`);
  const o = raw as Record<string, unknown>;
  const int = (name: string, min: number): number => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new Error(`${where}.${name}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const str = (name: string): string => {
    const v = o[name];
    if (typeof v !== 'string' || v === '') throw new Error(`${where}.${name}: expected an actor name, got ${JSON.stringify(v)}`);
    return v;
  };
  const step = int('step', 0);
  const key = (): MessageKey => {
    const type = o.type;
    if (typeof type !== 'string' || !messageTypes.includes(type)) throw new Error(`${where}.type: expected one of ${messageTypes.join(', ')}, got ${JSON.stringify(type)}`);
    return { step, from: str('from'), to: str('to'), type, nth: int('nth', 0) };
  };
  switch (o.kind) {
    case 'crash':
      return { kind: 'crash', step, actor: str('actor'), downFor: int('downFor', 0) };
    case 'partition': {
      const side = o.side;
      if (!Array.isArray(side) || side.length === 0 || !side.every((a) => typeof a === 'string' && a !== '')) throw new Error(`${where}.side: expected a non-empty array of actor names`);
      return { kind: 'partition', step, side: side as string[], healAfter: int('healAfter', 0) };
    }
    case 'reconfig': {
      const ids = (name: string): string[] => {
        const v = o[name];
        if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string' && a !== '')) throw new Error(`${where}.${name}: expected a non-empty array of actor names`);
        return v as string[];
      };
      return { kind: 'reconfig', step, acceptors: ids('acceptors'), learners: ids('learners'), ...(o.proposers !== undefined ? { proposers: ids('proposers') } : {}) };
    }
    case 'drop':
      return { kind: 'drop', ...key() };
    case 'dup':
      return { kind: 'dup', ...key(), extra: int('extra', 0) };
    case 'delay':
      return { kind: 'delay', ...key(), by: int('by', 0) };
    default:
      throw new Error(`${where}.kind: expected crash, partition, reconfig, drop, dup or delay, got ${JSON.stringify(o.kind)}`);
  }
}

/** Checks that every actor a schedule names exists; returns the first unknown one. */
export function unknownActor(schedule: FaultSchedule, actors: readonly ActorId[]): ActorId | null {
  const known = new Set(actors);
  for (const f of schedule) {
    const names = f.kind === 'crash' ? [f.actor] : f.kind === 'partition' ? f.side : f.kind === 'reconfig' ? [...f.acceptors, ...f.learners, ...(f.proposers ?? [])] : [f.from, f.to];
    for (const a of names) if (!known.has(a)) return a;
  }
  return null;
}
