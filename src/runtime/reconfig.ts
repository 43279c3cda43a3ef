/**
 * Reconfiguring a live key-value cluster, the parts that need no threads:
 * working out the next view's members from `{ add, remove }` (with every
 * reason to refuse it, before anything starts), and the channel that takes
 * the cluster's own commands (reconfigurations) to the leader and their
 * answers back. The cluster (kv-cluster.ts) starts and stops the actors
 * around them.
 *
 * A reconfiguration is a command of the log (see core/multipaxos/views.ts):
 * `{ epoch, members }`, "view `epoch` is followed by these members", a
 * compare-and-set on the newest view that every learner applies alike. It
 * touches no client session, so a re-sent one that was chosen twice is
 * applied once and answered "not done" the second time, with the newest view:
 * a view that is the one asked for, right after the one it followed, means
 * it was done (the cluster makes one reconfiguration at a time). The answer
 * names the newest view's acceptors and learners; its proposers are the
 * reconfiguration's when it was done, and otherwise the cluster asks a
 * learner for the view.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { ActorId, Membership } from '../core/ids.js';
import type { Command } from '../core/multipaxos/types.js';
import { reconfigProblem, type Reconfig } from '../core/multipaxos/views.js';
import { SynodError } from '../errors.js';
import { REJECT_BACKOFF_MS } from './client/log-client.js';
import type { KvView, ReconfigAnswer } from './mpwire.js';
import type { HealthChange } from './health.js';
import { writeFileDurably } from './storage/files.js';
import { REGISTRY_DIR } from './storage/registry.js';

/** What {@link KvCluster.reconfigure} changes: proposers (`p1`, `p2`, ...), acceptors (`a1`, ...) and learners (`l1`, ...) to bring in and to take out. */
export interface KvReconfiguration {
  /** Actors to add: each gets its own worker thread and store, started before the reconfiguration is proposed. */
  readonly add?: readonly string[];
  /** Actors to remove: once the new view decides, each one's thread stops and its store is retired (renamed, kept). */
  readonly remove?: readonly string[];
}

/** A reconfiguration worked out against the current view: the next view's members, who comes in and who goes. */
export interface ReconfigPlan {
  readonly members: Membership;
  readonly added: readonly ActorId[];
  readonly removed: readonly ActorId[];
}

/** A proposer's, an acceptor's or a learner's id, as the cluster names them. */
const MEMBER_ID = /^[pal][1-9][0-9]{0,8}$/;

/** The members of view `v`. */
export function membersOf(v: KvView): Membership {
  return { proposers: v.proposers, acceptors: v.acceptors, learners: v.learners };
}

/**
 * The next view's members if `change` is made to view `current`, or a
 * SynodError (SYNOD_INVALID_ARGUMENT) saying why it cannot be: not
 * `{ add, remove }` lists of ids, an id that names no proposer, acceptor or
 * learner, an id added that is a member or was removed before (in `retired`:
 * ids are used once) or removed that is not a member, nothing to change, or
 * a membership the log would refuse (no proposer or acceptor left, no
 * learner kept from the current view).
 */
