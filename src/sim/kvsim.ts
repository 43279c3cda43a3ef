/**
 * The Multi-Paxos key-value store in the deterministic simulator. Clients
 * issue reads, writes and compare-and-sets against a cluster of proposers,
 * acceptors and learners hosted on one thread, through a network that drops,
 * duplicates and delays messages, with partitions and crashes (the leader's
 * included). Every client operation goes into a Jepsen-format history, and
 * the log itself is watched by the log safety checker. Same options,
 * same run, byte for byte.
 *
 * The run is driven by the seeded driver both simulators share (./driver.ts):
 * faults come from a stream of their own and are recorded as a fault
 * schedule that replays the run exactly. The client links (`c0`, `c1`, …, to
 * and from the actors) lose, duplicate and delay messages like any other
 * link, but are never partitioned.
 */
import type { HistoryEvent } from '../check/history.js';
import type { Violation } from '../check/types.js';
import { membership, type ActorId } from '../core/ids.js';
import { mpConfig, type Command, type MpBugs, type MpConfig, type MpMessage } from '../core/multipaxos/types.js';
import { kvMachine, type KvCommand, type KvOp, type KvResult } from '../machines/kv/machine.js';
import { kvClient, kvJepsen } from '../machines/kv/client.js';
import type { Value } from '../core/value.js';
import { DEFAULT_FAULTS, SeededDriver, type FaultOptions } from './driver.js';
import { MpWorld } from './multipaxos-world.js';
import { unknownActor, type FaultSchedule, type ReconfigFault } from './schedule.js';
import { lastView, type View } from '../core/multipaxos/views.js';
import type { RawTraceEvent } from '../trace/types.js';
import { Prng } from '../util/prng.js';

/** Options of one simulated key-value run. */
export interface KvSimOptions {
  /** The seed: the same options and seed give the same run. */
  readonly seed: number;
  /** Concurrent clients, each with one operation outstanding. */
  readonly clients: number;
  /** Operations in all, shared among the clients. */
  readonly ops: number;
  /** Number of proposers (leader candidates); default 3. */
  readonly proposers?: number;
  /** Number of acceptors; default 3. */
  readonly acceptors?: number;
  /** Number of learners (replicas of the store); default 2. */
  readonly learners?: number;
  /** Number of distinct keys. */
  readonly keys?: number;
  /** Fault rates and timing; anything left out takes the key-value defaults (crash and partition 0.0002 per step, the rest as in DEFAULT_FAULTS). */
  readonly faults?: Partial<FaultOptions>;
  /** Probability, per step, that the current leader crashes. */
  readonly crashLeader?: number;
  /** Most commands per log slot; default the core's (64). */
  readonly batchMax?: number;
  /** Most slots in flight; default the core's (32). */
  readonly window?: number;
  /** Snapshot and trim every this many slots (0: never). */
  readonly compactEvery?: number;
  /**
   * A profile of the cluster's log settings, drawn per seed: `compaction`
   * (compaction-heavy) draws `compactEvery` in [3, 50] and `window` in
   * [2, 8] from the seed, overriding both options, so that a sweep trims
   * the log often, with few slots in flight, in many combinations. Default
   * `default`: the options as given.
   */
  readonly profile?: KvProfile;
  /** How reads are served: `index` (ReadIndex, the default) or `log` (as commands of the log). See `MpConfig.reads`. */
  readonly reads?: 'index' | 'log';
  /** How learners learn a slot is chosen: `commit` (from the leader, the default) or `votes` (from the acceptors). See `MpConfig.learn`. */
  readonly learn?: 'commit' | 'votes';
  /**
   * Spare acceptors, learners and proposers (default 2, 1, and 0, or 2 with
   * the `reconfig` profile) hosted besides the members, for
   * reconfigurations to bring in. Used only when the run reconfigures:
   * `faults.reconfig` above 0, the `reconfig` profile, or a schedule with
   * reconfigurations. Each reconfiguration picks a random non-empty set of
   * acceptors from every acceptor, members and spares, and of learners
   * likewise (and of proposers, when there are spare proposers; otherwise
   * the proposers stay), and an administrator (`adm` on the client links)
   * asks the leader for it.
   */
  readonly spares?: { readonly acceptors?: number; readonly learners?: number; readonly proposers?: number };
  /** A control bug (see {@link KV_BUGS}: `stale-read`, `cas-false` and `read-without-quorum` for the linearizability checker, `no-retry` for the liveness phase, the others for the log checker); none by default. */
  readonly bug?: KvBugName | null;
  /**
   * After the fault phase (the step bound, or every operation answered), a
   * liveness phase: partitions heal, crashed actors restart, no more faults;
   * within {@link livenessMs} of virtual time every operation still
   * outstanding must be answered and every learner must apply every chosen
   * slot, or the run reports a `liveness` violation. Clients keep re-sending
   * but start no new operation. Off unless asked for (sweeps and the command
   * line ask for it).
   */
  readonly liveness?: boolean;
  /** The liveness phase's bound, in virtual ms (default {@link DEFAULT_KV_LIVENESS_MS}). */
  readonly livenessMs?: number;
  /** Upper bound on steps (default: 400 per operation). */
  readonly maxSteps?: number;
  /** A client re-sends an unanswered request after this long. */
  readonly clientTimeoutMs?: number;
  /**
   * Replay exactly these faults instead of drawing them (the fault
   * probabilities and `crashLeader` are then unused); everything else is
   * still drawn from `seed`. Client links are named `c0`, `c1`, … and their
   * messages `request`, `reply` and `redirect`. See `SimOptions.schedule`.
   */
  readonly schedule?: FaultSchedule;
  /** Stop at the first log-safety violation (shrinking does). */
  readonly stopOnViolation?: boolean;
  /** Receives every line of the full trace. */
  readonly trace?: (line: string) => void;
  /** Receives every structured trace event (see `MpWorld`); partitions and heals come on the `env` lane. */
  readonly onTrace?: (e: RawTraceEvent) => void;
}

