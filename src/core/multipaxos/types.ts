/**
 * Multi-Paxos: types of the replicated log. One Paxos instance per log slot;
 * a slot holds a batch of client commands (an empty batch is a no-op that
 * fills a gap). What a command's operation means is up to the state machine
 * the log replicates (see `machine.ts`): to the log it is a JSON value.
 */
import type { Ballot } from '../ballot.js';
import type { ActorId, Membership } from '../ids.js';
import type { Value } from '../value.js';
import type { Reconfig, View } from './views.js';

/** A client command. (clientId, seq) identifies it, so a retried command is applied exactly once. */
export interface Command {
  readonly clientId: string;
  /** Per-client sequence number, increasing by one per new operation. */
  readonly seq: number;
  /** The operation, which only the state machine reads (empty in a reconfiguration). */
  readonly op: Value;
  /** A reconfiguration of the log's members (see `views.ts`): the log's own command, which no state machine sees. */
  readonly reconfig?: Reconfig;
}

/** A client's session as the learners keep it: the last sequence number applied and its result. */
export interface Session {
  readonly seq: number;
  readonly result: Value;
}

/** The value of one slot: a batch of commands. */
export type Batch = readonly Command[];

/** A slot and the batch proposed for it. */
export interface SlotEntry {
  readonly slot: number;
  readonly value: Batch;
}

/**
 * A chosen slot as a commit carries it: the batch, or the batch's JSON text.
 * A proposer sends text (the text its accepts carried, see batchJson): a
 * learner parses it and checks it as it takes the slot; a follower proposer
 * keeps it as text, and parses it only when its commands matter to it (a
 * reconfiguration, see `chosenViews` in proposer.ts). A follower's copy of
 * the log only serves it once it leads, and parsing every chosen batch on
 * every follower cost as much as the rest of its work.
 */
export interface CommitEntry {
  readonly slot: number;
  readonly value: Batch | string;
}

/** A slot, the batch an acceptor accepted for it and the ballot it was accepted at. */
export interface AcceptedEntry extends SlotEntry {
  readonly ballot: Ballot;
}

/** Phase 1a, for every slot from `fromSlot` on. */
export interface MpPrepare {
  readonly type: 'prepare';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly fromSlot: number;
}

/**
 * PreVote: would the acceptor promise `ballot`? Nothing is persisted on
 * either side, so a candidate that cannot reach a majority (cut off, say)
 * does not raise its round; only with a majority of `prevote-ok` answers does
 * it persist the round and send `prepare`.
 */
export interface MpPrevote {
  readonly type: 'prevote';
  readonly from: ActorId;
  readonly ballot: Ballot;
}

/** PreVote granted: this acceptor would promise `ballot` now (it has promised nothing higher, and hears no live leader). */
export interface MpPrevoteOk {
  readonly type: 'prevote-ok';
  readonly from: ActorId;
  readonly ballot: Ballot;
}

/** Phase 1b: the promise, with every entry the acceptor accepted from `fromSlot` on, and its trim point. */
export interface MpPromise {
  readonly type: 'promise';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly entries: readonly AcceptedEntry[];
  /** Every slot below this is chosen, applied by every learner, and discarded. */
  readonly trimmed: number;
  /** The views deciding the slots from `trimmed` on, as the trim that set it told (see `views.ts`); absent when the acceptor was never told of any but view 0. */
  readonly views?: readonly View[];
}

/** A prepare or accept refused: the acceptor promised `promised`. */
export interface MpNack {
  readonly type: 'nack';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly promised: Ballot;
}

/** Phase 2a for many slots at once. */
export interface MpAccept {
  readonly type: 'accept';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly entries: readonly SlotEntry[];
}

/** Phase 2b: the acceptor durably accepted these slots at `ballot`. */
export interface MpAccepted {
  readonly type: 'accepted';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly slots: readonly number[];
}

/**
 * Phase 2b told to the learners (`learn: 'votes'`, see MpConfig): the
 * acceptor durably accepted these slots at `ballot`, with these values (as
 * JSON text, like a commit's). A learner takes a slot as chosen once a
 * majority of the slot's view's acceptors voted for it at one ballot with
 * the same text.
 */
export interface MpVote {
  readonly type: 'vote';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly entries: readonly CommitEntry[];
}

/** Phase 3: these slots are chosen. Sent by the leader to learners (also in answer to a catch-up). */
export interface MpCommit {
  readonly type: 'commit';
  readonly from: ActorId;
  readonly entries: readonly CommitEntry[];
}

