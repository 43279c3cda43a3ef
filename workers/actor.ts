/**
 * Worker entry point: hosts one role core (proposer, acceptor or learner) in
 * its own thread. Thin glue only: peer messages arrive on links of the
 * cluster's transport (direct MessagePorts by default), are validated and queued in a bounded mailbox, and are
 * stepped one at a time through the same core the simulator runs; the
 * effects are carried out as src/sim/world.ts does, with real ports, real
 * timers and a real store.
 *
 * Turn discipline: every input that arrives in one event-loop turn is queued,
 * and the queue is stepped in a single setImmediate callback. The steps are
 * synchronous, so they never interleave, and the writes they issue land in
 * one lmdb transaction (one fsync). The replies riding on a write (a persist
 * effect's `then`) are carried out only once that write is durable, in the
 * order the writes were issued.
 *
 * Crashes are real: a broken invariant or any other throw while stepping is
 * left uncaught and kills the thread, and the supervisor restarts it.
 *
 * Start-up: the worker first listens on its parentPort (which answers
 * 'halt', see Supervisor.kill), then loads lmdb, then waits for the 'init'
 * message that makes it a given actor. The supervisor keeps one such worker
 * warm as a spare, so a restart does not pay for booting a thread and
 * loading lmdb. Messages arriving before the store is loaded wait in the
 * mailbox.
 */
import { parentPort, threadId } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import { checkInvariants, initActor, stepActor, type ActorState } from '../src/core/actor.js';
import { describeInput, describeMessage, describeRecord, describeState, describeValue } from '../src/core/describe.js';
import type { DurableRecord, Effect, Input, TimerName } from '../src/core/effects.js';
import { roleOf, type ActorId } from '../src/core/ids.js';
import { validateMessage, type Message } from '../src/core/messages.js';
import type { Value } from '../src/core/value.js';
import { linkDelays, type OutgoingLinks } from '../src/runtime/links.js';
import { Mailbox } from '../src/runtime/mailbox.js';
import { lazyStore } from '../src/runtime/storage/lazy.js';
import { openMemoryStore } from '../src/runtime/storage/memory.js';
import { openEndpoint, type TransportEnd, type TransportEndpoint } from '../src/runtime/transports/index.js';
import type { RawTraceEvent } from '../src/trace/types.js';
import type { ActorStore } from '../src/runtime/storage/types.js';
import { toErrorData, type ActorControl, type ActorCounters, type CrashHow, type CrashPoint, type FromWorker, type ToWorker, type WorkerInit } from '../src/runtime/wire.js';
import { TraceBuffer, envelope, injectCrash, unwrap } from '../src/runtime/worker-glue.js';

// The UMD adapter sets module.exports to the function, but its typings
// declare an ES default export, which NodeNext then types as a namespace.
const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default;

/** A queued input; a timer firing carries the generation of the timer it belongs to. */
interface Queued {
  readonly input: Input;
  readonly timerGen?: number;
}

if (parentPort === null) throw new Error('workers/actor.js runs inside a worker thread; start actors with createCluster()');
const main = parentPort;

const peers = new Map<ActorId, TransportEndpoint<unknown>>();
const timers = new Map<TimerName, { handle: NodeJS.Timeout; gen: number }>();
const counters: ActorCounters = {
  received: 0,
  steps: 0,
  ignored: 0,
  sent: 0,
  persisted: 0,
  duplicated: 0,
  delayed: 0,
  dropped: { malformed: 0, unknownSender: 0, oversized: 0, overflow: 0, link: 0, unroutable: 0 },
};
// Set from the 'init' message, which comes before any other but 'halt'.
let init: WorkerInit;
let mailbox: Mailbox<Queued>;
let links: OutgoingLinks;
// Set once the store is loaded and the core built; until then inputs wait in the mailbox.
let store: ActorStore;
let state: ActorState;
let durable: DurableRecord | null = null;
let ready = false;
let paused = false;
let drainScheduled = false;
let armed: CrashPoint | null = null;
let timerGen = 0;
/** Settles when every write issued so far is durable and its replies are out. */
let writes: Promise<unknown> = Promise.resolve();
/** Trace events not yet posted to the main thread (used only when tracing). */
let traces: TraceBuffer;

function post(msg: FromWorker): void {
  main.postMessage(msg);
}

/** Ends this worker on purpose, telling the supervisor why first (messages posted before exit are delivered before the exit event). */
function die(how: CrashHow, cause: unknown): never {
  if (init?.trace && traces !== undefined) flushTrace();
  post({ type: 'dying', how, cause: toErrorData(cause) });
  process.exit(1);
}

