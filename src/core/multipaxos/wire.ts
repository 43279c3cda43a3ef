/**
 * The wire form of Multi-Paxos messages between actors, and the validation
 * of everything that arrives from a peer, which is untrusted. Pure: used by
 * every host (the worker entry, the simulated worlds) through the protocol
 * description in src/host/multipaxos.ts, and by the record log for the
 * batches it stores.
 *
 * A batch of commands travels between actors as JSON text, encoded once per
 * batch object and cached (`batchJson`): the leader encodes a batch
 * once for its accepts to every acceptor, its retries and its commits; an
 * acceptor writes the text it received to its log as it is. A string clones
 * as a memcpy, and JSON.parse on the receiving side costs about half of what
 * deserialising the same objects does. A commit's batches are not parsed
 * here at all: the receiving core parses the text when it needs the
 * commands (see CommitEntry).
 */
import type { Ballot } from '../ballot.js';
import type { ActorId } from '../ids.js';
import type { AnyStateMachine } from './machine.js';
import type { AcceptedEntry, Batch, CommitEntry, MpMessage, MpSnapshot, SlotEntry } from './types.js';
import { exactBallot, exactFieldsProblem, isActorIdText } from '../messages.js';
import { membershipProblem, viewsProblem, type View } from './views.js';

/** JSON texts of batches already encoded or decoded in this thread, by batch object. */
const batchTexts = new WeakMap<Batch, string>();

/**
 * The JSON text of `batch`, encoded at most once per batch object: a batch
 * is immutable once a core has made it (cores never change a batch after
 * putting it in a message or a record), and one batch object is sent to
 * every acceptor, re-sent, committed and logged.
 */
export function batchJson(batch: Batch): string {
  let text = batchTexts.get(batch);
  if (text === undefined) {
    text = JSON.stringify(batch);
    batchTexts.set(batch, text);
  }
  return text;
}

/** The JSON text of a committed value: the text itself, or its batch's (see CommitEntry). */
export function committedJson(value: Batch | string): string {
  return typeof value === 'string' ? value : batchJson(value);
}

/** The batch of a committed value: the batch itself, or its text parsed and checked against `machine` (see parseBatch); or why the text is no batch. */
export function committedBatch(value: Batch | string, machine: AnyStateMachine): Batch | string {
  return typeof value === 'string' ? parseBatch(value, machine) : value;
}

/**
 * The wire form of a message between actors: the message with the value of
 * every slot entry replaced by its batch's JSON text. Other messages travel
 * as they are. `validateMpMessage` reads it back.
 */
export function toWire(msg: MpMessage): unknown {
  switch (msg.type) {
    case 'accept':
    case 'vote':
    case 'commit':
      return { ...msg, entries: wireEntries(msg.entries) };
    case 'promise':
      return { ...msg, entries: msg.entries.map((e) => ({ slot: e.slot, ballot: e.ballot, value: batchJson(e.value) })) };
    case 'read':
      return { ...msg, commands: batchJson(msg.commands) };
    default:
      return msg;
  }
}

/** The slot entries `wireEntries` made last, and their wire form. */
let lastEntries: readonly CommitEntry[] | null = null;
let lastWireEntries: ReadonlyArray<{ readonly slot: number; readonly value: string }> = [];

/**
 * The wire form of slot entries, made once for the entries of one slot
 * range: a leader sends the same entries to every acceptor (one accept
 * each) and one commit to every learner and proposer, one after the other.
 * Entries are as immutable as the batches they carry, and a wire form is
 * only read (copied onto a link, or validated), so sharing it is safe.
 */
function wireEntries(entries: readonly CommitEntry[]): ReadonlyArray<{ readonly slot: number; readonly value: string }> {
  if (entries !== lastEntries) {
    lastWireEntries = entries.map((e) => ({ slot: e.slot, value: committedJson(e.value) }));
    lastEntries = entries;
  }
  return lastWireEntries;
}