/**
 * The leader is alive; every slot below `commitIndex` is chosen. Sent to
 * proposers and learners, and to acceptors, which answer it as an accept of
 * no slots: the answers tell the leader that a majority still hears it.
 */
export interface MpHeartbeat {
  readonly type: 'heartbeat';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly commitIndex: number;
  /** The leader's views from its trim point on, while they name proposers other than its configured ones: who else the receivers must trust (see `views.ts`). */
  readonly views?: readonly View[];
}

/** A learner missing slots asks the leader for the chosen entries from `fromSlot` on. */
export interface MpCatchup {
  readonly type: 'catchup';
  readonly from: ActorId;
  readonly fromSlot: number;
}

/** A learner tells the leader that its state machine up to `upTo` is durable in a snapshot, so the log below can be trimmed. */
export interface MpApplied {
  readonly type: 'applied';
  readonly from: ActorId;
  readonly upTo: number;
}

/**
 * Log compaction: every slot below `upTo` is chosen and applied by every
 * learner; drop it. Sent by the leader to acceptors and proposers, and by an
 * acceptor to a proposer that sent it accepts below its trim point.
 */
export interface MpTrim {
  readonly type: 'trim';
  readonly from: ActorId;
  readonly upTo: number;
  /** The views deciding the slots from `upTo` on: whoever skips to `upTo` learns them here, since the reconfigurations below are gone (absent from an acceptor that knows none but view 0). */
  readonly views?: readonly View[];
}

/** The leader asks an up-to-date learner to send its state machine to `learner`, which is behind the trim point. */
export interface MpSnapshotRequest {
  readonly type: 'snapshot-request';
  readonly from: ActorId;
  readonly learner: ActorId;
}

/** A learner's state machine as of slot `upTo`: the machine's snapshot and the client sessions (for exactly-once). */
export interface MpSnapshot {
  readonly type: 'snapshot';
  readonly from: ActorId;
  readonly upTo: number;
  /** The state machine's own snapshot. */
  readonly data: Value;
  readonly sessions: readonly (readonly [string, Session])[];
  /** The log's views as of `upTo` (see `views.ts`); absent means view 0 alone. */
  readonly views?: readonly View[];
}

/**
 * ReadIndex, step 1: the leader asks each acceptor whether it has promised
 * anything above `ballot`. Nothing is written on either side; `id` tells the
 * answers to this round from those to earlier ones.
 */
export interface MpConfirm {
  readonly type: 'confirm';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly id: number;
}

/** ReadIndex, step 2: the acceptor had promised nothing above `ballot` when it answered round `id` (a refusal is a nack). */
export interface MpConfirmed {
  readonly type: 'confirmed';
  readonly from: ActorId;
  readonly ballot: Ballot;
  readonly id: number;
}

/**
 * ReadIndex, step 3: the leader, confirmed by a majority after these reads
 * reached it, tells the learners to answer them from their state once they
 * have applied every slot below `index` (its commit index when the reads
 * arrived).
 */
export interface MpRead {
  readonly type: 'read';
  readonly from: ActorId;
  readonly index: number;
  readonly commands: Batch;
}

/** Every Multi-Paxos message. */
export type MpMessage = MpPrevote | MpPrevoteOk | MpPrepare | MpPromise | MpNack | MpAccept | MpAccepted | MpVote | MpCommit | MpHeartbeat | MpCatchup | MpApplied | MpTrim | MpSnapshotRequest | MpSnapshot | MpConfirm | MpConfirmed | MpRead;

/** Timers of the Multi-Paxos roles. */
export type MpTimer = 'election' | 'heartbeat' | 'retry' | 'catchup';

/** Inputs of the Multi-Paxos roles. `start` arms the timers of a fresh or recovered actor. */
export type MpInput =
  | { readonly type: 'start' }
  | { readonly type: 'receive'; readonly msg: MpMessage }
  | { readonly type: 'timeout'; readonly timer: MpTimer }
  | { readonly type: 'request'; readonly commands: readonly Command[] };

