/**
 * The Multi-Paxos key-value store in the deterministic simulator. Clients
 * issue reads, writes and compare-and-sets against a cluster of proposers,
 * acceptors and learners hosted on one thread, through a network that drops,
 * duplicates and delays messages, with partitions and crashes (the leader's
 * included). Every client operation goes into a Jepsen-format history, and
 * the log itself is watched by the {@link LogSafetyChecker}. Same options,
 * same run, byte for byte.
 */
import { LogSafetyChecker } from '../check/log-safety.js';
import type { Violation } from '../check/safety.js';
import { AssertionError } from '../core/assert.js';
import { ballotGt, type Ballot } from '../core/ballot.js';
import { allActors, membership, roleOf, type ActorId, type Role } from '../core/ids.js';
import { checkMpInvariants, initMpActor, stepMpActor, type MpActorState } from '../core/multipaxos/actor.js';
import { mpConfig, type Command, type KvOp, type KvResult, type MpConfig, type MpEffect, type MpInput, type MpMessage, type MpRecord, type MpTimer } from '../core/multipaxos/types.js';
import type { Value } from '../core/value.js';
import { EventHeap } from './heap.js';
import { Prng } from './prng.js';
import { DEFAULT_FAULTS, type FaultOptions } from './simulator.js';

/** One line of a Jepsen-format history. */
export interface KvHistoryEvent {
  readonly process: number;
  readonly type: 'invoke' | 'ok' | 'fail' | 'info';
  readonly f: 'read' | 'write' | 'cas';
  readonly key: string;
  readonly value: Value;
  /** Virtual time in ms. */
  readonly time: number;
}

/** Options of one simulated key-value run. */
export interface KvSimOptions {
  readonly seed: number;
  readonly clients: number;
  /** Operations in all, shared among the clients. */
  readonly ops: number;
  readonly proposers?: number;
  readonly acceptors?: number;
  readonly learners?: number;
  /** Number of distinct keys. */
  readonly keys?: number;
  readonly faults?: Partial<FaultOptions>;
  /** Probability, per step, that the current leader crashes. */
  readonly crashLeader?: number;
  readonly batchMax?: number;
  readonly window?: number;
  readonly bug?: 'stale-read' | null;
  /** Upper bound on steps (default: 400 per operation). */
  readonly maxSteps?: number;
  /** A client re-sends an unanswered request after this long. */
  readonly clientTimeoutMs?: number;
}

/** What a key-value run did. */
export interface KvSimResult {
  readonly seed: number;
  readonly steps: number;
  /** Virtual time at the end, in ms. */
  readonly time: number;
  readonly history: readonly KvHistoryEvent[];
  /** Operations that completed (ok or fail) / were still unanswered at the end (info). */
  readonly completed: number;
  readonly unknown: number;
  readonly violations: readonly Violation[];
  readonly stats: {
    readonly opsPerSec: number;
    readonly latencyP50Ms: number;
    readonly latencyP99Ms: number;
    readonly leaderChanges: number;
    readonly slotsChosen: number;
    readonly sent: number;
    readonly dropped: number;
    readonly crashes: number;
    readonly writes: number;
  };
}

interface Slot {
  readonly id: ActorId;
  readonly role: Role;
  state: MpActorState | null;
  incarnation: number;
  readonly durable: MpRecord[];
  lastWriteAt: number;
  readonly timers: Map<MpTimer, number>;
}

interface Client {
  readonly index: number;
  readonly id: string;
  remaining: number;
  seq: number;
  target: ActorId;
  current: { command: Command; invokedAt: number; attempt: number } | null;
}

type Ev =
  | { at: number; seq: number; kind: 'msg'; from: ActorId; to: ActorId; msg: MpMessage }
  | { at: number; seq: number; kind: 'write'; actor: ActorId; incarnation: number; records: readonly MpRecord[]; then: readonly MpEffect[] }
  | { at: number; seq: number; kind: 'timer'; actor: ActorId; incarnation: number; timer: MpTimer; token: number }
  | { at: number; seq: number; kind: 'request'; to: ActorId; command: Command }
  | { at: number; seq: number; kind: 'reply'; client: number; cseq: number; result: KvResult }
  | { at: number; seq: number; kind: 'redirect'; client: number; cseq: number; leader: ActorId | null }
  | { at: number; seq: number; kind: 'invoke'; client: number }
  | { at: number; seq: number; kind: 'clientTimeout'; client: number; cseq: number; attempt: number }
  | { at: number; seq: number; kind: 'restart'; actor: ActorId }
  | { at: number; seq: number; kind: 'heal' };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Default faults of a key-value run: rarer crashes than single-decree runs, whose steps are far fewer. */
