/**
 * Views: the membership of the replicated log, changed through the log itself
 * ("Paxos Made Simple" §3, Lamport's α). A view is a view number (`epoch`),
 * the first slot it decides (`from`) and its members. View 0 is the
 * configured membership, from slot 0.
 *
 * A reconfiguration is a command chosen in the log, `{ epoch: n, members }`:
 * "view n is followed by these members". Chosen at slot i, it is valid iff
 * the newest view chosen below i has number n (a compare-and-set, so a retried
 * or stale reconfiguration changes nothing, and every replica, replaying the
 * same log, agrees), and then view n + 1 decides every slot from i + α on,
 * α being the leader's window. A leader proposes slot s only once every slot
 * up to s − α is chosen and known to it (`MpProposerState.commitIndex` >
 * s − α), so it always knows the view of the slot it proposes; a slot is
 * decided by a majority of its own view's acceptors, and before proposing in
 * a new view a leader gathers promises from a majority of that view's
 * acceptors too. No slot is ever decided by two views, so two views' quorums
 * need not intersect.
 *
 * A new acceptor needs to hold nothing before it votes: it only ever votes on
 * slots of views it belongs to, and no proposer sends it anything for a slot
 * of an earlier view.
 *
 * The proposers change too, through a chain of trust. Safety does not depend
 * on who proposes: a ballot is (round, proposer id), an id is never given to
 * a second process (a proposer keeps its durable round, so one removed and
 * named again goes on above it), so ballots stay unique and the argument
 * above holds whoever holds them. Who is *taken* as a proposer is a defence
 * against a member forging ballots, commits or trims, and it is kept:
 *
 * - An actor trusts as proposers those of its configuration and those of
 *   every view it knows ({@link trustedProposers}).
 * - Views reach an actor only from the chosen log (learners and proposers
 *   apply it; a snapshot from a learner it knows carries it) or from a
 *   proposer it already trusts: trims, promises, and the leader's heartbeats,
 *   which carry the views ({@link announcesViews}) while they name proposers
 *   other than the leader's configured ones. An acceptor takes them from a
 *   heartbeat it accepts (at a ballot of a proposer it trusts, at least its
 *   promise) and persists them with its trim point; a learner or proposer
 *   keeps them apart from the views it applies (those stay a function of the
 *   log, which the compare-and-set of a reconfiguration needs).
 * - A proposer the newest view it knows does not name is removed: it
 *   proposes no slot of a view that does not name it, and stands for no
 *   election. Leading, it finishes the slots of its views; once its commit
 *   index reaches a view without it, it marks itself leaving at its next
 *   quorum check and steps down at the one after (so its heartbeats carry
 *   the new views for a whole election period), handing its waiting
 *   commands back to their clients. The others' election timers, no longer
 *   reset by its heartbeats, fire. (A proposer the newest view names may
 *   propose the slots of an older view without it: elected before that view
 *   was finished, it must finish it.)
 * - A new proposer starts from the membership it was given; it learns the
 *   log's views from the leader it follows (commits, trims, heartbeats) or
 *   from the promises and trims of the acceptors when it stands for
 *   election. Until the newest view it knows names it, it stands for no
 *   election either.
 * - An actor that hears from a proposer it does not know (the views it
 *   missed may name it: a new acceptor, say, configured with proposers that
 *   are all gone) does not take it, but asks the proposers it trusts: an
 *   acceptor dropping a ballot from an unknown proposer asks them for the
 *   views (once per period of its election timer; they answer with a trim at
 *   their trim point, whose newer views it takes from any proposer it
 *   trusts), and a learner or proposer hearing an unknown leader's heartbeat
 *   ahead of it asks them to catch it up (the log they send names the
 *   leader). A removed proposer, or a spare not added yet, asks the
 *   proposers it trusts for the log at every election timeout, and takes
 *   their trims as well as its leader's while it waits for the answers.
 *
 * Liveness then needs, besides a live majority of each view's acceptors: a
 * live proposer named by the newest view it knows, and a chain of trust from
 * every actor that must hear it to it: a majority of the acceptors of the
 * view deciding its commit index, and the learners, trust it, or trust a
 * live proposer that knows the view naming it (heartbeats, and the requests
 * above, carry it along the chain). A chain broken for good (every proposer
 * an actor trusts gone, and it never told of the newer views) leaves that
 * actor out; a host that adds an actor gives it the current membership.
 *
 * Pure data and pure functions, shared by the proposers (which must know the
 * view of every slot they propose) and the learners (which apply the log and
 * report each reconfiguration's outcome to its client).
 */