/** The result of `validateMpMessage`: the message, or why it was refused. */
export type MpValidated = { readonly ok: true; readonly msg: MpMessage } | { readonly ok: false; readonly reason: string };

/** Message types that may carry the log's views as well (see `views.ts`). */
const WITH_VIEWS: ReadonlySet<MpMessage['type']> = new Set(['promise', 'trim', 'snapshot', 'heartbeat']);

/** The views a message carries, checked, or why they are bad; undefined when it carries none. */
function carriedViews(m: Record<string, unknown>): readonly View[] | undefined | string {
  if (!('views' in m)) return undefined;
  const problem = viewsProblem(m.views);
  return problem === null ? (m.views as View[]) : problem;
}

/** The fields each message type has on the wire, and no others (besides `views`, see WITH_VIEWS). */
const FIELDS: Readonly<Record<MpMessage['type'], readonly string[]>> = {
  prevote: ['type', 'from', 'ballot'],
  'prevote-ok': ['type', 'from', 'ballot'],
  prepare: ['type', 'from', 'ballot', 'fromSlot'],
  promise: ['type', 'from', 'ballot', 'entries', 'trimmed'],
  nack: ['type', 'from', 'ballot', 'promised'],
  accept: ['type', 'from', 'ballot', 'entries'],
  accepted: ['type', 'from', 'ballot', 'slots'],
  vote: ['type', 'from', 'ballot', 'entries'],
  commit: ['type', 'from', 'entries'],
  heartbeat: ['type', 'from', 'ballot', 'commitIndex'],
  catchup: ['type', 'from', 'fromSlot'],
  applied: ['type', 'from', 'upTo'],
  trim: ['type', 'from', 'upTo'],
  'snapshot-request': ['type', 'from', 'learner'],
  snapshot: ['type', 'from', 'upTo', 'data', 'sessions'],
  confirm: ['type', 'from', 'ballot', 'id'],
  confirmed: ['type', 'from', 'ballot', 'id'],
  read: ['type', 'from', 'index', 'commands'],
};

/**
 * Checks that untrusted input is exactly an `MpMessage` in wire form (see
 * `toWire`) and returns a fresh copy of its envelope: the fields of its type
 * and no others, at every level (ballots, entries, commands, their ops),
 * safe-integer slots and rounds, JSON values. Commands inside batches are
 * checked in place, see `batchProblem`; their operations, and snapshots, by
 * `machine`, the state machine the log carries. Whether a ballot or a slot is
 * acceptable is the receiving core's guard to decide.
 */