export const KV_FAULTS: Partial<FaultOptions> = Object.freeze({ crash: 0.0002, partition: 0.0002 });

/** Runs one simulated key-value workload. */
export function simulateKv(opts: KvSimOptions): KvSimResult {
  const f: FaultOptions = { ...DEFAULT_FAULTS, ...KV_FAULTS, ...opts.faults };
  const rng = new Prng(opts.seed);
  const members = membership(opts.proposers ?? 3, opts.acceptors ?? 3, opts.learners ?? 2);
  const config: MpConfig = mpConfig(members, {
    ...(opts.batchMax ? { batchMax: opts.batchMax } : {}),
    ...(opts.window ? { window: opts.window } : {}),
    bugs: { staleRead: opts.bug === 'stale-read' },
  });
  const checker = new LogSafetyChecker(members);
  const queue = new EventHeap<Ev>();
  let seq = 0;
  let now = 0;
  let step = 0;
  let tokens = 0;
  const push = (e: DistributiveOmit<Ev, 'seq'>) => queue.push({ ...e, seq: seq++ } as Ev);
  const stats = { sent: 0, dropped: 0, crashes: 0, writes: 0, leaderChanges: 0 };
  // A holder, not a plain `let`: TypeScript does not see the closures below assign it.
  const lead: { current: { id: ActorId; ballot: Ballot } | null } = { current: null };
  let side: Set<ActorId> | null = null;
  const linkUp = (a: ActorId, b: ActorId) => side === null || side.has(a) === side.has(b);
  const delay = () => (rng.chance(f.delay) ? rng.int(f.delayMax, f.delayLongMax) : rng.int(f.delayMin, f.delayMax));

  const slots = new Map<ActorId, Slot>();
  for (const id of allActors(members)) {
    const role = roleOf(members, id) as Role;
    slots.set(id, { id, role, state: initMpActor(role, id, config), incarnation: 1, durable: [], lastWriteAt: 0, timers: new Map() });
  }

  const history: KvHistoryEvent[] = [];
  const latencies: number[] = [];
  const written = new Map<string, Value[]>();
  const keys = Array.from({ length: opts.keys ?? 5 }, (_, i) => `k${i}`);
  const clients: Client[] = Array.from({ length: opts.clients }, (_, i) => ({
    index: i,
    id: `c${i}`,
    remaining: Math.floor(opts.ops / opts.clients) + (i < opts.ops % opts.clients ? 1 : 0),
    seq: 0,
    target: rng.pick(members.proposers),
    current: null,
  }));
  const timeoutMs = opts.clientTimeoutMs ?? 200;

  // --- hosting the cores -------------------------------------------------
  const input = (slot: Slot, i: MpInput) => {
    if (!slot.state) return;
    step++;
    const r = stepMpActor(slot.state, i, rng.next());
    try {
      checkMpInvariants(r.state);
    } catch (err) {
      if (!(err instanceof AssertionError)) throw err;
      // A broken invariant crashes the actor, as in the runtime; the run goes on.
      checker.invariantBroken(slot.id, err.message, step);
      crash(slot.id);
      return;
    }
    for (const e of r.effects) apply(slot, e);
  };
  const apply = (slot: Slot, e: MpEffect): void => {
    switch (e.type) {
      case 'send':
        stats.sent++;
        if (!linkUp(slot.id, e.to) || rng.chance(f.drop)) {
          stats.dropped++;
          return;
        }
        push({ at: now + delay(), kind: 'msg', from: slot.id, to: e.to, msg: e.msg });
        if (rng.chance(f.dup)) push({ at: now + delay(), kind: 'msg', from: slot.id, to: e.to, msg: e.msg });
        return;
      case 'persist': {
        const at = Math.max(now + rng.int(f.writeMin, f.writeMax), slot.lastWriteAt);
        slot.lastWriteAt = at;
        push({ at, kind: 'write', actor: slot.id, incarnation: slot.incarnation, records: e.records, then: e.then });
        return;
      }
      case 'setTimer': {
        const token = ++tokens;
        slot.timers.set(e.timer, token);
        push({ at: now + e.delay, kind: 'timer', actor: slot.id, incarnation: slot.incarnation, timer: e.timer, token });
        return;
      }
      case 'cancelTimer':
        slot.timers.delete(e.timer);
        return;
      case 'appliedSlot':
        checker.appliedSlot(slot.id, e.slot, e.batch, step);
        return;
      case 'applied': {
        const c = clients[Number(e.command.clientId.slice(1))] as Client;
        if (rng.chance(f.drop)) return;
        push({ at: now + delay(), kind: 'reply', client: c.index, cseq: e.command.seq, result: e.result });
        return;
      }
      case 'reject':
        for (const cmd of e.commands) push({ at: now + delay(), kind: 'redirect', client: Number(cmd.clientId.slice(1)), cseq: cmd.seq, leader: e.leader });
        return;
      case 'elected':
        if (!lead.current || ballotGt(e.ballot, lead.current.ballot)) {
          lead.current = { id: slot.id, ballot: e.ballot };
          stats.leaderChanges++;
        }
        return;
      case 'ignore':
        return;
    }
  };
  const crash = (id: ActorId) => {
    const slot = slots.get(id) as Slot;
    if (!slot.state) return;
    slot.state = null;
    slot.incarnation++;
    slot.timers.clear();
    stats.crashes++;
    push({ at: now + rng.int(f.downMin, f.downMax), kind: 'restart', actor: id });
  };
  const restart = (slot: Slot) => {
    slot.state = initMpActor(slot.role, slot.id, config, slot.durable);
    slot.lastWriteAt = now;
    if (slot.role === 'acceptor') {
      let promised: Ballot | null = null;
      for (const r of slot.durable) if (r.kind === 'promised' && ballotGt(r.ballot, promised)) promised = r.ballot;
      checker.acceptorRecovered(slot.id, promised, step);
    }
    if (slot.role === 'learner') checker.learnerRestarted(slot.id);
    input(slot, { type: 'start' });
  };

  // --- clients -------------------------------------------------------------
  const sendRequest = (c: Client) => {
    const cur = c.current;
    if (!cur) return;
    cur.attempt++;
    const to = config.bugs.staleRead && cur.command.op.f === 'read' ? rng.pick(members.learners) : c.target;
    if (!rng.chance(f.drop)) push({ at: now + delay(), kind: 'request', to, command: cur.command });
    push({ at: now + timeoutMs, kind: 'clientTimeout', client: c.index, cseq: cur.command.seq, attempt: cur.attempt });
  };
  const invoke = (c: Client) => {
    if (c.remaining === 0) return;
    c.remaining--;
    const key = rng.pick(keys);
    const roll = rng.next();
    const fresh = (c.index + 1) * 1_000_000 + c.seq + 1;
    const seen = written.get(key) ?? [];
    let op: KvOp;
    if (roll < 0.5) op = { f: 'read', key };
    else if (roll < 0.8) op = { f: 'write', key, value: fresh };
    else op = { f: 'cas', key, from: seen.length > 0 && rng.chance(0.8) ? (seen[seen.length - 1 - rng.int(0, Math.min(2, seen.length - 1))] as Value) : null, to: fresh };
    if (op.f === 'write') seen.push(op.value);
    if (op.f === 'cas') seen.push(op.to);
    written.set(key, seen);
    c.seq++;
    c.current = { command: { clientId: c.id, seq: c.seq, op }, invokedAt: now, attempt: 0 };
    history.push({ process: c.index, type: 'invoke', f: op.f, key, value: op.f === 'read' ? null : op.f === 'write' ? op.value : [op.from, op.to], time: now });
    sendRequest(c);
  };
  const complete = (c: Client, result: KvResult) => {
    const cur = c.current as NonNullable<Client['current']>;
    const op = cur.command.op;
    const value: Value = result.f === 'read' ? result.value : op.f === 'write' ? op.value : op.f === 'cas' ? [op.from, op.to] : null;
    const type = result.f === 'cas' && !result.ok ? 'fail' : 'ok';
    history.push({ process: c.index, type, f: op.f, key: op.key, value, time: now });
    latencies.push(now - cur.invokedAt);
    c.current = null;
    push({ at: now + rng.int(0, 5), kind: 'invoke', client: c.index });
  };

  // --- the run ------------------------------------------------------------
  for (const slot of slots.values()) input(slot, { type: 'start' });
  for (const c of clients) push({ at: rng.int(0, 20), kind: 'invoke', client: c.index });
  const maxSteps = opts.maxSteps ?? opts.ops * 400;
  while (step < maxSteps) {
    if (rng.chance(f.crash)) crash(rng.pick(allActors(members)));
    if (lead.current && opts.crashLeader && rng.chance(opts.crashLeader)) crash(lead.current.id);
    if (side === null && rng.chance(f.partition)) {
      const all = allActors(members);
      side = new Set(all.filter(() => rng.chance(0.5)));
      push({ at: now + rng.int(f.partitionMin, f.partitionMax), kind: 'heal' });
    }
    const ev = queue.pop();
    if (!ev) break;
    if (ev.at > now) now = ev.at;
    switch (ev.kind) {
      case 'msg': {
        const to = slots.get(ev.to) as Slot;
        if (to.state && linkUp(ev.from, ev.to)) input(to, { type: 'receive', msg: ev.msg });
        break;
      }
      case 'write': {
        const slot = slots.get(ev.actor) as Slot;
        if (slot.incarnation !== ev.incarnation) break; // lost with the crash
        step++;
        stats.writes++;
        slot.durable.push(...ev.records);
        if (slot.role === 'acceptor') checker.acceptorDurable(slot.id, ev.records, step);
        for (const e of ev.then) apply(slot, e);
        break;
      }
      case 'timer': {
        const slot = slots.get(ev.actor) as Slot;
        if (slot.incarnation !== ev.incarnation || slot.timers.get(ev.timer) !== ev.token) break;
        slot.timers.delete(ev.timer);
        input(slot, { type: 'timeout', timer: ev.timer });
        break;
      }
      case 'request': {
        const slot = slots.get(ev.to) as Slot;
        if (slot.state) input(slot, { type: 'request', commands: [ev.command] });
        break;
      }
      case 'reply': {
        const c = clients[ev.client] as Client;
        if (c.current?.command.seq === ev.cseq) complete(c, ev.result);
        break;
      }
      case 'redirect': {
        const c = clients[ev.client] as Client;
        if (c.current?.command.seq !== ev.cseq) break;
        c.target = ev.leader ?? rng.pick(members.proposers);
        sendRequest(c);
        break;
      }
      case 'clientTimeout': {
        const c = clients[ev.client] as Client;
        if (c.current?.command.seq !== ev.cseq || c.current.attempt !== ev.attempt) break;
        c.target = rng.pick(members.proposers);
        sendRequest(c);
        break;
      }
      case 'invoke':
        invoke(clients[ev.client] as Client);
        break;
      case 'restart': {
        const slot = slots.get(ev.actor) as Slot;
        if (!slot.state) restart(slot);
        break;
      }
      case 'heal':
        side = null;
        break;
    }
    if (clients.every((c) => c.remaining === 0 && c.current === null)) break;
  }
  let unknown = 0;
  for (const c of clients) {
    if (!c.current) continue;
    const op = c.current.command.op;
    history.push({ process: c.index, type: 'info', f: op.f, key: op.key, value: op.f === 'read' ? null : op.f === 'write' ? op.value : [op.from, op.to], time: now });
    unknown++;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number));
  return {
    seed: opts.seed,
    steps: step,
    time: now,
    history,
    completed: latencies.length,
    unknown,
    violations: checker.finish(step),
    stats: {
      opsPerSec: now > 0 ? Math.round((latencies.length * 1000) / now) : 0,
      latencyP50Ms: pct(0.5),
      latencyP99Ms: pct(0.99),
      leaderChanges: stats.leaderChanges,
      slotsChosen: checker.chosenSlots,
      sent: stats.sent,
      dropped: stats.dropped,
      crashes: stats.crashes,
      writes: stats.writes,
    },
  };
}