function connect(peer: ActorId, end: TransportEnd): void {
  peers.get(peer)?.close();
  const endpoint = openEndpoint<unknown>(end);
  peers.set(peer, endpoint);
  endpoint.onMessage((data) => onPeerMessage(peer, data));
}

/** Records a trace event (when tracing); `time` is epoch ms, so lanes of different threads line up. */
function trace(event: Omit<RawTraceEvent, 'actor' | 'time'>): void {
  traces.record(event);
}

/** Posts the trace events recorded so far; called before any peer send, so a send is always known before its receive. */
function flushTrace(): void {
  if (traces.length > 0) post({ type: 'trace', events: traces.take() });
}

/** Anything arriving on a link is untrusted: refuse what is malformed, spoofed or too big, without crashing. */
function onPeerMessage(via: ActorId, raw: unknown): void {
  counters.received++;
  const { data, msgId } = unwrap(raw, init.trace);
  const checked = validateMessage(data);
  if (!checked.ok) return void counters.dropped.malformed++;
  const msg = checked.msg;
  if (msg.from !== via || roleOf(init.config.members, via) === null) return void counters.dropped.unknownSender++;
  if (ignoreOversized(msg)) return void counters.dropped.oversized++;
  if (init.trace) {
    trace({ kind: 'receive', from: via, text: describeMessage(msg, init.id), ...(msgId === undefined ? {} : { msg: msgId }) });
  }
  enqueue({ input: { type: 'receive', msg } }, true);
}

function ignoreOversized(msg: Message): boolean {
  const value: Value | undefined = msg.type === 'promise' ? msg.accepted?.value : 'value' in msg ? msg.value : undefined;
  return value !== undefined && Buffer.byteLength(JSON.stringify(value)) > init.maxValueBytes;
}

function enqueue(item: Queued, bounded: boolean): void {
  if (mailbox.push(item, bounded)) scheduleDrain();
}

function scheduleDrain(): void {
  if (!ready || paused || drainScheduled) return;
  drainScheduled = true;
  setImmediate(drain);
}

/** Steps everything queued in this turn, one input at a time. */
function drain(): void {
  drainScheduled = false;
  if (paused) return;
  for (const { input, timerGen: gen } of mailbox.takeAll()) {
    if (input.type === 'timeout') {
      // A firing queued before its timer was re-armed or cancelled is stale.
      if (timers.get(input.timer)?.gen !== gen) continue;
      timers.delete(input.timer);
    } else if (armed === 'after-receive') {
      die('after-receive', new Error(`crash point after-receive: ${init.id} received an input and crashed before stepping it`));
    }
    step(input);
  }
  if (init.trace) flushTrace();
}

function step(input: Input): void {
  counters.steps++;
  if (init.trace && input.type !== 'receive') trace({ kind: input.type === 'timeout' ? 'timer' : 'propose', text: describeInput(input) });
  const result = stepActor(state, input, Math.random());
  checkInvariants(result.state);
  state = result.state;
  for (const e of result.effects) apply(e);
}

function apply(e: Effect): void {
  switch (e.type) {
    case 'send':
      return send(e.to, e.msg);
    case 'persist':
      return persist(e.record, e.then);
    case 'setTimer': {
      clearTimeout(timers.get(e.timer)?.handle);
      const gen = ++timerGen;
      const handle = setTimeout(() => enqueue({ input: { type: 'timeout', timer: e.timer }, timerGen: gen }, false), e.delay);
      timers.set(e.timer, { handle, gen });
      return;
    }
    case 'cancelTimer':
      clearTimeout(timers.get(e.timer)?.handle);
      timers.delete(e.timer);
      return;
    case 'decide':
    case 'chosen':
      if (init.trace && e.type === 'decide') {
        trace({ kind: 'decide', text: `decided ${describeValue(e.value)}`, value: describeValue(e.value) });
        flushTrace();
      }
      return post({ type: e.type, ballot: e.ballot, value: e.value });
    case 'ignore':
      counters.ignored++;
      return;
  }
}

function send(to: ActorId, msg: Message): void {
  if (!peers.has(to)) return void counters.dropped.unroutable++;
  const delays = linkDelays(links[to], Math.random);
  if (delays.length === 0) {
    counters.dropped.link++;
    if (init.trace) trace({ kind: 'drop', to, msg: traces.nextMessageId(), text: `lost on the link: ${describeMessage(msg, to)}` });
  }
  if (delays.length > 1) counters.duplicated++;
  for (const delay of delays) {
    counters.sent++;
    if (delay === 0) post1(to, msg);
    else {
      counters.delayed++;
      // Sent on whatever link to `to` exists then: the peer may have restarted meanwhile.
      setTimeout(() => post1(to, msg), delay);
    }
  }
}