export function planReconfiguration(current: KvView, change: unknown, retired: ReadonlySet<ActorId> = new Set()): ReconfigPlan {
  const bad = (why: string) => new SynodError('SYNOD_INVALID_ARGUMENT', `invalid reconfiguration: ${why}`);
  if (typeof change !== 'object' || change === null || Array.isArray(change)) throw bad('expected { add?: string[], remove?: string[] }');
  const extra = Object.keys(change).filter((k) => k !== 'add' && k !== 'remove');
  if (extra.length > 0) throw bad(`unknown field(s) ${extra.join(', ')}; expected { add?: string[], remove?: string[] }`);
  const list = (name: 'add' | 'remove'): ActorId[] => {
    const ids = (change as KvReconfiguration)[name] ?? [];
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw bad(`${name} must be a list of actor ids`);
    for (const id of ids as string[]) if (!MEMBER_ID.test(id)) throw bad(`${JSON.stringify(id)} is not an actor id: proposers are named p1, p2, ..., acceptors a1, a2, ... and learners l1, l2, ...`);
    if (new Set(ids).size !== ids.length) throw bad(`${name} names an actor twice`);
    return ids as ActorId[];
  };
  const add = list('add');
  const remove = list('remove');
  if (add.length === 0 && remove.length === 0) throw bad('nothing to change: add and remove are both empty');
  const both = add.filter((id) => remove.includes(id));
  if (both.length > 0) throw bad(`${both.join(', ')} both added and removed`);
  const now = [...current.proposers, ...current.acceptors, ...current.learners];
  const members = add.filter((id) => now.includes(id));
  if (members.length > 0) throw bad(`${members.join(', ')} ${members.length === 1 ? 'is a member' : 'are members'} of view ${current.epoch} already`);
  const back = add.filter((id) => retired.has(id));
  if (back.length > 0) throw bad(`${back.join(', ')} ${back.length === 1 ? 'was' : 'were'} removed before; an id is used once (its store is kept as a retired one): add a new id`);
  const strangers = remove.filter((id) => !now.includes(id));
  if (strangers.length > 0) throw bad(`${strangers.join(', ')} ${strangers.length === 1 ? 'is not a member' : 'are not members'} of view ${current.epoch} (proposers ${current.proposers.join(', ')}; acceptors ${current.acceptors.join(', ')}; learners ${current.learners.join(', ')})`);
  const next = (ids: readonly ActorId[], prefix: string) => [...ids.filter((id) => !remove.includes(id)), ...add.filter((id) => id.startsWith(prefix))];
  const plan: ReconfigPlan = { members: { proposers: next(current.proposers, 'p'), acceptors: next(current.acceptors, 'a'), learners: next(current.learners, 'l') }, added: add, removed: remove };
  const problem = reconfigProblem(membersOf(current), plan.members);
  if (problem !== null) throw bad(`it leaves proposers {${plan.members.proposers.join(', ')}}, acceptors {${plan.members.acceptors.join(', ')}} and learners {${plan.members.learners.join(', ')}}, and ${problem}`);
  return plan;
}

/** Whether `view`, the newest view after a learner answered reconfiguration `r` with `done`, says the log made it (see the module comment). */
export function reconfigMade(r: Reconfig, done: boolean, view: KvView): boolean {
  const same = (x: readonly ActorId[], y: readonly ActorId[]) => x.length === y.length && x.every((id, i) => id === y[i]);
  return done || (view.epoch === r.epoch + 1 && same(view.proposers, r.members.proposers) && same(view.acceptors, r.members.acceptors) && same(view.learners, r.members.learners));
}

/** What the {@link AdminChannel} needs of the cluster. */
export interface AdminLink {
  /** The proposer to send to (the leader if known; see LogClient.route). */
  route(avoid?: ActorId): ActorId;
  /** True while proposer `id` serves. */
  serving(id: ActorId): boolean;
  /** Posts `command` to proposer `id`. */
  post(id: ActorId, command: Command): void;
}

/** The command in flight on an {@link AdminChannel}. */
interface AdminOp {
  readonly command: Command;
  readonly deadline: number;
  readonly resolve: (a: ReconfigAnswer) => void;
  readonly reject: (err: Error) => void;
  target: ActorId;
  sentAt: number;
}

/**
 * Takes the cluster's own commands to the leader, one at a time, as the
 * client takes operations (src/runtime/client/log-client.ts): to the
 * leader, or to the one a rejecting proposer names, or to the next proposer
 * when the one it went to goes down; sent again under the same (clientId,
 * seq) after `retryMs` with no answer; rejected with SYNOD_TIMEOUT after
 * `timeoutMs`. The first learner's answer settles it.
 */