export function validateMpMessage(x: unknown, machine: AnyStateMachine): MpValidated {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return refuse('not an object');
  const m = x as Record<string, unknown>;
  const from = m.from;
  if (!isActorIdText(from)) return refuse('missing sender');
  if (typeof m.type !== 'string' || !Object.hasOwn(FIELDS, m.type)) return refuse('unknown message type');
  const type = m.type as MpMessage['type'];
  const extra = exactFieldsProblem(m, 'views' in m && WITH_VIEWS.has(type) ? [...FIELDS[type], 'views'] : FIELDS[type], type);
  if (extra !== null) return refuse(extra);
  let b: Ballot | null = null;
  if (BALLOTED.has(type)) {
    const ballot = exactBallot(m.ballot);
    if (typeof ballot === 'string') return refuse(`bad ballot in ${type}`);
    b = ballot;
  }
  switch (type) {
    case 'prevote':
    case 'prevote-ok':
      return { ok: true, msg: { type, from, ballot: b as Ballot } };
    case 'prepare':
      if (!isSlot(m.fromSlot)) return refuse('bad fromSlot');
      return { ok: true, msg: { type: 'prepare', from, ballot: b as Ballot, fromSlot: m.fromSlot } };
    case 'promise': {
      const entries = acceptedEntries(m.entries, machine);
      if (typeof entries === 'string') return refuse(`promise: ${entries}`);
      if (!isSlot(m.trimmed)) return refuse('promise: bad trimmed');
      const views = carriedViews(m);
      if (typeof views === 'string') return refuse(`promise: ${views}`);
      return { ok: true, msg: { type: 'promise', from, ballot: b as Ballot, entries, trimmed: m.trimmed, ...(views ? { views } : {}) } };
    }
    case 'nack': {
      const promised = exactBallot(m.promised, 'promised ballot');
      if (typeof promised === 'string') return refuse('bad promised ballot');
      return { ok: true, msg: { type: 'nack', from, ballot: b as Ballot, promised } };
    }
    case 'accept': {
      const entries = slotEntries(m.entries, machine);
      if (typeof entries === 'string') return refuse(`accept: ${entries}`);
      return { ok: true, msg: { type: 'accept', from, ballot: b as Ballot, entries } };
    }
    case 'accepted': {
      if (!Array.isArray(m.slots) || !m.slots.every(isSlot)) return refuse('accepted: slots must be an array of slot numbers');
      return { ok: true, msg: { type: 'accepted', from, ballot: b as Ballot, slots: [...(m.slots as number[])] } };
    }
    case 'vote': {
      const entries = commitEntries(m.entries);
      if (typeof entries === 'string') return refuse(`vote: ${entries}`);
      return { ok: true, msg: { type: 'vote', from, ballot: b as Ballot, entries } };
    }
    case 'commit': {
      const entries = commitEntries(m.entries);
      if (typeof entries === 'string') return refuse(`commit: ${entries}`);
      return { ok: true, msg: { type: 'commit', from, entries } };
    }
    case 'heartbeat': {
      if (!isSlot(m.commitIndex)) return refuse('bad commitIndex');
      const views = carriedViews(m);
      if (typeof views === 'string') return refuse(`heartbeat: ${views}`);
      return { ok: true, msg: { type: 'heartbeat', from, ballot: b as Ballot, commitIndex: m.commitIndex, ...(views ? { views } : {}) } };
    }
    case 'catchup':
      if (!isSlot(m.fromSlot)) return refuse('bad fromSlot');
      return { ok: true, msg: { type: 'catchup', from, fromSlot: m.fromSlot } };
    case 'applied':
      if (!isSlot(m.upTo)) return refuse('applied: bad upTo');
      return { ok: true, msg: { type, from, upTo: m.upTo } };
    case 'trim': {
      if (!isSlot(m.upTo)) return refuse('trim: bad upTo');
      const views = carriedViews(m);
      if (typeof views === 'string') return refuse(`trim: ${views}`);
      return { ok: true, msg: { type, from, upTo: m.upTo, ...(views ? { views } : {}) } };
    }
    case 'snapshot-request':
      if (!isActorIdText(m.learner)) return refuse('snapshot-request: no learner');
      return { ok: true, msg: { type: 'snapshot-request', from, learner: m.learner } };
    case 'snapshot':
      return snapshot(from, m, machine);
    case 'confirm':
    case 'confirmed':
      if (!isSlot(m.id)) return refuse(`${type}: bad id`);
      return { ok: true, msg: { type, from, ballot: b as Ballot, id: m.id } };
    case 'read': {
      if (!isSlot(m.index)) return refuse('read: bad index');
      const commands = parseBatch(m.commands, machine);
      if (typeof commands === 'string') return refuse(`read: ${commands}`);
      return { ok: true, msg: { type: 'read', from, index: m.index, commands } };
    }
  }
}

/** The message types that carry a ballot. */
const BALLOTED: ReadonlySet<unknown> = new Set(['prevote', 'prevote-ok', 'prepare', 'promise', 'nack', 'accept', 'accepted', 'vote', 'heartbeat', 'confirm', 'confirmed']);

function refuse(reason: string): MpValidated {
  return { ok: false, reason };
}