/** The control bugs of the key-value store: a checker (linearizability, log safety or liveness) must catch each. */
export const KV_BUGS = ['stale-read', 'cas-false', 'no-retry', 'ignore-promised', 'forget-accepted', 'promise-omits-trim', 'read-without-quorum', 'view-before-chosen', 'vote-without-quorum'] as const;
/** One of {@link KV_BUGS}. */
export type KvBugName = (typeof KV_BUGS)[number];

/**
 * Default bound of the key-value liveness phase: 10 s of virtual time, some
 * 50 to 100 election timeouts and 200 accept retries, so that only a cluster
 * that has stopped making progress for good is reported, not a slow one.
 */
export const DEFAULT_KV_LIVENESS_MS = 10_000;
/** Most steps of a liveness phase: a bound on the work of a run that spins without progress (reported as a liveness violation too). */
export const LIVENESS_MAX_STEPS = 1_000_000;

/** The profiles of {@link KvSimOptions.profile}. */
export const KV_PROFILES = ['default', 'compaction', 'reconfig'] as const;
/** One of {@link KV_PROFILES}. */
export type KvProfile = (typeof KV_PROFILES)[number];

/** The log settings a profile gives seed `seed` (the compaction profile draws them from a stream of their own, so the run's streams are untouched). */
export function profileSettings(profile: KvProfile, seed: number): { compactEvery?: number; window?: number; reconfig?: number } {
  if (profile === 'default') return {};
  // Reconfigurations, one every 2,000 steps or so, with compaction on (so views must travel with trims and snapshots).
  if (profile === 'reconfig') {
    const g = new Prng(seed + 0x9e3779b9);
    return { compactEvery: g.int(3, 50), window: g.int(2, 8), reconfig: 0.0005 };
  }
  const g = new Prng(seed + 0x9e3779b9);
  return { compactEvery: g.int(3, 50), window: g.int(2, 8) };
}