export class AdminChannel {
  private seq = 0;
  private op: AdminOp | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly link: AdminLink,
    private readonly options: { readonly retryMs: number; readonly timeoutMs: number },
  ) {}

  /** Sends reconfiguration `reconfig` as client `clientId`'s next command; resolves with the first answer. */
  send(clientId: string, reconfig: Reconfig): Promise<ReconfigAnswer> {
    if (this.op !== null) return Promise.reject(new Error('one reconfiguration at a time'));
    const command: Command = { clientId, seq: ++this.seq, op: {}, reconfig };
    return new Promise((resolve, reject) => {
      this.op = { command, deadline: performance.now() + this.options.timeoutMs, resolve, reject, target: '', sentAt: 0 };
      this.post(this.link.route());
      this.sweeper = setInterval(() => this.sweep(), Math.max(5, Math.min(100, this.options.retryMs / 4)));
      this.sweeper.unref();
    });
  }

  /** Answers from a learner: the one to the command in flight settles it. */
  answered(answers: readonly ReconfigAnswer[]): void {
    const op = this.op;
    if (op === null) return;
    const a = answers.find((x) => x.clientId === op.command.clientId && x.seq === op.command.seq);
    if (a === undefined) return;
    this.settle();
    op.resolve(a);
  }

  /** Proposer `from` rejected commands (flat pairs `clientId, seq`), believing `hint` leads: the one in flight goes there, or to the next proposer. */
  rejected(from: ActorId, flat: ReadonlyArray<string | number>, hint: ActorId | null): void {
    const op = this.op;
    if (op === null || op.target !== from) return;
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i] !== op.command.clientId || flat[i + 1] !== op.command.seq) continue;
      if (hint !== null && hint !== from && this.link.serving(hint)) this.post(hint);
      // No leader known: try the next proposer after a pause, as the client does, rather than flood an election.
      else op.sentAt = performance.now() - this.options.retryMs + REJECT_BACKOFF_MS;
      return;
    }
  }

  /** Actor `id` went down: a command sent to it goes elsewhere at once. */
  down(id: ActorId): void {
    if (this.op !== null && this.op.target === id) this.post(this.link.route(id));
  }

  /** Rejects the command in flight with `err` (the cluster closes). */
  close(err: Error): void {
    const op = this.op;
    if (op === null) return;
    this.settle();
    op.reject(err);
  }

  private post(target: ActorId): void {
    const op = this.op as AdminOp;
    op.target = target;
    op.sentAt = performance.now();
    if (this.link.serving(target)) this.link.post(target, op.command);
  }

  private sweep(): void {
    const op = this.op;
    if (op === null) return;
    const now = performance.now();
    if (now >= op.deadline) {
      this.settle();
      op.reject(new SynodError('SYNOD_TIMEOUT', `the reconfiguration to view ${(op.command.reconfig as Reconfig).epoch + 1} got no answer within ${this.options.timeoutMs} ms; it may still take effect. Check that a majority of the acceptors and a learner are up`));
    } else if (now - op.sentAt >= this.options.retryMs) this.post(this.link.route());
  }

  private settle(): void {
    this.op = null;
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}

/** The automatic replacement of dead acceptors ({@link KvClusterOptions.replaceDeadAcceptors}); off unless given. */
export interface ReplacePolicy {
  /** Milliseconds an acceptor of the current view must have been dead or suspected, without a break, before it is replaced. */
  readonly after: number;
}

/** An acceptor was replaced by the automatic policy: the payload of the `replace` event. */
export interface ReplaceEvent {
  /** The acceptor taken out (its thread stopped, its store retired). */
  readonly removed: ActorId;
  /** The fresh acceptor that took its place (an id never used before in this cluster). */
  readonly added: ActorId;
  /** The view the replacement made. */
  readonly view: KvView;
  /** How long `removed` had been dead or suspected when the replacement was started, in ms. */
  readonly downForMs: number;
}