/** A durable record. Acceptors write one per promise and per accepted slot; proposers their round. */
export type MpRecord =
  | { readonly kind: 'promised'; readonly ballot: Ballot }
  | { readonly kind: 'accepted'; readonly slot: number; readonly ballot: Ballot; readonly value: Batch }
  | { readonly kind: 'round'; readonly roundMax: number }
  /** Slots below `upTo` are discarded (the store may delete their records); `views` decide the slots from `upTo` on (absent in stores written before views: view 0 only). */
  | { readonly kind: 'trim'; readonly upTo: number; readonly views?: readonly View[] }
  /** A learner's state machine after applying every slot below `upTo`, and the log's views then (absent: view 0 only). */
  | { readonly kind: 'snapshot'; readonly upTo: number; readonly data: Value; readonly sessions: readonly (readonly [string, Session])[]; readonly views?: readonly View[] }
  /** A proposer saw every slot below `base` chosen, and `views` deciding the slots from `base` on; a restarted proposer starts there. */
  | { readonly kind: 'views'; readonly base: number; readonly views: readonly View[] };

/** What a Multi-Paxos core asks its host to do. */
export type MpEffect =
  | { readonly type: 'send'; readonly to: ActorId; readonly msg: MpMessage }
  /**
   * Make every record durable (one write, one fsync for all), then carry out
   * `then`. With no records, `then` still waits for every earlier persist to
   * be durable (a reply may vouch for a record written a turn ago), but
   * costs no write.
   */
  | { readonly type: 'persist'; readonly records: readonly MpRecord[]; readonly then: readonly MpEffect[] }
  | { readonly type: 'setTimer'; readonly timer: MpTimer; readonly delay: number }
  | { readonly type: 'cancelTimer'; readonly timer: MpTimer }
  /** A learner applied slot `slot` (every command of `batch`, in order). */
  | { readonly type: 'appliedSlot'; readonly slot: number; readonly batch: Batch }
  /** A learner replaced its state machine with a snapshot: the next slot it applies is `upTo`. */
  | { readonly type: 'installedSnapshot'; readonly upTo: number }
  /** A learner applied a client command (or found it already applied): the answer for the client. */
  | { readonly type: 'applied'; readonly slot: number; readonly command: Command; readonly result: Value }
  /**
   * A learner did not apply a client command: its session is gone (evicted,
   * see `MpConfig.maxSessions`), so whether it was applied before is
   * unknown. Every learner refuses it alike; the client must not re-send it
   * under the same id, and continues under a fresh one.
   */
  | { readonly type: 'expired'; readonly slot: number; readonly command: Command }
  /** A proposer cannot serve these commands (it is not the leader); `leader` is its best guess of who is. */
  | { readonly type: 'reject'; readonly commands: readonly Command[]; readonly leader: ActorId | null }
  /** A proposer became the leader. */
  | { readonly type: 'elected'; readonly ballot: Ballot }
  | { readonly type: 'ignore'; readonly reason: string };

/** Deliberate bugs for control tests. */
export interface MpBugs {
  /** Learners answer reads from their own, possibly lagging, state instead of through the log. */
  readonly staleRead: boolean;
  /** A trim leaves the proposer's in-flight slots below the trim point in flight (they can never be chosen, and hold the window). */
  readonly trimKeepsInflight: boolean;
  /** A new leader puts every slot recovery owes in flight at once, ignoring the window. */
  readonly unwindowedRecovery: boolean;
  /** A leader never re-sends an accept that got no majority (a lost accept or accepted reply leaves its slot in flight for good). */
  readonly noAcceptRetry: boolean;
  /** A new leader ignores the accepted values reported in promises: it re-proposes nothing and fills its log from its commit index on, over slots that may be chosen. */
  readonly ignorePromisedValues: boolean;
  /** A restarted acceptor forgets the slots it accepted (it keeps its promise). */
  readonly forgetAccepted: boolean;
  /** An acceptor's promise omits its trim point (reports 0), so a new leader does not learn which slots are chosen and gone. */
  readonly promiseOmitsTrim: boolean;
  /** ReadIndex without its quorum round: a leader hands reads to the learners at once, so a deposed leader that does not know it yet serves stale reads. */
  readonly readWithoutQuorum: boolean;
  /** A learner applies a command of a client whose session it evicted as a new client's (so an evicted client's retry is applied again). */
  readonly reapplyEvicted: boolean;
  /** A leader decides with a new view as soon as it proposes the reconfiguration, not α slots after it is chosen (so an old view's quorum and a new one's may both decide a slot). */
  readonly viewBeforeChosen: boolean;
  /** With `learn: 'votes'`, a learner takes a slot as chosen on the first acceptor's vote, not a majority's (so it may apply a value no majority accepted). */
  readonly voteWithoutQuorum: boolean;
}

