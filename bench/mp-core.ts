/**
 * The Multi-Paxos core alone, with no threads, no storage and no copying:
 * every effect is carried out in place, in one loop. This is the ceiling any
 * host of the core can reach on this machine — commands/s through a leader,
 * 3 acceptors and 2 learners — for a few batch and window sizes.
 *
 * Then the same cluster through the turn host, still in one thread: every
 * message in its wire form, each post copied with structuredClone as
 * postMessage would, validated and queued by the receiving host, invariants
 * checked after every step, appends durable at once. What it loses against
 * the core alone is what hosting costs before any thread, port or disk.
 *
 *   node dist/bench/mp-core.js [--commands N] [--repeats R]
 */
import { parseArgs } from 'node:util';
import { allActors, membership, roleOf, type ActorId, type Role } from '../src/core/ids.js';
import { initMpActor, stepMpActor, type MpActorState } from '../src/core/multipaxos/actor.js';
import { mpConfig, type Command, type MpEffect, type MpInput } from '../src/core/multipaxos/types.js';
import { kvMachine } from '../src/machines/kv/machine.js';
import { multiPaxosProtocol, type MultiPaxosTypes } from '../src/host/multipaxos.js';
import { TurnHost, type HostIO } from '../src/host/turn.js';

const { values } = parseArgs({ options: { commands: { type: 'string', default: '200000' }, repeats: { type: 'string', default: '5' } } });
const total = Number(values.commands);
const repeats = Number(values.repeats);
if (!(total >= 1 && repeats >= 1)) {
  process.stderr.write('usage: mp-core [--commands N>=1] [--repeats R>=1]\n');
  process.exit(2);
}

/** Runs `total` writes through an in-memory cluster; returns commands/s. */
function run(batchMax: number, window: number, offered: number): number {
  const members = membership(1, 3, 2);
  const config = mpConfig(members, { batchMax, window, compactEvery: 0 });
  const actors = new Map<string, MpActorState>();
  for (const id of [...members.proposers, ...members.acceptors, ...members.learners]) {
    const role = id[0] === 'p' ? 'proposer' : id[0] === 'a' ? 'acceptor' : 'learner';
    actors.set(id, initMpActor(role, id, config, kvMachine));
  }
  const queue: Array<[string, MpInput]> = [];
  let answered = 0;
  const apply = (e: MpEffect) => {
    if (e.type === 'send') queue.push([e.to, { type: 'receive', msg: e.msg }]);
    else if (e.type === 'persist') e.then.forEach(apply);
    else if (e.type === 'applied') answered++;
  };
  const step = (id: string, input: MpInput) => {
    for (const e of stepMpActor(actors.get(id) as MpActorState, input, 0.5).effects) apply(e);
  };
  step('p1', { type: 'timeout', timer: 'election' });
  while (queue.length > 0) step(...(queue.shift() as [string, MpInput]));
  let sent = 0;
  const t0 = performance.now();
  while (answered < total * 2) {
    // Offer `offered` commands per round of deliveries, as a host draining its mailbox per turn would.
    if (sent < total) {
      const commands = offer(sent, Math.min(offered, total - sent));
      sent += commands.length;
      step('p1', { type: 'request', commands });
    }
    const n = queue.length;
    for (let i = 0; i < n; i++) step(...(queue.shift() as [string, MpInput]));
  }
  return (total * 1000) / (performance.now() - t0);
}

/** The writes the leader is offered in one turn, from `sent` on. */
function offer(sent: number, n: number): Command[] {
  const commands: Command[] = [];
  for (let i = sent; i < sent + n; i++) commands.push({ clientId: `c${i % 1024}`, seq: Math.floor(i / 1024) + 1, op: { f: 'write', key: `k${i % 100}`, value: i } });
  return commands;
}

/** As `run`, through one turn host per actor (see the module comment); returns commands/s. */
function runHosted(batchMax: number, window: number, offered: number): number {
  const protocol = multiPaxosProtocol(kvMachine);
  const members = membership(1, 3, 2);
  const config = mpConfig(members, { batchMax, window, compactEvery: 0 });
  const hosts = new Map<ActorId, TurnHost<MultiPaxosTypes>>();
  /** Posts in flight: sender, receiver and the copy the receiver gets. */
  let posts: Array<readonly [ActorId, ActorId, unknown]> = [];
  let answered = 0;
  let election = -1;
  for (const id of allActors(members)) {
    let staged: Array<readonly [ActorId, unknown]> = [];
    const io: HostIO<MultiPaxosTypes> = {
      random: () => 0.5,
      // Durable at once: the replies riding on it go out with the turn.
      append: (_records, done) => done(),
      send: (to, msgs) => void staged.push([to, msgs.length === 1 ? protocol.toWire(msgs[0] as MultiPaxosTypes['message']) : msgs.map((m) => protocol.toWire(m))]),
      output: (e) => void (e.type === 'applied' && answered++),
      durable: () => {},
      // No timer fires: the leader's election is started by hand, and the run is too short for any other.
      arm: (name, _delay, gen) => void (id === 'p1' && name === 'election' && (election = gen)),
      disarm: () => {},
      wake: () => {},
      endTurn() {
        for (const [to, wire] of staged) posts.push([id, to, structuredClone(wire)]);
        staged = [];
      },
      crash: (_point, cause) => {
        throw cause;
      },
      failed: (err) => {
        throw err;
      },
    };
    hosts.set(id, new TurnHost(protocol, id, roleOf(members, id) as Role, config, [], io, { mailboxLimit: 1 << 20, lazyMs: 0, maxValueBytes: 1 << 20 }));
  }
  const host = (id: ActorId) => hosts.get(id) as TurnHost<MultiPaxosTypes>;
  /** Delivers every post in flight, then runs a turn of every host with input. */
  const round = () => {
    const delivering = posts;
    posts = [];
    for (const [from, to, data] of delivering) {
      for (const raw of Array.isArray(data) ? data : [data]) {
        const refused = host(to).receiveRaw(from, raw);
        if (refused !== null) throw new Error(`${to} refused a message from ${from}: ${refused}`);
      }
    }
    for (const h of hosts.values()) if (h.hasInput) h.turn();
  };
  for (const h of hosts.values()) h.start();
  host('p1').fire('election', election);
  host('p1').turn();
  while (posts.length > 0) round();
  let sent = 0;
  const t0 = performance.now();
  while (answered < total * 2) {
    if (sent < total) {
      const n = Math.min(offered, total - sent);
      for (const c of offer(sent, n)) host('p1').request(c);
      sent += n;
    }
    if (posts.length === 0 && !host('p1').hasInput) throw new Error(`stalled at ${answered} answers of ${total * 2}`);
    round();
  }
  return (total * 1000) / (performance.now() - t0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (const [title, f] of [['the core alone', run], ['through the turn host', runHosted]] as const) {
  process.stdout.write(`${title}:\n`);
  f(64, 32, 256); // warm-up
  for (const [batch, window, offered] of [[1, 1, 1], [64, 32, 256], [256, 64, 1024], [1024, 64, 4096]] as const) {
    const rates = Array.from({ length: repeats }, () => f(batch, window, offered));
    process.stdout.write(`  batch ${String(batch).padStart(4)} window ${String(window).padStart(3)} offered/turn ${String(offered).padStart(4)}: ${Math.round(median(rates)).toLocaleString('en')} commands/s (min ${Math.round(Math.min(...rates)).toLocaleString('en')}, max ${Math.round(Math.max(...rates)).toLocaleString('en')})\n`);
  }
}