/** A replacement the automatic policy started did not happen: the payload of the `replaceFailed` event. */
export interface ReplaceFailedEvent {
  /** The acceptor that was to be taken out (it stays in the view). */
  readonly removed: ActorId;
  /** The acceptor that was to take its place. */
  readonly added: ActorId;
  /** Why: the rejection of the reconfiguration (SYNOD_RECONFIG_REFUSED, SYNOD_START_FAILED, SYNOD_TIMEOUT, ...). */
  readonly error: Error;
}

/** What the {@link AcceptorReplacer} needs of the cluster. */
export interface ReplacerLink {
  /** The time now, on the clock of the health reports' `since` (epoch ms). */
  now(): number;
  /** The current view. */
  view(): KvView;
  /** True while a reconfiguration runs or waits to run. */
  busy(): boolean;
  /** Every acceptor id the cluster has used (members, retired, brought in): a fresh one is none of them. */
  usedIds(): Iterable<ActorId>;
  /** Replaces acceptor `dead` by `fresh` through the log (`reconfigure({ add: [fresh], remove: [dead] })`). */
  replace(dead: ActorId, fresh: ActorId): Promise<KvView>;
  /** A replacement was made. */
  replaced(e: ReplaceEvent): void;
  /** A replacement was not made. */
  failed(e: ReplaceFailedEvent): void;
}

/**
 * The automatic replacement policy: replaces an acceptor of the current view
 * that has been dead or suspected, without a break, for longer than
 * `after` ms with a fresh acceptor (`a<n>`, n above every acceptor number
 * the cluster has used), through the log. One replacement at a time, never
 * while another reconfiguration runs or waits (it looks again once that one
 * settles), and always one for one, so the view keeps as many acceptors as
 * it had. A replacement that fails is reported and tried again once the
 * acceptor has been down for another `after` ms; after a SYNOD_TIMEOUT
 * (it may still take effect) with the same fresh id, so the log answers
 * whether it made it. The clock and the timers are the runtime's; the
 * health reports come from the cluster's failure detection.
 */
export class AcceptorReplacer {
  /** Per acceptor that is not alive, since when (on the link's clock). */
  private readonly downSince = new Map<ActorId, number>();
  /** The fresh id kept for a dead acceptor whose replacement timed out. */
  private readonly pending = new Map<ActorId, ActorId>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private closed = false;

  constructor(
    private readonly link: ReplacerLink,
    private readonly policy: ReplacePolicy,
  ) {}

  /** A health change (`suspect` or `alive` event): an actor going down starts its clock, one coming back alive stops it. */
  observed(change: HealthChange): void {
    if (change.target.kind !== 'actor') return;
    const id = change.target.id;
    if (change.status === 'alive') this.downSince.delete(id);
    else if (!this.downSince.has(id)) this.downSince.set(id, change.since);
    this.poke();
  }

  /** Looks again for an acceptor due for replacement (the cluster calls it when a reconfiguration settles). */
  poke(): void {
    if (this.closed || this.running) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.link.busy()) return;
    const view = this.link.view();
    let due: { id: ActorId; since: number } | null = null;
    for (const id of view.acceptors) {
      const since = this.downSince.get(id);
      if (since !== undefined && (due === null || since < due.since)) due = { id, since };
    }
    if (due === null) return;
    const now = this.link.now();
    const wait = due.since + this.policy.after - now;
    if (wait > 0) {
      this.timer = setTimeout(() => this.poke(), Math.ceil(wait));
      this.timer.unref();
      return;
    }
    void this.replace(due.id, now - due.since);
  }

  /** Stops the policy: no replacement starts from now on. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async replace(dead: ActorId, downForMs: number): Promise<void> {
    this.running = true;
    const fresh = this.pending.get(dead) ?? this.freshId();
    this.pending.delete(dead);
    try {
      const view = await this.link.replace(dead, fresh);
      this.downSince.delete(dead);
      this.link.replaced({ removed: dead, added: fresh, view, downForMs });
    } catch (err) {
      if (this.closed) return;
      if ((err as SynodError).code === 'SYNOD_TIMEOUT') this.pending.set(dead, fresh);
      // Tried again once it has been down for another `after` (unless it comes back).
      if (this.downSince.has(dead)) this.downSince.set(dead, this.link.now());
      this.link.failed({ removed: dead, added: fresh, error: err as Error });
    } finally {
      this.running = false;
    }
    this.poke();
  }

  /** An acceptor id above every one used. */
  private freshId(): ActorId {
    let top = 0;
    for (const id of this.link.usedIds()) if (/^a[0-9]+$/.test(id)) top = Math.max(top, Number(id.slice(1)));
    return `a${top + 1}`;
  }
}