/** Configuration of the Multi-Paxos roles. Times in the host's unit. */
export interface MpConfig {
  readonly members: Membership;
  /** How often the leader sends heartbeats. */
  readonly heartbeatMs: number;
  /** A follower that hears no leader for a random time in [electionMinMs, electionMaxMs) stands for election. */
  readonly electionMinMs: number;
  readonly electionMaxMs: number;
  /** The leader re-sends accepts for slots not chosen after this long; learners re-ask for missing slots. */
  readonly retryMs: number;
  /** Most commands in one slot. */
  readonly batchMax: number;
  /**
   * Most slots in flight (proposed, not yet chosen). Also Lamport's α: a
   * leader proposes a slot only when every slot `window` or more below it is
   * chosen, and a reconfiguration chosen at slot i decides from i + `window`
   * on (see `views.ts`).
   */
  readonly window: number;
  /** Most entries per commit message sent to a catching-up learner. */
  readonly catchupMax: number;
  /**
   * Most bytes of batch JSON in one accept message; a larger set of slots is
   * split across messages (a slot bigger than this still goes, alone). A
   * recovering leader re-proposes many slots at once, and one huge message
   * would stall every acceptor that must decode and log it in one turn.
   */
  readonly maxAcceptBytes: number;
  /** Learners snapshot their state machine every this many slots, and the log is trimmed up to what every learner has snapshotted (0: never). */
  readonly compactEvery: number;
  /**
   * Most client sessions a learner keeps. A new client beyond it evicts the
   * session applied least recently (the same one on every learner: they
   * apply the same commands in the same order). A command of an evicted
   * client is answered `expired`, never applied.
   */
  readonly maxSessions: number;
  /** The guard against runaway ballots (see `core/rounds.ts`): acceptors refuse a round more than this above their promise, proposers climb at most this much per attempt. */
  readonly maxRoundJump: number;
  /**
   * How reads are served: `index` (ReadIndex: the leader confirms with one
   * round to the acceptors that it still leads, and the learners answer once
   * they have applied up to its commit index; no disk is written) or `log`
   * (a read is a command of the log, written by every acceptor like a write).
   */
  readonly reads: 'index' | 'log';
  /**
   * How learners learn that a slot is chosen. `commit` (the default): from
   * the leader, which counts the acceptors' votes and commits. `votes`
   * (classic Paxos, "Paxos Made Simple" §2.3): each acceptor also sends its
   * vote, with the value, to the learners, and a learner takes a slot once a
   * majority of its view's acceptors voted for it at one ballot, one hop
   * sooner; the leader's commits to learners then ride on its heartbeats,
   * for learners that missed votes (lost, or of views their acceptors were
   * not told of).
   */
  readonly learn: 'commit' | 'votes';
  readonly bugs: MpBugs;
}

/** A full Multi-Paxos configuration from a membership and optional overrides. */
export function mpConfig(members: Membership, o: Partial<Omit<MpConfig, 'members' | 'bugs'>> & { readonly bugs?: Partial<MpBugs> } = {}): MpConfig {
  return {
    members,
    heartbeatMs: o.heartbeatMs ?? 20,
    electionMinMs: o.electionMinMs ?? 100,
    electionMaxMs: o.electionMaxMs ?? 200,
    retryMs: o.retryMs ?? 50,
    batchMax: o.batchMax ?? 64,
    window: o.window ?? 32,
    catchupMax: o.catchupMax ?? 256,
    maxAcceptBytes: o.maxAcceptBytes ?? 1 << 20,
    compactEvery: o.compactEvery ?? 1000,
    maxSessions: o.maxSessions ?? 16_384,
    maxRoundJump: o.maxRoundJump ?? 1_000_000,
    reads: o.reads ?? 'index',
    learn: o.learn ?? 'commit',
    bugs: { staleRead: false, trimKeepsInflight: false, unwindowedRecovery: false, noAcceptRetry: false, ignorePromisedValues: false, forgetAccepted: false, promiseOmitsTrim: false, readWithoutQuorum: false, reapplyEvicted: false, viewBeforeChosen: false, voteWithoutQuorum: false, ...o.bugs },
  };
}

/** The result of one step. Multi-Paxos cores update their state in place (the log is too big to copy per step) and return it. */
export interface MpStep<S> {
  readonly state: S;
  readonly effects: MpEffect[];
}