import type { ActorId, Membership } from '../ids.js';
import type { Batch, Command } from './types.js';

/** One view of the log: the members that decide every slot from `from` until the next view. */
export interface View {
  readonly epoch: number;
  readonly from: number;
  readonly members: Membership;
}

/** A reconfiguration: view `epoch` is followed by `members`. */
export interface Reconfig {
  readonly epoch: number;
  readonly members: Membership;
}

/** The views of a fresh log: view 0, the configured members, from slot 0. */
export function initialViews(members: Membership): View[] {
  return [{ epoch: 0, from: 0, members }];
}

/** The view deciding `slot` (views sorted by `from`, the first from at most `slot`). */
export function viewAt(views: readonly View[], slot: number): View {
  for (let i = views.length - 1; i > 0; i--) if ((views[i] as View).from <= slot) return views[i] as View;
  return views[0] as View;
}

/** The newest view chosen (it may not decide any slot yet). */
export function lastView(views: readonly View[]): View {
  return views[views.length - 1] as View;
}

/**
 * Why `members` may not follow `current` (null when it may): every role
 * non-empty, no id twice, no actor of `current` in another role (an actor
 * has one role for life: its store is that role's), and a learner kept.
 * Proposers may be added, removed or replaced (see the module comment); an
 * id removed earlier may come back only as the same process, with its
 * durable round, which the log cannot tell: hosts give a new proposer a new id.
 */
export function reconfigProblem(current: Membership, members: Membership): string | null {
  if (members.acceptors.length === 0 || members.learners.length === 0 || members.proposers.length === 0) return 'every role needs at least one member';
  const all = [...members.proposers, ...members.acceptors, ...members.learners];
  if (new Set(all).size !== all.length) return 'an actor is named twice';
  for (const role of ROLES) for (const id of members[role]) for (const other of ROLES) if (other !== role && current[other].includes(id)) return `${id} is one of the ${other} and cannot become one of the ${role}`;
  // The log below the trim point survives only in the learners' state machines: a view that dropped every learner
  // holding it would leave its new learners nothing to copy.
  if (!members.learners.some((l) => current.learners.includes(l))) return 'a new view must keep at least one learner of the view it follows (new learners copy its state)';
  return null;
}

const ROLES = ['proposers', 'acceptors', 'learners'] as const;

/** The proposers an actor takes ballots, commits, heartbeats and trims from: those of its configuration and of every view in `views` (see the module comment). */
export function trustedProposers(configured: readonly ActorId[], ...views: readonly (readonly View[] | undefined)[]): readonly ActorId[] {
  return membersOf('proposers', configured, ...views);
}

/** The actors of `role` in `configured` and in every view of `views`, configured ones first; `configured` itself (no copy) when the views add none. */
export function membersOf(role: keyof Membership, configured: readonly ActorId[], ...views: readonly (readonly View[] | undefined)[]): readonly ActorId[] {
  let out: ActorId[] | null = null;
  for (const list of views) {
    for (const v of list ?? []) {
      for (const id of v.members[role]) {
        if ((out ?? configured).includes(id)) continue;
        out ??= [...configured];
        out.push(id);
      }
    }
  }
  return out ?? configured;
}

/** Whether `id` is among {@link trustedProposers} (without building the list). */
export function trustsProposer(configured: readonly ActorId[], id: ActorId, ...views: readonly (readonly View[] | undefined)[]): boolean {
  if (configured.includes(id)) return true;
  for (const list of views) if (list !== undefined && anyViewHas(list, 'proposers', id)) return true;
  return false;
}