/** The file, in a cluster's data directory, that records its members (see {@link MembersRecord}). */
export const MEMBERS_FILE = 'synod-members.json';

/**
 * What a data directory records of the cluster that runs on it, so that a
 * cluster reopened on it after a reconfiguration starts the members of the
 * newest view rather than the ones it was created with.
 */
export interface MembersRecord {
  /** The members the cluster was created with: view 0, which the protocol's configuration names. */
  readonly configured: Membership;
  /** The newest view the cluster knew to decide. */
  readonly view: KvView;
  /** The actors it ran: the view's, and any a reconfiguration was bringing in or had not yet stopped. */
  readonly hosted: Membership;
}

const ids = (prefix: string) => z.array(z.string().regex(new RegExp(`^${prefix}[1-9][0-9]{0,8}$`)));
const membersSchema = z.strictObject({ proposers: ids('p'), acceptors: ids('a'), learners: ids('l') });
const recordSchema = z.object({
  format: z.literal('synod-members'),
  version: z.literal(1),
  configured: membersSchema,
  // A record written before the proposers could change has none in its view: they were the configured ones.
  view: z.strictObject({ epoch: z.number().int().min(0), from: z.number().int().min(0), proposers: ids('p').min(1).optional(), acceptors: ids('a').min(1), learners: ids('l').min(1) }),
  hosted: membersSchema,
});

/**
 * The members recorded in data directory `dataDir`, or null when it holds
 * no record (a fresh directory, or one an older version of synod wrote).
 * Throws a SynodError (SYNOD_START_FAILED) naming the file when it cannot be
 * read or is not a record.
 */
export function readMembers(dataDir: string): MembersRecord | null {
  const file = join(dataDir, MEMBERS_FILE);
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SynodError('SYNOD_START_FAILED', `cannot read ${file}: ${(err as Error).message}; it records the cluster's members, so restore it (synod-registry/ lists every actor that has existed)`, { cause: err });
  }
  const result = recordSchema.safeParse(parsed);
  if (!result.success) throw new SynodError('SYNOD_START_FAILED', `${file} does not record a cluster's members (${result.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}); restore it (synod-registry/ lists every actor that has existed)`);
  const { configured, view, hosted } = result.data;
  return { configured, view: { epoch: view.epoch, from: view.from, proposers: view.proposers ?? configured.proposers, acceptors: view.acceptors, learners: view.learners }, hosted };
}

/** Records `record` in data directory `dataDir`, durably and atomically (temporary file, fsync, rename). Throws a StorageError (SYNOD_STORAGE_IO) if it cannot. */
export function writeMembers(dataDir: string, record: MembersRecord): void {
  const note = 'the members of the cluster on this data directory, rewritten after every reconfiguration; a cluster reopened here starts the hosted actors, in this view';
  writeFileDurably(join(dataDir, MEMBERS_FILE), `${JSON.stringify({ format: 'synod-members', version: 1, ...record, note }, null, 2)}\n`);
}

/** The ids of the actors data directory `dataDir` has retired (their registry entries renamed `<id>.retired-<epoch>.json`). */
export function retiredIds(dataDir: string): ActorId[] {
  const registry = join(dataDir, REGISTRY_DIR);
  if (!existsSync(registry)) return [];
  return readdirSync(registry).flatMap((name) => {
    const m = /^(.+)\.retired-[0-9]+\.json$/.exec(name);
    return m === null ? [] : [m[1] as ActorId];
  });
}
