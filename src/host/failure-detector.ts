/**
 * Failure detection for one actor: which of the peers it talks to it still
 * hears, and which of them it owes a liveness ping. Pure: the host tells it
 * what it heard and sent, and calls {@link FailureDetector.tick} with time
 * passing on a clock it injects (real time in a worker thread, any number in
 * a test), so every timing rule below can be checked without threads.
 *
 * The rule is a heartbeat with a timeout. Every tick (every `pingEveryMs`),
 * a peer that was sent nothing since the previous tick gets a ping, so a
 * live actor on a live link is heard by each of its peers at least about
 * every two ticks, whether or not the protocol has anything to say (in
 * Multi-Paxos steady state an acceptor never writes to a follower). A peer
 * not heard for more than `suspectAfterMs` is suspected; anything heard
 * from it again (a protocol message or a ping) clears the suspicion at the
 * next tick. Each actor pings only on its own outgoing links, so a cut in
 * one direction shows up at the receiver of that direction.
 *
 * Why a timeout and not φ-accrual: φ-accrual learns the distribution of
 * gaps between heartbeats and suspects at a threshold of improbability. Its
 * gain is adapting to a network whose delays it does not know. Here the
 * gaps are known (we send the heartbeats, at a fixed period) and what
 * stretches them is not the link but the sender's event loop: a full
 * garbage collection, a long fsync, a busy shared machine, all rare and
 * heavy-tailed. A detector that fits a normal distribution to the calm
 * stretches learns a small variance and then suspects at the first stall,
 * while a fixed timeout of several periods rides it out, and says in one
 * number (that a user can set and a health table can quote) why a peer is
 * suspected.
 *
 * Timing is at the granularity of a tick: hearing and sending only set a
 * flag (no clock read on the message path), and a peer heard since the last
 * tick counts as heard at that tick. That errs on the late side: a peer is
 * never suspected sooner than `suspectAfterMs` after it was last heard.
 */
import type { ActorId } from '../core/ids.js';
import { SynodError } from '../errors.js';

/** The settings of a {@link FailureDetector}, in milliseconds. */
export interface DetectorOptions {
  /** The tick: a peer sent nothing since the previous tick gets a ping. Default 100. */
  readonly pingEveryMs: number;
  /** A peer not heard for longer than this is suspected. Default 1000 (ten pings missed). */
  readonly suspectAfterMs: number;
}

/** The default detector settings: a ping every 100 ms on an idle link, suspicion after a second of silence. */
export const DEFAULT_DETECTOR: DetectorOptions = Object.freeze({ pingEveryMs: 100, suspectAfterMs: 1000 });

/** What one actor thinks of one peer. */
export type PeerStatus = 'alive' | 'suspected';

/** A peer's status changed: `since` is the clock reading of the tick that saw it. */
export interface PeerChange {
  readonly peer: ActorId;
  readonly status: PeerStatus;
  readonly since: number;
}

/** What a tick asks of the host: the peers to ping now, and the peers whose status changed. */
export interface DetectorTick {
  readonly ping: readonly ActorId[];
  readonly changes: readonly PeerChange[];
}

/** One watched peer. */
interface Watch {
  /** Something arrived from it since the last tick. */
  heard: boolean;
  /** Something was sent to it since the last tick. */
  sent: boolean;
  /** The tick that last saw it heard (or the detector's start). */
  lastHeard: number;
  status: PeerStatus;
  since: number;
}

/** Watches the peers of one actor; see the module comment. */
export class FailureDetector {
  private readonly watches = new Map<ActorId, Watch>();

  /** Watches `peers`, each heard (as a grace period) at the clock's current reading. */
  constructor(
    peers: readonly ActorId[],
    readonly options: DetectorOptions,
    private readonly clock: () => number,
  ) {
    if (!(options.pingEveryMs > 0 && options.suspectAfterMs > options.pingEveryMs)) {
      throw new SynodError('SYNOD_INVALID_ARGUMENT', `a failure detector needs 0 < pingEveryMs < suspectAfterMs; got pingEveryMs ${options.pingEveryMs}, suspectAfterMs ${options.suspectAfterMs}`);
    }
    const now = clock();
    for (const peer of peers) this.watches.set(peer, { heard: false, sent: false, lastHeard: now, status: 'alive', since: now });
  }

  /**
   * Watches exactly `peers` from now on: a peer new to it is heard now (the
   * grace period a peer gets at the start), one no longer listed is
   * forgotten, and the others keep their state. For a cluster whose
   * members change.
   */
  setPeers(peers: readonly ActorId[]): void {
    for (const peer of this.watches.keys()) if (!peers.includes(peer)) this.watches.delete(peer);
    const now = this.clock();
    for (const peer of peers) if (!this.watches.has(peer)) this.watches.set(peer, { heard: false, sent: false, lastHeard: now, status: 'alive', since: now });
  }

  /** Something (anything) arrived on the link from `peer`. A peer not watched is ignored. */
  heard(peer: ActorId): void {
    const w = this.watches.get(peer);
    if (w !== undefined) w.heard = true;
  }

  /** Something was put on the link to `peer`, so it needs no ping this tick. */
  sent(peer: ActorId): void {
    const w = this.watches.get(peer);
    if (w !== undefined) w.sent = true;
  }

  /**
   * One tick: updates every peer from what was heard since the last tick,
   * and returns the peers to ping (the host counts each ping it puts on a
   * link as sent) and the status changes.
   */
  tick(): DetectorTick {
    const now = this.clock();
    const ping: ActorId[] = [];
    const changes: PeerChange[] = [];
    for (const [peer, w] of this.watches) {
      if (w.heard) {
        w.heard = false;
        w.lastHeard = now;
        if (w.status === 'suspected') this.set(peer, w, 'alive', now, changes);
      } else if (w.status === 'alive' && now - w.lastHeard > this.options.suspectAfterMs) {
        this.set(peer, w, 'suspected', now, changes);
      }
      if (!w.sent) ping.push(peer);
      w.sent = false;
    }
    return { ping, changes };
  }

  /** Every watched peer's status, since when, and when it was last heard. */
  peers(): Array<{ readonly peer: ActorId; readonly status: PeerStatus; readonly since: number; readonly lastHeard: number }> {
    return [...this.watches].map(([peer, w]) => ({ peer, status: w.status, since: w.since, lastHeard: w.lastHeard }));
  }

  private set(peer: ActorId, w: Watch, status: PeerStatus, now: number, changes: PeerChange[]): void {
    w.status = status;
    w.since = now;
    changes.push({ peer, status, since: now });
  }
}

/** What a liveness ping looks like on a link: a bare string, which no protocol message is, so a host tells it apart with one comparison. */
export const PING = '$ping';