/** The core's control-bug switches for a key-value bug name. */
function kvBugs(bug: KvBugName | null | undefined): Partial<MpBugs> {
  return {
    staleRead: bug === 'stale-read',
    noAcceptRetry: bug === 'no-retry',
    ignorePromisedValues: bug === 'ignore-promised',
    forgetAccepted: bug === 'forget-accepted',
    promiseOmitsTrim: bug === 'promise-omits-trim',
    readWithoutQuorum: bug === 'read-without-quorum',
    viewBeforeChosen: bug === 'view-before-chosen',
    voteWithoutQuorum: bug === 'vote-without-quorum',
  };
}

/** What a key-value run did. */
export interface KvSimResult {
  readonly seed: number;
  readonly steps: number;
  /** Virtual time at the end, in ms. */
  readonly time: number;
  readonly history: readonly HistoryEvent[];
  /** Operations that completed (ok or fail) / were still unanswered at the end (info). */
  readonly completed: number;
  readonly unknown: number;
  readonly violations: readonly Violation[];
  /** The step at which the fault phase ended (the step bound, every operation answered, or a violation): what a replay's `maxSteps` needs. */
  readonly faultSteps: number;
  /** The liveness phase, if there was one: whether everything completed, and how long it took in virtual ms (the whole bound when it did not). */
  readonly liveness: { readonly ok: boolean; readonly ms: number } | null;
  /** Every fault injected, in order: replaying it (option `schedule`) with the same seed and options reproduces this run exactly. */
  readonly schedule: FaultSchedule;
  readonly stats: {
    readonly opsPerSec: number;
    readonly latencyP50Ms: number;
    readonly latencyP99Ms: number;
    readonly leaderChanges: number;
    /** Reconfigurations chosen and valid: the number of the newest view. */
    readonly reconfigurations: number;
    /** Those of them that changed the proposers. */
    readonly proposerChanges: number;
    readonly slotsChosen: number;
    readonly sent: number;
    readonly dropped: number;
    readonly crashes: number;
    readonly writes: number;
  };
}

interface Client {
  readonly index: number;
  /** The client's name on its links (`c<index>`), which fault schedules use. */
  readonly id: string;
  /** The id its commands carry: `id`, or `id.N` after its session expired N times. */
  clientId: string;
  renewals: number;
  /** Its Jepsen process: a fresh one after an operation whose outcome is unknown. */
  process: number;
  /** Operations invoked so far. */
  invoked: number;
  remaining: number;
  seq: number;
  target: ActorId;
  current: { command: KvCommand; invokedAt: number; attempt: number } | null;
}

/** The key-value workload's own events: client requests, answers and timers. */
type Ev =
  | { kind: 'request'; to: ActorId; command: KvCommand | Command }
  | { kind: 'reply'; client: number; clientId: string; cseq: number; result: KvResult }
  | { kind: 'expired'; client: number; clientId: string; cseq: number }
  | { kind: 'redirect'; client: number; cseq: number; leader: ActorId | null }
  | { kind: 'invoke'; client: number }
  | { kind: 'clientTimeout'; client: number; cseq: number; attempt: number }
  | { kind: 'adminReply'; cseq: number }
  | { kind: 'adminRedirect'; cseq: number; leader: ActorId | null }
  | { kind: 'adminTimeout'; cseq: number; attempt: number };

/** Every Multi-Paxos message type, once: a missing or unknown one fails to compile, so schedules can always name every type on the wire. */
const MP_TYPES: Record<MpMessage['type'], true> = {
  prevote: true,
  'prevote-ok': true,
  prepare: true,
  promise: true,
  nack: true,
  accept: true,
  accepted: true,
  vote: true,
  commit: true,
  heartbeat: true,
  catchup: true,
  applied: true,
  trim: true,
  'snapshot-request': true,
  snapshot: true,
  confirm: true,
  confirmed: true,
  read: true,
};

/** The message types of the Multi-Paxos actors and of the client links: what a `synod kv-sim` schedule's message faults may name. */
export const KV_MESSAGE_TYPES: readonly string[] = Object.freeze([...Object.keys(MP_TYPES), 'request', 'reply', 'redirect']);

/** Default faults of a key-value run: rarer crashes than single-decree runs, whose steps are far fewer. */
export const KV_FAULTS: Partial<FaultOptions> = Object.freeze({ crash: 0.0002, partition: 0.0002 });

