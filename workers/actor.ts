/**
 * The worker entry point for every actor of every protocol: thin glue from a
 * thread to the turn host (src/host/turn.ts), which holds the turn
 * discipline the simulator runs too. This file only connects it to the
 * world of threads:
 *   - the parent port (start data, client requests, 'halt') and the comlink
 *     control channel (state, crash, crash points, pause, link faults);
 *   - the links to peers (direct MessagePorts, a hub or a ring, see
 *     src/runtime/transports), whose raw messages the host validates;
 *   - the actor's storage (LMDB or memory), and real timers;
 *   - the per-link fault rules (partitions, drop, duplicate, delay), applied
 *     here before posting, so faults cost nothing on the main thread;
 *   - the failure detector (src/host/failure-detector.ts): what arrives on a
 *     link marks its peer heard, what is posted marks it sent, and a tick
 *     pings the idle links and reports changes to the main thread;
 *   - what the main thread hears (src/runtime/worker-side.ts says how, per
 *     protocol), posted at the end of each turn before the peer posts, so the
 *     main thread hears of durable records before anyone hears the replies
 *     that rode on them.
 *
 * Crashes are real: a broken invariant or any other throw while stepping is
 * left uncaught and kills the thread; the supervisor restarts it and the core
 * is rebuilt from its storage.
 *
 * Start-up: the worker first listens on its parentPort (which answers
 * 'halt', see Supervisor.kill), then loads its protocol's worker side and
 * the storage modules its cluster's actors need, and only those (its
 * workerData, a WorkerBoot, says which: a key-value worker loads nothing of
 * single-decree Paxos, and the other way round), starts
 * lmdb's warm-up, once idle runs one full garbage collection and rehearses
 * its protocol (so that the turn code is compiled before the first
 * requests), and waits for the 'init' message that makes it a given actor.
 * The supervisor keeps such a worker warm as a spare, so a restart does not
 * pay for booting a thread and loading lmdb. A worker an actor takes as it
 * boots (no spare was ready; its WorkerBoot says `takenAtBoot`) skips all
 * that: it loads what its actor needs as it starts, and collects and
 * rehearses once the actor serves. Inputs arriving before the store is
 * loaded wait.
 *
 * Shutdown: 'halt' parks the thread and says whether a write of the actor
 * was still in flight; if none was, the supervisor starts the actor's
 * successor without waiting for this thread to exit (Supervisor.halt).
 */