/** Whether `views` name a proposer outside `configured`: a leader's heartbeats then carry them, since not every actor can work them out. */
export function announcesViews(configured: readonly ActorId[], views: readonly View[]): boolean {
  for (const v of views) if (v.members.proposers.length !== configured.length || v.members.proposers.some((p) => !configured.includes(p))) return true;
  return false;
}

/**
 * The views an actor knows once told `incoming` by a proposer it trusts:
 * `known` (undefined: view 0 alone, whose proposers are configured) followed
 * by the views of `incoming` newer than its newest, or null when `incoming`
 * tells it nothing new. Where the two do not join (`incoming` begins past
 * the newest view known plus one), `incoming` alone.
 */
export function mergeViews(known: readonly View[] | undefined, incoming: readonly View[]): readonly View[] | null {
  const last = known === undefined ? 0 : lastView(known).epoch;
  if (lastView(incoming).epoch <= last) return null;
  if (known === undefined || (incoming[0] as View).epoch > last + 1) return incoming;
  const newer = incoming.filter((v) => v.epoch > last);
  // Views from the log start past one another; lists that disagree on that are not from the same log.
  if ((newer[0] as View).from <= lastView(known).from) return null;
  return [...known, ...newer];
}

/**
 * The views after `cmd`, chosen at `slot`, is applied: a new view if it is a
 * valid reconfiguration of the newest view, else `null` (not a
 * reconfiguration, a stale or repeated one, or one with a problem).
 */
export function afterCommand(views: readonly View[], slot: number, cmd: Command, alpha: number): View[] | null {
  const r = cmd.reconfig;
  if (r === undefined) return null;
  const last = lastView(views);
  if (r.epoch !== last.epoch || reconfigProblem(last.members, r.members) !== null) return null;
  return [...views, { epoch: last.epoch + 1, from: Math.max(slot + alpha, last.from + 1), members: r.members }];
}

/** The views after the batch chosen at `slot` is applied (the same array when nothing changes). */
export function afterBatch(views: readonly View[], slot: number, batch: Batch, alpha: number): readonly View[] {
  let out = views;
  for (const c of batch) if (c.reconfig !== undefined) out = afterCommand(out, slot, c, alpha) ?? out;
  return out;
}

/** The views that still decide a slot at or past `slot`: the one deciding `slot` and every later one. */
export function viewsFrom(views: readonly View[], slot: number): View[] {
  const first = viewAt(views, slot);
  return views.filter((v) => v.epoch >= first.epoch);
}

/** Every actor of `role` in any of `views`. */
export function anyViewHas(views: readonly View[], role: keyof Membership, id: ActorId): boolean {
  for (const v of views) if (v.members[role].includes(id)) return true;
  return false;
}

/** Why `x` is not a list of views (null when it is): sorted by epoch and by `from`, consecutive epochs, each a valid membership. */
export function viewsProblem(x: unknown): string | null {
  if (!Array.isArray(x) || x.length === 0) return 'views: not a non-empty list';
  let prior: View | null = null;
  for (const v of x as unknown[]) {
    if (typeof v !== 'object' || v === null) return 'views: a view is not an object';
    const { epoch, from, members } = v as Record<string, unknown>;
    if (!Number.isSafeInteger(epoch) || (epoch as number) < 0 || !Number.isSafeInteger(from) || (from as number) < 0) return 'views: bad epoch or from';
    if (membershipProblem(members) !== null) return `views: ${membershipProblem(members)}`;
    if (prior !== null && ((epoch as number) !== prior.epoch + 1 || (from as number) <= prior.from)) return 'views: not consecutive';
    prior = v as View;
  }
  return null;
}

/** Why `x` is not a membership (three lists of actor ids). */
export function membershipProblem(x: unknown): string | null {
  if (typeof x !== 'object' || x === null) return 'members: not an object';
  const m = x as Record<string, unknown>;
  for (const role of ['proposers', 'acceptors', 'learners']) {
    const ids = m[role];
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id.length === 0 || id.length > 64)) return `members: bad ${role}`;
  }
  return null;
}
