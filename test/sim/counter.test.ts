// A second state machine on the replicated log: the counter of
// src/machines/counter, run through the simulated world with the seeded
// faults (drops, duplicates, delays, crashes, partitions). Clients retry an
// unanswered add under the same (clientId, seq), so the log's sessions must
// apply each add exactly once: the final total, read through the log, is the
// sum of the acknowledged adds. The control retries under a fresh sequence
// number, which the log cannot tell from a new add, and the check fails.
//
// With fewer sessions than clients (maxSessions), learners evict sessions;
// a command of an evicted client is answered `expired` and never applied,
// so the total stays between the acknowledged adds and those plus the adds
// whose outcome is unknown. The control re-applies such commands.
import { describe, expect, it } from 'vitest';
import { membership, type ActorId } from '../../src/core/ids.js';
import { mpConfig, type MpBugs } from '../../src/core/multipaxos/types.js';
import { initMpLearner, stepMpLearner } from '../../src/core/multipaxos/learner.js';
import { counterMachine, type CounterCommand, type CounterOp } from '../../src/machines/counter/index.js';
import { DEFAULT_FAULTS, SeededDriver } from '../../src/sim/driver.js';
import { MpWorld } from '../../src/sim/multipaxos-world.js';

type Ev =
  | { kind: 'request'; to: ActorId; command: CounterCommand }
  | { kind: 'reply'; clientId: string; seq: number; total: number }
  | { kind: 'expired'; clientId: string; seq: number }
  | { kind: 'redirect'; clientId: string; seq: number; leader: ActorId | null }
  | { kind: 'invoke'; client: number }
  | { kind: 'timeout'; clientId: string; seq: number; attempt: number };

interface Client {
  id: string;
  /** How many times the client lost its session and went on under a fresh id. */
  renewals: number;
  remaining: number;
  seq: number;
  target: ActorId;
  current: { command: CounterCommand; attempt: number } | null;
}

interface CounterRun {
  /** The `n` of every add a client saw answered. */
  readonly acked: number[];
  /** The `n` of every add answered `expired`: applied once or not at all. */
  readonly unknown: number[];
  /** The total a `get` through the log read once every client was done, or null if it got no answer. */
  readonly total: number | null;
  readonly violations: number;
}

/**
 * Why the run's counter is wrong, or null. Every add was retried until
 * answered, and adds are positive, so the total read through the log must be
 * at least the sum of the acknowledged adds and at most that plus the adds
 * answered `expired` (each applied once or not at all): exactly the sum when
 * none expired.
 */
function counterProblem(run: CounterRun): string | null {
  if (run.total === null) return 'the final get got no answer';
  const sum = run.acked.reduce((a, b) => a + b, 0);
  const most = sum + run.unknown.reduce((a, b) => a + b, 0);
  if (run.total >= sum && run.total <= most) return null;
  return run.unknown.length === 0 ? `the total is ${run.total}, the acknowledged adds sum to ${sum}` : `the total is ${run.total}, outside [${sum}, ${most}] (acknowledged adds, plus those expired)`;
}

interface RunOptions {
  /** Control bug of the client: a retry goes under a fresh sequence number. */
  readonly freshRetry?: boolean;
  readonly maxSessions?: number;
  readonly bugs?: Partial<MpBugs>;
  readonly clients?: number;
  readonly adds?: number;
}