/** The administrator's name on the client links and its commands' client id (reconfigurations). */
export const ADMIN = 'adm';

/** Which client sent a command (client ids are `c<index>`, or `c<index>.<renewals>`). */
function clientIndex(cmd: Command): number {
  return Number.parseInt(cmd.clientId.slice(1), 10);
}

/** How many of `views` have other proposers than the view before. */
function proposerChanges(views: readonly View[]): number {
  let n = 0;
  for (let i = 1; i < views.length; i++) {
    const [a, b] = [(views[i - 1] as View).members.proposers, (views[i] as View).members.proposers];
    if (a.length !== b.length || a.some((p) => !b.includes(p))) n++;
  }
  return n;
}

/** Runs one simulated key-value workload. */
export function simulateKv(opts: KvSimOptions): KvSimResult {
  const drawn = profileSettings(opts.profile ?? 'default', opts.seed);
  const f: FaultOptions = { ...DEFAULT_FAULTS, ...KV_FAULTS, ...(drawn.reconfig !== undefined ? { reconfig: drawn.reconfig } : {}), ...opts.faults };
  const members = membership(opts.proposers ?? 3, opts.acceptors ?? 3, opts.learners ?? 2);
  const clientIds = Array.from({ length: opts.clients }, (_, i) => `c${i}`);
  const reconfigures = (f.reconfig ?? 0) > 0 || (opts.schedule ?? []).some((x) => x.kind === 'reconfig');
  const spareIds = (prefix: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${from + i + 1}`);
  const spareProposers = opts.spares?.proposers ?? (opts.profile === 'reconfig' ? 2 : 0);
  const spares = reconfigures ? { acceptors: spareIds('a', members.acceptors.length, opts.spares?.acceptors ?? 2), learners: spareIds('l', members.learners.length, opts.spares?.learners ?? 1), proposers: spareIds('p', members.proposers.length, spareProposers) } : null;
  // Proposers are in the pool only with spares: without, reconfigurations keep them (and draw nothing more from the fault stream).
  const pool = spares ? { acceptors: [...members.acceptors, ...spares.acceptors], learners: [...members.learners, ...spares.learners], ...(spares.proposers.length > 0 ? { proposers: [...members.proposers, ...spares.proposers] } : {}) } : null;
  if (opts.schedule) {
    const unknown = unknownActor(opts.schedule, [...members.proposers, ...(spares?.proposers ?? []), ...(pool?.acceptors ?? members.acceptors), ...(pool?.learners ?? members.learners), ...clientIds, ADMIN]);
    if (unknown !== null) throw new RangeError(`the fault schedule names ${unknown}, which is neither an actor nor a client of this cluster`);
  }
  const driver = new SeededDriver<Ev>({
    seed: opts.seed,
    faults: f,
    crashLeader: opts.crashLeader ?? 0,
    schedule: opts.schedule ?? null,
    ...(opts.onTrace ? { onTrace: opts.onTrace } : {}),
  });
  const rng = driver.rng;
  const window = drawn.window ?? opts.window;
  const compactEvery = drawn.compactEvery ?? opts.compactEvery;
  const config: MpConfig = mpConfig(members, {
    ...(opts.batchMax ? { batchMax: opts.batchMax } : {}),
    ...(window ? { window } : {}),
    ...(compactEvery !== undefined ? { compactEvery } : {}),
    ...(opts.reads ? { reads: opts.reads } : {}),
    ...(opts.learn ? { learn: opts.learn } : {}),
    bugs: kvBugs(opts.bug),
  });
  const world: MpWorld = new MpWorld(
    {
      random: () => rng.next(),
      sendDelays: (from, to, msg): number[] => driver.sendDelays(world.step, from, to, msg.type),
      linkUp: driver.linkUp,
      writeDelay: () => driver.writeDelay(),
    },
    config,
    opts.trace,
    opts.onTrace,
    spares ? { spares } : {},
  );
  /** The proposers of the newest view chosen, among whom clients look for the leader (those of the configuration while the log never reconfigures). */
  const proposersNow = () => lastView(world.checker.knownViews).members.proposers;
  /** Queues `event` once per copy the client link `from -> to` delivers (clients sit outside partitions). */
  const viaClientLink = (from: ActorId, to: ActorId, type: 'request' | 'reply' | 'redirect', event: Ev) => {
    for (const d of driver.sendDelays(world.step, from, to, type, false)) driver.push(world.now + d, event);
  };
  world.onPending = (p) => driver.pending(p);
  world.onClient = (from, e) => {
    if (e.type === 'applied' && e.command.reconfig !== undefined) {
      viaClientLink(from, ADMIN, 'reply', { kind: 'adminReply', cseq: e.command.seq });
      return;
    }
    if (e.type === 'reject' && e.commands.some((c) => c.reconfig !== undefined)) {
      for (const c of e.commands) if (c.reconfig !== undefined) viaClientLink(from, ADMIN, 'redirect', { kind: 'adminRedirect', cseq: c.seq, leader: e.leader });
      const rest = e.commands.filter((c) => c.reconfig === undefined);
      if (rest.length === 0) return;
      e = { ...e, commands: rest };
    }
    if (e.type === 'applied') {
      const client = clientIndex(e.command);
      viaClientLink(from, `c${client}`, 'reply', { kind: 'reply', client, clientId: e.command.clientId, cseq: e.command.seq, result: e.result as KvResult });
    } else if (e.type === 'expired') {
      // Its clients are far fewer than maxSessions, so only a client whose first command never went through the log (a read answered by a stale learner, under that control bug) meets this.
      const client = clientIndex(e.command);
      viaClientLink(from, `c${client}`, 'reply', { kind: 'expired', client, clientId: e.command.clientId, cseq: e.command.seq });
    } else {
      for (const cmd of e.commands) {
        const client = clientIndex(cmd);
        viaClientLink(from, `c${client}`, 'redirect', { kind: 'redirect', client, cseq: cmd.seq, leader: e.leader });
      }
    }
  };

  const history: HistoryEvent[] = [];
  const latencies: number[] = [];
  const written = new Map<string, Value[]>();
  const keys = Array.from({ length: opts.keys ?? 5 }, (_, i) => `k${i}`);
  const clients: Client[] = Array.from({ length: opts.clients }, (_, i) => ({
    index: i,
    id: clientIds[i] as string,
    clientId: clientIds[i] as string,
    renewals: 0,
    process: i,
    invoked: 0,
    remaining: Math.floor(opts.ops / opts.clients) + (i < opts.ops % opts.clients ? 1 : 0),
    seq: 0,
    target: rng.pick(members.proposers),
    current: null,
  }));
  const timeoutMs = opts.clientTimeoutMs ?? 200;

  // --- clients -------------------------------------------------------------
  const sendRequest = (c: Client) => {
    const cur = c.current;
    if (!cur) return;
    cur.attempt++;
    const to = config.bugs.staleRead && kvMachine.readOnly(cur.command.op) ? rng.pick(members.learners) : c.target;
    viaClientLink(c.id, to, 'request', { kind: 'request', to, command: cur.command });
    driver.push(world.now + timeoutMs, { kind: 'clientTimeout', client: c.index, cseq: cur.command.seq, attempt: cur.attempt });
  };
  const invoke = (c: Client) => {
    if (c.remaining === 0 || driver.calmed) return; // the liveness phase starts no new operation
    c.remaining--;
    const key = rng.pick(keys);
    const roll = rng.next();
    const fresh = (c.index + 1) * 1_000_000 + c.invoked + 1;
    const seen = written.get(key) ?? [];
    let op: KvOp;
    if (roll < 0.5) op = { f: 'read', key };
    else if (roll < 0.8) op = { f: 'write', key, value: fresh };
    else op = { f: 'cas', key, from: seen.length > 0 && rng.chance(0.8) ? (seen[seen.length - 1 - rng.int(0, Math.min(2, seen.length - 1))] as Value) : null, to: fresh };
    if (op.f === 'write') seen.push(op.value);
    if (op.f === 'cas') seen.push(op.to);
    written.set(key, seen);
    c.seq++;
    c.invoked++;
    c.current = { command: { clientId: c.clientId, seq: c.seq, op }, invokedAt: world.now, attempt: 0 };
    history.push({ process: c.process, type: 'invoke', ...kvJepsen.invoked(op), time: world.now });
    sendRequest(c);
  };
  const complete = (c: Client, result: KvResult) => {
    const cur = c.current as NonNullable<Client['current']>;
    const op = cur.command.op;
    // What a caller of createKvCluster would get; under the cas-false control bug, every cas answers false.
    const answer = op.f === 'cas' && opts.bug === 'cas-false' ? false : kvClient.decodeResult(op, kvClient.encodeResult(result));
    history.push({ process: c.process, type: 'ok', ...kvJepsen.completed(op, answer), time: world.now });
    latencies.push(world.now - cur.invokedAt);
    c.current = null;
    driver.push(world.now + rng.int(0, 5), { kind: 'invoke', client: c.index });
  };

  // --- the administrator: one reconfiguration at a time, re-sent until answered ----
  const admin = { seq: 0, target: rng.pick(members.proposers), current: null as { command: Command; attempt: number } | null };
  const sendAdmin = () => {
    const cur = admin.current;
    if (!cur) return;
    cur.attempt++;
    viaClientLink(ADMIN, admin.target, 'request', { kind: 'request', to: admin.target, command: cur.command });
    driver.push(world.now + timeoutMs, { kind: 'adminTimeout', cseq: cur.command.seq, attempt: cur.attempt });
  };
  const reconfigure = (fault: ReconfigFault) => {
    // The administrator asks to change the newest view it knows of (a stale one is refused by the log, and that is that).
    const newest = lastView(world.checker.knownViews);
    admin.seq++;
    admin.current = { command: { clientId: ADMIN, seq: admin.seq, op: {}, reconfig: { epoch: newest.epoch, members: { proposers: fault.proposers ?? newest.members.proposers, acceptors: fault.acceptors, learners: fault.learners } } }, attempt: 0 };
    admin.target = world.leader?.id ?? admin.target;
    sendAdmin();
  };

  // --- the run ------------------------------------------------------------
  world.start();
  for (const c of clients) driver.push(rng.int(0, 20), { kind: 'invoke', client: c.index });
  const maxSteps = opts.maxSteps ?? opts.ops * 400;
  const event = (ev: Ev) => {
      switch (ev.kind) {
        case 'request':
          world.request(ev.to, [ev.command]);
          break;
        case 'reply': {
          const c = clients[ev.client] as Client;
          if (c.current?.command.clientId === ev.clientId && c.current.command.seq === ev.cseq) complete(c, ev.result);
          break;
        }
        case 'expired': {
          // The session is gone: the outcome is unknown (info), and the client goes on under a fresh id and process.
          const c = clients[ev.client] as Client;
          if (c.current?.command.clientId !== ev.clientId || c.current.command.seq !== ev.cseq) break;
          const op = c.current.command.op;
          history.push({ process: c.process, type: 'info', ...kvJepsen.invoked(op), time: world.now });
          c.current = null;
          c.renewals++;
          c.clientId = `${c.id}.${c.renewals}`;
          c.seq = 0;
          c.process += clients.length;
          driver.push(world.now + rng.int(0, 5), { kind: 'invoke', client: c.index });
          break;
        }
        case 'redirect': {
          const c = clients[ev.client] as Client;
          if (c.current?.command.seq !== ev.cseq) break;
          c.target = ev.leader ?? rng.pick(proposersNow());
          sendRequest(c);
          break;
        }
        case 'clientTimeout': {
          const c = clients[ev.client] as Client;
          if (c.current?.command.seq !== ev.cseq || c.current.attempt !== ev.attempt) break;
          c.target = rng.pick(proposersNow());
          sendRequest(c);
          break;
        }
        case 'invoke':
          invoke(clients[ev.client] as Client);
          break;
        case 'adminReply':
          if (admin.current?.command.seq === ev.cseq) admin.current = null;
          break;
        case 'adminRedirect':
          if (admin.current?.command.seq !== ev.cseq) break;
          admin.target = ev.leader ?? rng.pick(proposersNow());
          sendAdmin();
          break;
        case 'adminTimeout':
          if (admin.current?.command.seq !== ev.cseq || admin.current.attempt !== ev.attempt) break;
          admin.target = rng.pick(proposersNow());
          sendAdmin();
          break;
      }
  };
  const stopped = () => opts.stopOnViolation === true && world.checker.violations.length > 0;
  driver.run(world, maxSteps, {
    leader: () => world.leader?.id ?? null,
    ...(pool ? { reconfigPool: () => pool, reconfigure } : {}),
    event,
    done: () => stopped() || clients.every((c) => c.remaining === 0 && c.current === null),
  });
  const faultSteps = world.step;
  let liveness: KvSimResult['liveness'] = null;
  if (opts.liveness === true && !stopped()) {
    const bound = opts.livenessMs ?? DEFAULT_KV_LIVENESS_MS;
    const since = { step: world.step, time: world.now };
    /** The learners of the newest view (a removed one is no longer sent the log). */
    const learners = () => lastView(world.checker.knownViews).members.learners;
    /** Every operation (and reconfiguration) answered, and every learner past the highest chosen slot. */
    const settled = () => {
      for (const c of clients) if (c.current !== null) return false;
      if (admin.current !== null) return false;
      const target = world.checker.highestChosen + 1;
      for (const l of learners()) {
        const st = world.state(l);
        if (st === null || st.role !== 'learner' || st.nextSlot < target) return false;
      }
      return true;
    };
    driver.calm(world, {});
    let ok = settled();
    if (!ok) {
      driver.run(world, since.step + LIVENESS_MAX_STEPS, { event, done: () => stopped() || settled() }, since.time + bound);
      ok = settled();
    }
    liveness = { ok, ms: world.now - since.time };
    if (!ok && !stopped()) {
      const outstanding = clients.flatMap((c) => (c.current ? [`c${c.index}#${c.current.command.seq} ${c.current.command.op.f} ${c.current.command.op.key}`] : []));
      const behind = learners().map((l) => {
        const st = world.state(l);
        return `${l} at slot ${st?.role === 'learner' ? st.nextSlot : 'down'}`;
      });
      if (admin.current !== null) outstanding.push(`${ADMIN}#${admin.current.command.seq} reconfigure`);
      const why = world.step >= since.step + LIVENESS_MAX_STEPS ? `${LIVENESS_MAX_STEPS} steps` : `${bound} ms of virtual time`;
      world.checker.livenessFailed(
        world.step,
        `no progress in ${why} without faults (from step ${since.step}, time ${since.time} ms): ${outstanding.length} operation(s) unanswered${outstanding.length > 0 ? ` (${outstanding.slice(0, 5).join(', ')}${outstanding.length > 5 ? ', …' : ''})` : ''}; ${behind.join(', ')} of ${world.checker.highestChosen + 1} chosen; leader ${world.leader?.id ?? 'none'}`,
        { since, boundMs: bound, outstanding, learners: behind, chosenUpTo: world.checker.highestChosen + 1, leader: world.leader?.id ?? null },
      );
    }
  }
  let unknown = 0;
  for (const c of clients) {
    if (!c.current) continue;
    const op = c.current.command.op;
    history.push({ process: c.process, type: 'info', ...kvJepsen.invoked(op), time: world.now });
    unknown++;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number));
  const now = world.now;
  return {
    seed: opts.seed,
    steps: world.step,
    time: now,
    history,
    completed: latencies.length,
    unknown,
    violations: world.checker.finish(world.step),
    faultSteps,
    liveness,
    schedule: driver.recorded(),
    stats: {
      opsPerSec: now > 0 ? Math.round((latencies.length * 1000) / now) : 0,
      latencyP50Ms: pct(0.5),
      latencyP99Ms: pct(0.99),
      leaderChanges: world.stats.leaderChanges,
      reconfigurations: lastView(world.checker.knownViews).epoch,
      proposerChanges: proposerChanges(world.checker.knownViews),
      slotsChosen: world.checker.chosenSlots,
      sent: world.stats.sent,
      dropped: world.stats.dropped,
      crashes: world.stats.crashes,
      writes: world.stats.writes,
    },
  };
}