import { parentPort, threadId, workerData, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import type { ActorId } from '../src/core/ids.js';
import { FailureDetector, PING } from '../src/host/failure-detector.js';
import type { ProtocolTypes } from '../src/host/protocol.js';
import { stopRehearsals } from '../src/host/rehearse.js';
import { TurnHost, type HostCrashPoint, type HostIO } from '../src/host/turn.js';
import { linkDelays, type OutgoingLinks } from '../src/runtime/links.js';
import type { PeerWatch } from '../src/runtime/supervisor.js';
import type { MpGroup, MpWorkerInit } from '../src/runtime/mpwire.js';
import { openEndpoint, type TransportEnd, type TransportEndpoint } from '../src/runtime/transports/index.js';
import { DESCRIBE_MAX_CHARS, toErrorData, type ActorCounters, type CrashHow, type WorkerBoot, type WorkerInit } from '../src/runtime/wire.js';
import { TraceBuffer, collectGarbage, envelope, injectCrash, osThreadId, unwrap } from '../src/runtime/worker-glue.js';
import type { Stamper } from '../src/runtime/stamps.js';
import { loadMultiPaxosSide, loadSideModules, loadSynodSide, preloadStorage, rehearseProtocol, type WorkerSide } from '../src/runtime/worker-side.js';

// The UMD adapter sets module.exports to the function, but its typings
// declare an ES default export, which NodeNext then types as a namespace.
const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default;

/** The start data as the worker receives it: either protocol's, with its link ends and control port. */
interface Wiring {
  readonly ends: Readonly<Record<ActorId, TransportEnd>>;
  readonly control: MessagePort;
  readonly watch: PeerWatch;
}
type Start = (WorkerInit | MpWorkerInit) & Wiring;

if (parentPort === null) throw new Error('workers/actor.js runs inside a worker thread; start actors with createCluster() or createKvCluster()');
const main = parentPort;
const boot = workerData as WorkerBoot | undefined;
/** This thread's id in the operating system, reported in the actor's state (null where the system does not say); read at the first report, off the start-up path. */
let osThread: number | null | undefined;

const peers = new Map<ActorId, TransportEndpoint<unknown>>();
/** Messages that links since replaced could not decode (see `TransportEndpoint.undecodable`). */
let undecodableOnClosedLinks = 0;
const counters = {
  received: 0,
  /** Copies put on links (or held back by a delay fault to be put there): duplicates count, messages lost on a link do not. */
  sent: 0,
  commands: 0,
  duplicated: 0,
  delayed: 0,
  dropped: { malformed: 0, unknownSender: 0, oversized: 0, link: 0, unroutable: 0 },
};
/** Everything that arrived before the actor was ready, in order; replayed once it is. */
let early: Array<() => void> | null = [];
let init: Start;
let traces: TraceBuffer;
/** Fault rules of the outgoing links. */
let links: OutgoingLinks = {};
/** The failure detector watching the peers (src/host/failure-detector.ts), once the actor is up; null if it does not watch. */
let watch: FailureDetector | null = null;
/** The peer posts of the current turn, sent after the turn's report. */
let staged: Array<[ActorId, unknown[]]> = [];
/** Stage stamps, only with `stamps: true` (src/runtime/stamps.ts): null otherwise, and every hook below is `stamps?.`. */
let stamps: Stamper | null = null;
/** The actor's start, from 'init' until it has posted 'ready'; null before and after. */
let starting: Promise<void> | null = null;
/** Pauses the turn host and closes the actor's store, for a stop for good (see 'halt'); null until the store is open. */
let closeForGood: (() => Promise<void>) | null = null;
/** Storage writes issued and not yet settled (see 'halt'). */
let writing = 0;
let driver: { readonly deliver: (via: ActorId, data: unknown) => void; readonly post: (m: { readonly type: string }) => void; readonly control: object } | null = null;

/** Ends this worker on purpose, telling the supervisor why first (messages posted before exit are delivered before the exit event). */
function die(how: CrashHow, cause: unknown): never {
  if (init?.trace && traces !== undefined && traces.length > 0) main.postMessage(init.protocol === 'synod' ? { type: 'trace', events: traces.take() } : { type: 'turn', trace: traces.take() });
  main.postMessage({ type: 'dying', how, cause: toErrorData(cause) });
  process.exit(1);
}

function connect(peer: ActorId, end: TransportEnd): void {
  const old = peers.get(peer);
  if (old !== undefined) {
    // What the old link could not decode stays counted.
    undecodableOnClosedLinks += old.undecodable;
    old.close();
  }
  const endpoint = openEndpoint<unknown>(end);
  peers.set(peer, endpoint);
  endpoint.onMessage((data) => {
    watch?.heard(peer);
    if (driver !== null) driver.deliver(peer, data);
    else early?.push(() => driver?.deliver(peer, data));
  });
}

/** Puts `wires` on the link to `to` in one post; a link that closed (the peer died) loses them, as a network would. A liveness ping does not count as traffic that spares the link a ping. */
function postTo(to: ActorId, wires: unknown[], ping = false): void {
  const endpoint = peers.get(to);
  // Protocol messages lost this way are counted; pings are not protocol messages.
  const lost = ping ? 0 : wires.length;
  if (endpoint === undefined || endpoint.closed) return void (counters.dropped.unroutable += lost);
  try {
    if (wires.length === 1) endpoint.send(wires[0]);
    else endpoint.sendBatch(wires);
    if (!ping) watch?.sent(to);
  } catch (err) {
    // Anything but a closed link is a bug: crash with it.
    if ((err as { code?: string }).code !== 'SYNOD_TRANSPORT_CLOSED') throw err;
    counters.dropped.unroutable += lost;
  }
}

/** Becomes the actor `init` describes, of the protocol `side` describes. */
async function become<T extends ProtocolTypes, I extends WorkerInit | MpWorkerInit>(side: WorkerSide<T, I>, given: I & Wiring): Promise<void> {
  const protocol = side.protocol;
  const storage = await side.openStorage(given);
  // Until the host exists nothing steps; it is paused once it does (below).
  closeForGood = () => storage.close();
  const records = await storage.load();
  const reporter = side.reporter(given, records);
  const timers = new Map<string, NodeJS.Timeout>();
  let drainScheduled = false;
  const tracing = given.trace;
  // Loaded only when asked for: most actors never stamp.
  stamps = 'stamps' in given && given.stamps === true ? new (await import('../src/runtime/stamps.js')).Stamper(given.id) : null;
  const describeSend = (to: ActorId, msg: T['message']): string => protocol.describe.message(msg, to);

  const io: HostIO<T> = {
    random: Math.random,
    append(recs, done, failed) {
      const written = stamps === null ? done : stamps.append(recs, done);
      writing++;
      storage.append(recs).then(
        () => {
          writing--;
          written();
        },
        (err: unknown) => {
          writing--;
          failed(err);
        },
      );
    },
    send(to, msgs) {
      stamps?.outbound(to, msgs);
      // The common case, no fault rule on the link and no tracing: straight to the turn's posts.
      if (links[to] === undefined && !tracing) {
        staged.push([to, msgs.map((m) => protocol.toWire(m))]);
        counters.sent += msgs.length;
        return;
      }
      const zero: unknown[] = [];
      for (const msg of msgs) {
        const delays = linkDelays(links[to], Math.random);
        if (delays.length === 0) {
          counters.dropped.link++;
          if (tracing) traces.record({ kind: 'drop', to, msg: traces.nextMessageId(), text: `lost on the link: ${describeSend(to, msg)}` });
          continue;
        }
        if (delays.length > 1) counters.duplicated++;
        for (const delay of delays) {
          counters.sent++;
          let wire = protocol.toWire(msg);
          if (tracing) {
            const id = traces.nextMessageId();
            traces.record({ kind: 'send', to, msg: id, text: describeSend(to, msg) });
            wire = envelope(id, wire);
          }
          if (delay === 0) zero.push(wire);
          else {
            counters.delayed++;
            // Sent on whatever link to `to` exists then: the peer may have restarted meanwhile.
            setTimeout(() => postTo(to, [wire]), delay);
          }
        }
      }
      if (zero.length > 0) staged.push([to, zero]);
    },
    output: (e) => {
      stamps?.output(e);
      reporter.output(e);
    },
    durable: (recs) => reporter.durable(recs),
    arm(name, delay, gen) {
      clearTimeout(timers.get(name));
      timers.set(name, setTimeout(() => host.fire(name, gen), delay));
    },
    disarm(name) {
      clearTimeout(timers.get(name));
      timers.delete(name);
    },
    wake() {
      if (drainScheduled) return;
      drainScheduled = true;
      setImmediate(() => {
        drainScheduled = false;
        host.turn();
      });
    },
    endTurn() {
      stamps?.endTurn();
      reporter.flush((m) => main.postMessage(m), tracing && traces.length > 0 ? traces.take() : null);
      const out = staged;
      staged = [];
      for (const [to, wires] of out) postTo(to, wires);
    },
    crash: (point: HostCrashPoint, cause) => die(point, cause),
    failed: (err) => die('exception', err),
    ...(tracing ? { trace: (e) => traces.record(e) } : {}),
  };
  const host: TurnHost<T> = new TurnHost(protocol, given.id, given.role, given.config as T['config'], records, io, {
    mailboxLimit: given.mailboxLimit,
    lazyMs: protocol.lazyMs(given.config as T['config']),
    // The largest value a peer message may carry: a single-decree value, or a Multi-Paxos batch.
    maxValueBytes: 'maxValueBytes' in given ? given.maxValueBytes : given.maxBatchBytes,
    ...('spares' in given && given.spares !== undefined ? { spares: given.spares } : {}),
  });
  closeForGood = () => {
    host.pause();
    return storage.close();
  };

  const deliver = (via: ActorId, data: unknown): void => {
    // A liveness ping is for the failure detector, which heard it already (see connect); it is not a protocol message.
    if (data === PING) return;
    // A peer posts one message, or an array of the messages of one of its turns (never an empty one: that is malformed).
    if (Array.isArray(data) && data.length === 0) {
      counters.received++;
      counters.dropped.malformed++;
      return;
    }
    for (const raw of Array.isArray(data) ? data : [data]) {
      counters.received++;
      const { data: msg, msgId } = unwrap(raw, tracing);
      stamps?.inbound(via, msg);
      const refused = host.receiveRaw(via, msg, msgId);
      if (refused !== null && refused !== 'overflow') counters.dropped[refused]++;
    }
  };
  const report = (): object => {
    const text = protocol.describe.state(host.state);
    const c = host.counters;
    const all: ActorCounters = {
      received: counters.received,
      turns: c.turns,
      steps: c.steps,
      commands: counters.commands,
      ignored: c.ignored,
      sent: counters.sent,
      posts: c.posts,
      appends: c.appends,
      persisted: c.persisted,
      duplicated: counters.duplicated,
      delayed: counters.delayed,
      // A message a link could not decode is malformed input like any other: dropped and counted.
      dropped: { ...counters.dropped, malformed: counters.dropped.malformed + undecodableOnClosedLinks + [...peers.values()].reduce((n, ep) => n + ep.undecodable, 0), overflow: host.overflowed },
    };
    return {
      id: given.id,
      role: given.role,
      threadId,
      osThreadId: osThread === undefined ? (osThread = osThreadId()) : osThread,
      incarnation: given.incarnation,
      paused: host.isPaused,
      describe: text.length > DESCRIBE_MAX_CHARS ? `${text.slice(0, DESCRIBE_MAX_CHARS)}... (${text.length - DESCRIBE_MAX_CHARS} more characters)` : text,
      ...reporter.extra(host.state),
      mailbox: { length: host.mailboxLength, limit: given.mailboxLimit },
      counters: all,
    };
  };
  driver = {
    deliver,
    post(m) {
      const reqs = side.requests(m);
      if (reqs === null) return;
      counters.commands += reqs.length;
      stamps?.requests(reqs);
      for (const r of reqs) host.request(r);
    },
    control: {
      state: report,
      crash(how: 'exception' | 'exit') {
        return injectCrash(given.id, how, (cause) => die('exit', cause));
      },
      arm: (point: HostCrashPoint) => host.arm(point),
      pause: () => host.pause(),
      resume: () => host.resume(),
      setLinks(next: OutgoingLinks) {
        links = next;
      },
      inject: (raw: unknown, via: ActorId) => deliver(via, raw),
      takeStamps: () => stamps?.take() ?? [],
      regroup(group: MpGroup) {
        host.admit(group.spares);
        watch?.setPeers(group.watch);
      },
    },
  };
  Comlink.expose(driver.control, nodeEndpoint(given.control));
  main.postMessage({ type: 'ready', threadId, record: side.recovered(host.state, records) });
  // After 'ready', which it need not delay: nothing (a regroup call included) can come in between, this turn being synchronous.
  if (given.watch !== null) watchPeers(given.watch);
  // `start` arms the core's timers; it comes before anything that queued while the store loaded.
  host.start();
  const waiting = early ?? [];
  early = null;
  for (const replay of waiting) replay();
}

/**
 * Starts watching the peers: every tick, pings the peers sent nothing since
 * the last (a partition or a drop fault loses pings too; a delay fault is not
 * applied to them), and tells the main thread which peers went silent or
 * were heard again.
 */
function watchPeers(settings: NonNullable<PeerWatch>): void {
  const detector = new FailureDetector(settings.peers, settings, () => performance.timeOrigin + performance.now());
  watch = detector;
  setInterval(() => {
    const { ping, changes } = detector.tick();
    for (const to of ping) if (linkDelays(links[to], Math.random).length > 0) postTo(to, [PING], true);
    if (changes.length > 0) main.postMessage({ type: 'health', changes });
  }, settings.pingEveryMs);
}

async function start(given: Start): Promise<void> {
  init = given;
  traces = new TraceBuffer(given.id, given.incarnation);
  links = given.links;
  for (const [peer, end] of Object.entries(given.ends)) connect(peer, end);
  if ('failStartup' in given && given.failStartup) throw new Error(`test hook: ${given.id} fails during start-up (incarnation ${given.incarnation})`);
  if (given.protocol === 'synod') await become((await loadSynodSide()).synodWorkerSide, given);
  else await become((await loadMultiPaxosSide()).multiPaxosWorkerSide, given);
}

main.on('message', (m: { readonly type: string; readonly init?: Start; readonly peer?: ActorId; readonly end?: TransportEnd; readonly close?: boolean }) => {
  switch (m.type) {
    case 'init':
      // A spare's rehearsal is idle work: the actor taking it does not wait for it.
      stopRehearsals();
      starting = start(m.init as Start).then(
        () => {
          starting = null;
          if (boot?.takenAtBoot === true) collectWhenIdle();
        },
        (err: unknown) => die('exception', err),
      );
      return;
    case 'connect':
      return connect(m.peer as ActorId, m.end as TransportEnd);
    case 'halt': {
      // Runs only between event-loop callbacks, never inside a native call. The wait never ends: the supervisor terminates the thread.
      const park = () => {
        main.postMessage({ type: 'halted', quiet: quiet() });
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      };
      // Stopped for good: no turn runs from now on, and the store is closed (after its pending writes) before the thread
      // parks. A thread torn down with an LMDB environment open could hang in Node's teardown and keep the process alive.
      if (m.close === true && closeForGood !== null) void closeForGood().then(park, park);
      else park();
      return;
    }
    default:
      // Client requests are local and bounded by the client's concurrency: they bypass the mailbox bound.
      if (driver !== null) driver.post(m);
      else early?.push(() => driver?.post(m));
  }
});
/**
 * Whether nothing of this actor can reach its store once the thread parks:
 * no write in flight (lmdb-js would commit it on its own thread), no start
 * under way, and a store that writes only when asked (the lazy-flush
 * experiment writes later, on its own). A spare has no store. See
 * Supervisor.halt, which then starts the actor's successor at once.
 */
function quiet(): boolean {
  if (init === undefined) return true;
  const spec = init.storage;
  return starting === null && writing === 0 && !(spec.kind === 'lmdb' && spec.lazyFlushMs !== undefined);
}

/**
 * Runs the worker's one full collection (see collectGarbage), then its
 * rehearsal (see WorkerSide.rehearse), once it is idle: at once in a spare,
 * after 'ready' in a worker that is becoming an actor, so that neither is on
 * a restart's path nor, as far as can be helped, a fresh actor's first
 * requests. The rehearsal comes second: it allocates little, but run first
 * it sometimes filled the heap up to V8's own first full collection, which
 * was then followed by ours.
 */
function collectWhenIdle(): void {
  setImmediate(() => {
    if (starting !== null) return void starting.then(collectWhenIdle);
    collectGarbage();
    void rehearseProtocol(boot);
  });
}

// Loaded only now that 'halt' is answered: see the module comment. A spare worker does lmdb's per-thread set-up now, off the path of the restart that will take it.
// A worker taken as it boots loads only what its actor needs (its protocol's side and its store side by side, not one after the other), and is idle only once that actor serves.
if (boot?.takenAtBoot !== true) void preloadStorage(boot).then(collectWhenIdle);
else void loadSideModules(boot);