/** One seeded run: `clients` clients make `adds` adds each, then one `get` reads the total. */
function runCounter(seed: number, o: RunOptions = {}): CounterRun {
  const { freshRetry = false, clients = 3, adds = 20 } = o;
  const members = membership(3, 3, 2);
  const driver = new SeededDriver<Ev>({ seed, faults: { ...DEFAULT_FAULTS, crash: 0.001, partition: 0.0005 } });
  const rng = driver.rng;
  const config = mpConfig(members, { compactEvery: 8, ...(o.maxSessions ? { maxSessions: o.maxSessions } : {}), ...(o.bugs ? { bugs: o.bugs } : {}) });
  const world: MpWorld = new MpWorld(
    { random: () => rng.next(), sendDelays: (from, to, msg) => driver.sendDelays(world.step, from, to, msg.type), linkUp: driver.linkUp, writeDelay: () => driver.writeDelay() },
    config,
    undefined,
    undefined,
    { machine: counterMachine },
  );
  const viaClientLink = (from: ActorId, to: ActorId, type: 'request' | 'reply' | 'redirect', event: Ev) => {
    for (const d of driver.sendDelays(world.step, from, to, type, false)) driver.push(world.now + d, event);
  };
  world.onPending = (p) => driver.pending(p);
  world.onClient = (from, e) => {
    if (e.type === 'applied') viaClientLink(from, e.command.clientId, 'reply', { kind: 'reply', clientId: e.command.clientId, seq: e.command.seq, total: e.result as number });
    else if (e.type === 'expired') viaClientLink(from, e.command.clientId, 'reply', { kind: 'expired', clientId: e.command.clientId, seq: e.command.seq });
    else for (const c of e.commands) viaClientLink(from, c.clientId, 'redirect', { kind: 'redirect', clientId: c.clientId, seq: c.seq, leader: e.leader });
  };
  const all: Client[] = Array.from({ length: clients + 1 }, (_, i) => ({ id: `c${i}`, renewals: 0, remaining: i < clients ? adds : 0, seq: 0, target: rng.pick(members.proposers), current: null }));
  const byId = new Map(all.map((c) => [c.id, c]));
  const reader = all[clients] as Client;
  const acked: number[] = [];
  const unknown: number[] = [];
  let total: number | null = null;

  const send = (c: Client) => {
    const cur = c.current as NonNullable<Client['current']>;
    cur.attempt++;
    viaClientLink(c.id, c.target, 'request', { kind: 'request', to: c.target, command: cur.command });
    driver.push(world.now + 200, { kind: 'timeout', clientId: c.id, seq: cur.command.seq, attempt: cur.attempt });
  };
  const start = (c: Client, op: CounterOp) => {
    c.seq++;
    c.current = { command: { clientId: c.id, seq: c.seq, op }, attempt: 0 };
    send(c);
  };
  const event = (ev: Ev) => {
    switch (ev.kind) {
      case 'request':
        world.request(ev.to, [ev.command]);
        return;
      case 'invoke': {
        const c = all[ev.client] as Client;
        if (c.remaining === 0) return;
        c.remaining--;
        start(c, { f: 'add', n: rng.int(1, 9) });
        return;
      }
      case 'reply': {
        const c = byId.get(ev.clientId) as Client;
        const op = c.current?.command.op;
        if (c.current?.command.clientId !== ev.clientId || c.current.command.seq !== ev.seq || op === undefined) return;
        c.current = null;
        if (op.f === 'add') {
          acked.push(op.n);
          driver.push(world.now + rng.int(0, 5), { kind: 'invoke', client: all.indexOf(c) });
        } else total = ev.total;
        return;
      }
      case 'expired': {
        // The session is gone: the add's outcome is unknown, and the client goes on under a fresh id.
        const c = byId.get(ev.clientId) as Client;
        const op = c.current?.command.op;
        if (c.current?.command.clientId !== ev.clientId || c.current.command.seq !== ev.seq || op === undefined) return;
        c.current = null;
        c.renewals++;
        c.id = `c${all.indexOf(c)}.${c.renewals}`;
        c.seq = 0;
        byId.set(c.id, c);
        if (op.f === 'add') {
          unknown.push(op.n);
          driver.push(world.now + rng.int(0, 5), { kind: 'invoke', client: all.indexOf(c) });
        } else start(c, op);
        return;
      }
      case 'redirect': {
        const c = byId.get(ev.clientId) as Client;
        if (c.current?.command.clientId !== ev.clientId || c.current.command.seq !== ev.seq) return;
        c.target = ev.leader ?? rng.pick(members.proposers);
        send(c);
        return;
      }
      case 'timeout': {
        const c = byId.get(ev.clientId) as Client;
        if (c.current?.command.clientId !== ev.clientId || c.current.command.seq !== ev.seq || c.current.attempt !== ev.attempt) return;
        c.target = rng.pick(members.proposers);
        // The control: a retry under a new sequence number is a new command to the log.
        if (freshRetry) start(c, c.current.command.op);
        else send(c);
        return;
      }
    }
  };
  world.start();
  for (let i = 0; i < clients; i++) driver.push(rng.int(0, 20), { kind: 'invoke', client: i });
  const busy = () => all.some((c) => c.remaining > 0 || c.current !== null);
  driver.run(world, 200_000, { event, leader: () => world.leader?.id ?? null, done: () => !busy() });
  // Faults off; then the total, read through the log.
  driver.calm(world, {});
  start(reader, { f: 'get' });
  driver.run(world, world.step + 200_000, { event, done: () => reader.current === null });
  return { acked, unknown, total, violations: world.checker.finish(world.step).length };
}

