/**
 * Stage stamps: wall-clock timestamps of one key-value operation's way
 * through the cluster, taken on every thread it crosses, so that its
 * latency can be split into stages (client -> leader, leader -> acceptor,
 * the durable append, accepted -> leader -> learner, apply, answer). They
 * are for measuring (`synod bench --only kv-clients`) and are off unless a
 * cluster is created with `stamps: true`: with it off the worker's hooks
 * are a null check each.
 *
 * A stamp's time is `performance.timeOrigin + performance.now()`: epoch
 * milliseconds with sub-millisecond precision, which line up across the
 * worker threads of one process (each thread's `performance.now()` counts
 * from its own origin). Commands are keyed by `clientId#seq`, slots by
 * their number; that is all a stamp says of an operation, so taking them
 * costs no copy of a value.
 */
import type { ActorId } from '../core/ids.js';

/**
 * What a stamp marks. The client's (main thread): `begin` (an operation
 * got its command, a clientId and sequence number), `post` (the command
 * was posted to a proposer), `answer` (the first answer for it arrived;
 * `peer` is the learner). A proposer's: `request` (commands from the client arrived),
 * `accept-out` (an accept for a slot was handed to the link to `peer`),
 * `accepted-in` (an acceptor's vote for a slot arrived), `commit-out`. An
 * acceptor's: `accept-in`, `append-start` (the append holding its accepted
 * record for the slot was issued), `append-done` (it is durable),
 * `accepted-out`. A learner's: `commit-in`, `applied` (a command of the
 * slot was applied; `slot` says which), `answer-out` (the turn that
 * applied it ended, and its answers were posted).
 */
export type StampKind =
  | 'begin'
  | 'post'
  | 'answer'
  | 'request'
  | 'accept-out'
  | 'accepted-in'
  | 'commit-out'
  | 'accept-in'
  | 'append-start'
  | 'append-done'
  | 'accepted-out'
  | 'commit-in'
  | 'applied'
  | 'answer-out';

/** One stamp. */
export interface Stamp {
  /** Where it was taken: an actor id, or `client` for the main thread. */
  readonly actor: ActorId | 'client';
  readonly kind: StampKind;
  /** The command (`clientId#seq`) or the slot (a number) it is about. */
  readonly key: string | number;
  /** When, in epoch milliseconds (see the module comment). */
  readonly at: number;
  /** The other end, for a message sent or received, or an answer. */
  readonly peer?: ActorId;
  /** For `applied`: the slot the command was applied at. */
  readonly slot?: number;
}

/** The wall clock as stamps read it: epoch ms, comparable across the threads of a process. */
export const stampNow = (): number => performance.timeOrigin + performance.now();

/** The key of a command in stamps. */
export const commandKey = (clientId: string, seq: number): string => `${clientId}#${seq}`;

/** Stamps kept by one thread before they are taken; past it new ones are counted as dropped, not kept. */
const STAMP_LIMIT = 1 << 18;

/** The message kinds that carry slots, and the stamp each takes when sent and received. */
const MESSAGE_STAMPS: ReadonlyMap<unknown, readonly [StampKind, StampKind]> = new Map([
  ['accept', ['accept-out', 'accept-in']],
  ['accepted', ['accepted-out', 'accepted-in']],
  ['commit', ['commit-out', 'commit-in']],
]);

/** The slots a Multi-Paxos message names (in wire form or not), read defensively: it may come from a peer. */
function slotsOf(msg: unknown): number[] {
  const m = msg as { readonly entries?: unknown; readonly slots?: unknown };
  if (Array.isArray(m.slots)) return m.slots.filter((s): s is number => typeof s === 'number');
  if (Array.isArray(m.entries)) return m.entries.flatMap((e: unknown) => (typeof (e as { slot?: unknown })?.slot === 'number' ? [(e as { slot: number }).slot] : []));
  return [];
}

/** The stamps one thread takes, until they are taken from it. */
export class Stamper {
  private stamps: Stamp[] = [];
  private answering: string[] = [];
  /** Stamps not kept because {@link STAMP_LIMIT} were waiting to be taken. */
  dropped = 0;

  constructor(readonly actor: ActorId | 'client') {}

  /** Stamps `kind` for `key` now. */
  add(kind: StampKind, key: string | number, peer?: ActorId, slot?: number): void {
    if (this.stamps.length >= STAMP_LIMIT) {
      this.dropped++;
      return;
    }
    const stamp: { -readonly [K in keyof Stamp]: Stamp[K] } = { actor: this.actor, kind, key, at: stampNow() };
    if (peer !== undefined) stamp.peer = peer;
    if (slot !== undefined) stamp.slot = slot;
    this.stamps.push(stamp);
  }

  /** Client commands arrived at a proposer. */
  requests(commands: readonly unknown[]): void {
    for (const c of commands) {
      const { clientId, seq } = c as { readonly clientId?: unknown; readonly seq?: unknown };
      if (typeof clientId === 'string' && typeof seq === 'number') this.add('request', commandKey(clientId, seq));
    }
  }

  /** A peer message arrived from `from`. */
  inbound(from: ActorId, msg: unknown): void {
    const kinds = typeof msg === 'object' && msg !== null ? MESSAGE_STAMPS.get((msg as { readonly type?: unknown }).type) : undefined;
    if (kinds === undefined) return;
    for (const slot of slotsOf(msg)) this.add(kinds[1], slot, from);
  }

  /** Messages for `to` leave with this turn. */
  outbound(to: ActorId, msgs: readonly unknown[]): void {
    for (const msg of msgs) {
      const kinds = MESSAGE_STAMPS.get((msg as { readonly type?: unknown }).type);
      if (kinds !== undefined) for (const slot of slotsOf(msg)) this.add(kinds[0], slot, to);
    }
  }

  /** An append of `records` is issued; returns `done` wrapped to stamp when it is durable. */
  append(records: readonly unknown[], done: () => void): () => void {
    const slots = records.flatMap((r) => ((r as { kind?: string }).kind === 'accepted' ? [(r as { slot: number }).slot] : []));
    if (slots.length === 0) return done;
    for (const slot of slots) this.add('append-start', slot);
    return () => {
      for (const slot of slots) this.add('append-done', slot);
      done();
    };
  }

  /** An output of the core: a learner's `applied` is stamped, and its answer at the end of the turn. */
  output(effect: unknown): void {
    const e = effect as { readonly type?: string; readonly slot?: number; readonly command?: { readonly clientId: string; readonly seq: number } };
    if (e.type !== 'applied' || e.command === undefined) return;
    const key = commandKey(e.command.clientId, e.command.seq);
    this.add('applied', key, undefined, e.slot);
    this.answering.push(key);
  }

  /** A turn ended: the answers of the commands applied in it are posted now. */
  endTurn(): void {
    if (this.answering.length === 0) return;
    for (const key of this.answering) this.add('answer-out', key);
    this.answering = [];
  }

  /** The stamps taken so far, handed over and forgotten. */
  take(): Stamp[] {
    const taken = this.stamps;
    this.stamps = [];
    return taken;
  }
}