/** A slot number (or slot count): a safe integer >= 0. */
function isSlot(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

/**
 * Slot entries `{slot, value}`, exactly, with each value read by `text`:
 * from the batch's JSON text to the entry's value, or why it is refused.
 */
function entriesOf<V>(x: unknown, text: (value: string) => V | { readonly problem: string }): Array<{ slot: number; value: V }> | string {
  if (!Array.isArray(x)) return 'entries must be an array';
  const out: Array<{ slot: number; value: V }> = [];
  for (const e of x as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'an entry is not an object';
    const shape = exactFieldsProblem(e, ['slot', 'value'], 'an entry');
    if (shape !== null) return shape;
    const { slot, value } = e as Record<string, unknown>;
    if (!isSlot(slot)) return 'an entry has a bad slot';
    if (typeof value !== 'string') return `slot ${slot}: a batch is not JSON text`;
    const read = text(value);
    if (typeof read === 'object' && read !== null && 'problem' in read) return `slot ${slot}: ${read.problem}`;
    out.push({ slot, value: read as V });
  }
  return out;
}

function slotEntries(x: unknown, machine: AnyStateMachine): SlotEntry[] | string {
  return entriesOf<Batch>(x, (value) => {
    const batch = parseBatch(value, machine);
    return typeof batch === 'string' ? { problem: batch } : batch;
  });
}

/** A commit's or a vote's entries: slots and JSON texts, which the receiving core parses and checks when it needs the commands (see CommitEntry). */
function commitEntries(x: unknown): CommitEntry[] | string {
  return entriesOf<string>(x, (value) => value);
}

function acceptedEntries(x: unknown, machine: AnyStateMachine): AcceptedEntry[] | string {
  if (!Array.isArray(x)) return 'entries must be an array';
  const out: AcceptedEntry[] = [];
  for (const e of x as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'an entry is not an object';
    const shape = exactFieldsProblem(e, ['slot', 'ballot', 'value'], 'an entry');
    if (shape !== null) return shape;
    const { slot, value } = e as Record<string, unknown>;
    if (!isSlot(slot)) return 'an entry has a bad slot';
    const ballot = exactBallot((e as Record<string, unknown>).ballot);
    if (typeof ballot === 'string') return `slot ${slot}: bad ballot`;
    const batch = parseBatch(value, machine);
    if (typeof batch === 'string') return `slot ${slot}: ${batch}`;
    out.push({ slot, ballot, value: batch });
  }
  return out;
}

/** A snapshot message, checked in place (see {@link snapshotProblem}). */
function snapshot(from: ActorId, m: Record<string, unknown>, machine: AnyStateMachine): MpValidated {
  const problem = snapshotProblem(m, machine);
  if (problem !== null) return refuse(`snapshot: ${problem}`);
  const views = carriedViews(m);
  if (typeof views === 'string') return refuse(`snapshot: ${views}`);
  const { upTo, data, sessions } = m as unknown as MpSnapshot;
  return { ok: true, msg: { type: 'snapshot', from, upTo, data, sessions, ...(views ? { views } : {}) } };
}

/**
 * Why `x` is not a state machine snapshot — `upTo`, `data` as `machine`'s
 * snapshot and `sessions` as [clientId, {seq, result}] pairs with results of
 * `machine` — or null when it is one. Checked in place, like batches.
 */
export function snapshotProblem(x: Record<string, unknown>, machine: AnyStateMachine): string | null {
  if (!isSlot(x.upTo)) return 'bad upTo';
  if (!Array.isArray(x.sessions)) return 'data and sessions must be arrays';
  const data = machine.snapshotProblem(x.data);
  if (data !== null) return data;
  for (const pair of x.sessions as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'object' || pair[1] === null) return 'a session is not a [clientId, {seq, result}] pair';
    if (exactFieldsProblem(pair[1] as object, ['seq', 'result'], 'a session') !== null) return `session ${pair[0]} is malformed`;
    const { seq, result } = pair[1] as Record<string, unknown>;
    if (!Number.isSafeInteger(seq) || (seq as number) < 0 || machine.resultProblem(result) !== null) return `session ${pair[0]} is malformed`;
  }
  return null;
}