describe('a second state machine: the counter on the replicated log', () => {
  it('applies every add exactly once under faults: the total is the sum of the acknowledged adds', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const run = runCounter(seed);
      expect(run.acked.length, `seed ${seed}`).toBe(60);
      expect(run.unknown, `seed ${seed}`).toEqual([]);
      expect(run.violations, `seed ${seed}`).toBe(0);
      expect(counterProblem(run), `seed ${seed}`).toBeNull();
    }
  });

  it('control: retrying under a fresh sequence number double-counts, and the check says so', () => {
    const problems = Array.from({ length: 12 }, (_, i) => counterProblem(runCounter(i + 1, { freshRetry: true })));
    expect(problems.filter((p) => p !== null).length).toBeGreaterThan(0);
    for (const p of problems) if (p !== null) expect(p).toMatch(/^the total is \d+, (the acknowledged adds sum to|outside)/);
  });

  it('with fewer sessions than clients, evicted clients are answered expired and never applied twice', () => {
    let expired = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const run = runCounter(seed, { clients: 4, adds: 15, maxSessions: 2 });
      expired += run.unknown.length;
      expect(run.acked.length + run.unknown.length, `seed ${seed}`).toBe(60);
      expect(run.violations, `seed ${seed}`).toBe(0);
      expect(counterProblem(run), `seed ${seed}`).toBeNull();
    }
    expect(expired).toBeGreaterThan(0);
  });

  it('control: a learner that applies an evicted client\'s command as new applies some twice, and the check says so', () => {
    const problems = Array.from({ length: 12 }, (_, i) => counterProblem(runCounter(i + 1, { clients: 4, adds: 15, maxSessions: 2, bugs: { reapplyEvicted: true } })));
    expect(problems.filter((p) => p !== null).length).toBeGreaterThan(0);
  });

  it('the log describes counter commands, answers and snapshots with the machine\'s words', () => {
    const world = new MpWorld({ random: () => 0.5, sendDelays: () => [0], linkUp: () => true, writeDelay: () => 0 }, mpConfig(membership(1, 1, 1)), undefined, undefined, { machine: counterMachine });
    expect(world.describer.command({ clientId: 'c1', seq: 2, op: { f: 'add', n: 5 } })).toBe('c1#2 add 5');
    expect(world.describer.effect({ type: 'applied', slot: 0, command: { clientId: 'c1', seq: 3, op: { f: 'get' } }, result: 5 })).toBe('answer c1#3 get: total=5');
    expect(world.describer.record({ kind: 'snapshot', upTo: 4, data: 5, sessions: [] })).toBe('snapshot up to 4 (1 counter, 0 sessions)');
    // Peer input is checked with the machine's words too: an accept is refused on the wire; a commit's text is checked by the learner that takes the slot.
    const bad = JSON.stringify([{ clientId: 'c1', seq: 1, op: { f: 'add', n: 1.5 } }]);
    expect(world.inject('a1', { type: 'accept', from: 'p1', ballot: { round: 1, proposer: 'p1' }, entries: [{ slot: 0, value: bad }] })).toBeNull();
    const learner = initMpLearner('l1', mpConfig(membership(1, 1, 1)), counterMachine);
    const step = stepMpLearner(learner, { type: 'receive', msg: { type: 'commit', from: 'p1', entries: [{ slot: 0, value: bad }] } });
    expect(step.effects.filter((e) => e.type === 'ignore').map((e) => (e as { reason: string }).reason)).toEqual([`commit from p1: slot 0: command c1#1 has ${counterMachine.opProblem({ f: 'add', n: 1.5 })}`]);
    expect(step.state.role === 'learner' && step.state.nextSlot).toBe(0);
  });
});