/** Puts one copy of `msg` on the link to `to`; a link that closed (the peer died) loses it, as a network would. */
function post1(to: ActorId, msg: Message): void {
  const endpoint = peers.get(to);
  if (endpoint === undefined || endpoint.closed) return void counters.dropped.unroutable++;
  let wire: unknown = msg;
  if (init.trace) {
    const id = traces.nextMessageId();
    trace({ kind: 'send', to, msg: id, text: describeMessage(msg, to) });
    flushTrace();
    wire = envelope(id, msg);
  }
  try {
    endpoint.send(wire);
  } catch (err) {
    // The link closed under us (the peer died): lost, as a network would lose it. Anything else is a bug: crash with it.
    if ((err as { code?: string }).code !== 'SYNOD_TRANSPORT_CLOSED') throw err;
    counters.dropped.unroutable++;
  }
}

/**
 * Issues the write now (so the turn's writes share a transaction) and runs
 * `then` once it and every earlier write are durable. A failed write is an
 * operating error: the actor crashes with it rather than run without its
 * durable state.
 */
function persist(record: DurableRecord, then: readonly Effect[]): void {
  if (init.trace) trace({ kind: 'persist', text: `write ${describeRecord(record)}` });
  writes = Promise.all([writes, store.persist(record)]).then(
    () => onDurable(record, then),
    (err: unknown) => die('exception', err),
  );
}

function onDurable(record: DurableRecord, then: readonly Effect[]): void {
  if (armed === 'after-persist') die('after-persist', new Error(`crash point after-persist: ${init.id} crashed after a write became durable, before its replies left`));
  durable = record;
  counters.persisted++;
  if (init.trace) {
    trace({ kind: 'durable', text: `durable ${describeRecord(record)}` });
    flushTrace();
  }
  post({ type: 'durable', record });
  for (const e of then) apply(e);
}

const control: ActorControl = {
  state: () => ({
    id: init.id,
    role: init.role,
    threadId,
    incarnation: init.incarnation,
    paused,
    describe: describeState(state),
    durable,
    mailbox: { length: mailbox.length, limit: mailbox.limit },
    counters: { ...counters, dropped: { ...counters.dropped, overflow: mailbox.overflowed } },
  }),
  crash(how) {
    injectCrash(init.id, how, (cause) => die('exit', cause));
  },
  arm(point) {
    armed = point;
  },
  pause() {
    paused = true;
  },
  resume() {
    paused = false;
    if (mailbox.length > 0) scheduleDrain();
  },
  setLinks(next) {
    links = next;
  },
  inject(raw, via) {
    onPeerMessage(via, raw);
  },
};

/** Becomes actor `given.id`: opens its links, recovers its record, and reports ready. */
async function start(given: WorkerInit): Promise<void> {
  init = given;
  traces = new TraceBuffer(init.id, init.incarnation);
  mailbox = new Mailbox(init.mailboxLimit);
  links = init.links;
  for (const [peer, end] of Object.entries(init.ends)) connect(peer, end);
  if (init.failStartup) throw new Error(`test hook: ${init.id} fails during start-up (incarnation ${init.incarnation})`);
  if (init.storage.kind === 'memory') store = openMemoryStore();
  else {
    store = await (await lmdb).openLmdbStore(init.storage.dir, { actorId: init.id, role: init.role, durable: init.storage.durable });
    if (init.storage.lazyFlushMs !== undefined) store = lazyStore(store, init.storage.lazyFlushMs);
  }
  durable = await store.load();
  state = initActor(init.role, init.id, init.config, durable);
  checkInvariants(state);
  Comlink.expose(control, nodeEndpoint(init.control));
  ready = true;
  post({ type: 'ready', threadId, record: durable });
  scheduleDrain();
}

main.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      return void start(m.init).catch((err: unknown) => die('exception', err));
    case 'connect':
      return connect(m.peer, m.end);
    case 'propose':
      return enqueue({ input: { type: 'propose', value: m.value } }, false);
    case 'halt':
      // Runs only between event-loop callbacks, never inside a native call. The wait never ends: the supervisor terminates the thread.
      post({ type: 'halted' });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
});
// Loaded only now that 'halt' is answered: see the module comment. A failure is reported by start(), and only if a store needs lmdb.
const lmdb = import('../src/runtime/storage/lmdb.js');
lmdb.catch(() => {});
// A spare worker does lmdb's per-thread setup now, off the path of the restart that will take it.
void lmdb.then((m) => m.warmUpLmdb()).catch(() => {});