/**
 * The batch whose JSON text is `x`, or why it is not one. The text is
 * remembered for the batch, so forwarding or logging it does not encode it
 * again.
 */
export function parseBatch(x: unknown, machine: AnyStateMachine): Batch | string {
  if (typeof x !== 'string') return 'a batch is not JSON text';
  let parsed: unknown;
  try {
    parsed = JSON.parse(x);
  } catch {
    return 'a batch is not valid JSON';
  }
  const problem = batchProblem(parsed, machine);
  if (problem !== null) return problem;
  batchTexts.set(parsed as Batch, x);
  return parsed as Batch;
}

/**
 * Why `x` is not a batch of well-formed commands, or null when it is one.
 * Commands are checked in place, not copied: a batch is what JSON.parse just
 * made, so it holds only plain data, and copying every command of every
 * batch at every hop would double the allocation on the data path. Because
 * the batch is stored as the text it arrived in, a command must have exactly
 * the fields of its kind (clientId, seq, op; and the op's fields, which
 * `machine` checks): a field a peer added would be written to every
 * acceptor's log.
 */
export function batchProblem(x: unknown, machine: AnyStateMachine): string | null {
  if (!Array.isArray(x)) return 'the batch is not an array';
  for (const c of x as unknown[]) {
    const problem = commandProblem(c, machine);
    if (problem !== null) return problem;
  }
  return null;
}

/** The fields of a command. */
const COMMAND_FIELDS: readonly string[] = ['clientId', 'seq', 'op'];
/** The fields of a reconfiguration command (its op is empty: it is the log's, not the machine's). */
const RECONFIG_FIELDS: readonly string[] = ['clientId', 'seq', 'op', 'reconfig'];

/** Why `x` is not a well-formed command, or null when it is one. An operation is a JSON object, whose shape is the machine's to check. */
function commandProblem(x: unknown, machine: AnyStateMachine): string | null {
  if (typeof x !== 'object' || x === null) return 'a command is not an object';
  const reconfig = 'reconfig' in x;
  if (exactFieldsProblem(x, reconfig ? RECONFIG_FIELDS : COMMAND_FIELDS, 'a command') !== null) return 'a command has other fields than clientId, seq and op (and reconfig)';
  const { clientId, seq, op } = x as Record<string, unknown>;
  if (!isActorIdText(clientId)) return 'a command has no clientId';
  if (!Number.isSafeInteger(seq) || (seq as number) < 0) return `command of ${clientId} has a bad seq`;
  if (typeof op !== 'object' || op === null || Array.isArray(op)) return `command ${clientId}#${String(seq)} has no op`;
  if (reconfig) return reconfigCommandProblem(x as Record<string, unknown>);
  const problem = machine.opProblem(op);
  return problem === null ? null : `command ${clientId}#${String(seq)} has ${problem}`;
}

/** Why a reconfiguration command is malformed (its op must be empty; its epoch a view number; its members three lists of ids). */
function reconfigCommandProblem(x: Record<string, unknown>): string | null {
  if (Object.keys(x.op as object).length !== 0) return 'a reconfiguration carries an op';
  const r = x.reconfig;
  if (typeof r !== 'object' || r === null || exactFieldsProblem(r, ['epoch', 'members'], 'a reconfiguration') !== null) return 'a reconfiguration is not {epoch, members}';
  const { epoch, members } = r as Record<string, unknown>;
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 0) return 'a reconfiguration has a bad epoch';
  if (typeof members !== 'object' || members === null || exactFieldsProblem(members, ['proposers', 'acceptors', 'learners'], 'members') !== null) return 'a reconfiguration\'s members are not {proposers, acceptors, learners}';
  const problem = membershipProblem(members);
  if (problem !== null) return `a reconfiguration: ${problem}`;
  for (const ids of Object.values(members as Record<string, string[]>)) if (ids.some((id) => !isActorIdText(id))) return 'a reconfiguration names a bad actor id';
  return null;
}
