/**
 * Worker entry point: hosts one Multi-Paxos role core (proposer, acceptor or
 * learner) in its own thread, as workers/actor.ts does for single-decree
 * Paxos, with the same start-up, halt handshake, crash modes and turn
 * discipline. Peer messages arrive on links of the cluster's transport (direct
 * MessagePorts by default), are validated and
 * queued in a bounded mailbox; client requests arrive from the main thread;
 * the core's effects are carried out as src/sim/mpworld.ts does, with real
 * ports, timers and an LMDB record log.
 *
 * A turn. Every input that arrives in one event-loop turn is queued and the
 * queue is stepped in one setImmediate callback. Then, in this order:
 *   - every client command that arrived in the turn goes to the core as ONE
 *     `request` input, which is how a leader's batches form;
 *   - the records of every `persist` of the turn go to the log in ONE append
 *     (one transaction, one fsync: group commit), and the replies riding on
 *     them are carried out once it — and every earlier append — is durable;
 *   - what the turn has for the main thread (answers, rejects, an election,
 *     facts for the safety checker) goes in ONE postMessage;
 *   - the messages for each peer go in ONE postMessage (an array when there
 *     are several), since the cost of a post is mostly per post, not per byte.
 *
 * Crashes are real: a broken invariant or any other throw while stepping is
 * left uncaught and kills the thread; the supervisor restarts it and the core
 * is rebuilt from the log (an acceptor's promises and accepted slots, a
 * proposer's rounds, a learner's latest snapshot, after which it catches up).
 */
import { parentPort, threadId } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import { roleOf, type ActorId } from '../src/core/ids.js';
import { checkMpInvariants, initMpActor, stepMpActor, type MpActorState } from '../src/core/multipaxos/actor.js';
import { describeBatch, describeMpMessage, describeMpRecord, describeMpState } from '../src/core/multipaxos/describe.js';
import type { Command, MpEffect, MpInput, MpMessage, MpRecord, MpTimer } from '../src/core/multipaxos/types.js';
import { Mailbox } from '../src/runtime/mailbox.js';
import { openEndpoint, type TransportEnd, type TransportEndpoint } from '../src/runtime/transports/index.js';
import { DESCRIBE_MAX_CHARS, encodeResult, toWire, validateMpMessage, type MpActorControl, type MpActorCounters, type MpProtocol, type MpRequestPost, type MpTurnReport, type MpWorkerStart } from '../src/runtime/mpwire.js';
import type { RecordLog } from '../src/runtime/storage/log.js';
import type { SupervisorToWorker, WorkerToSupervisor } from '../src/runtime/supervisor.js';
import { toErrorData, type CrashHow, type CrashPoint, type TracedEnvelope } from '../src/runtime/wire.js';
import { TraceBuffer, envelope, injectCrash, unwrap } from '../src/runtime/worker-glue.js';
import type { RawTraceEvent } from '../src/trace/types.js';

// The UMD adapter sets module.exports to the function, but its typings
// declare an ES default export, which NodeNext then types as a namespace.
const nodeEndpoint = nodeAdapter as unknown as typeof nodeAdapter.default;

/** A queued input; a timer firing carries the generation of the timer it belongs to. */
interface Queued {
  readonly input: MpInput;
  readonly timerGen?: number;
}

/** The writes of one turn: their records, in order, and the effects to carry out once they are durable. */
interface TurnWrite {
  readonly records: MpRecord[];
  readonly then: MpEffect[];
}

if (parentPort === null) throw new Error('workers/mp-actor.js runs inside a worker thread; start actors with createKvCluster()');
const main = parentPort;

const peers = new Map<ActorId, TransportEndpoint<unknown>>();
const timers = new Map<MpTimer, { handle: NodeJS.Timeout; gen: number }>();
const counters: MpActorCounters = {
  received: 0,
  turns: 0,
  steps: 0,
  commands: 0,
  ignored: 0,
  sent: 0,
  posts: 0,
  appends: 0,
  persisted: 0,
  dropped: { malformed: 0, unknownSender: 0, overflow: 0, unroutable: 0 },
};
// Set from the 'init' message, which comes before any other but 'halt'.
let init: MpWorkerStart;
let mailbox: Mailbox<Queued>;
// Set once the log is loaded and the core built; until then inputs wait.
let log: RecordLog;
let state: MpActorState;
let ready = false;
let paused = false;
let drainScheduled = false;
let armed: CrashPoint | null = null;
let timerGen = 0;
/** Client commands that arrived since the last turn; stepped as one request. */
let requested: Command[] = [];
/** Settles when every append issued so far is durable and its replies are out. */
let writes: Promise<unknown> = Promise.resolve();

// What the current turn has produced so far, sent out by flush().
const outbox = new Map<ActorId, MpMessage[]>();
/**
 * Commits from the leader to the other proposers, held back for up to
 * LAZY_COMMIT_MS. They only keep a follower's copy of the log current for
 * when it leads; no client waits for them, yet sent per slot they would wake
 * two threads per slot. Holding a message back is what any network may do,
 * so it is safe; a new leader just re-proposes a few more slots. Anything
 * else sent to the same peer takes the held commits along, ahead of it, so
 * each link stays first-in first-out: a heartbeat overtaking them would make
 * the follower think it missed slots and ask for them again.
 */
const lazy = new Map<ActorId, MpMessage[]>();
let lazyTimer: NodeJS.Timeout | null = null;
const LAZY_COMMIT_MS = 5;
let report: MpTurnReport = { type: 'turn' };
let reporting = false;
let turnWrite: TurnWrite | null = null;
/** Trace events not yet reported (used only when tracing). */
let traces: TraceBuffer;

/** Records a trace event; `time` is epoch ms, so lanes of different threads line up. */
function trace(event: Omit<RawTraceEvent, 'actor' | 'time'>): void {
  traces.record(event);
  reporting = true;
}

/** Long describe() texts (a batch of hundreds of commands) are cut for the trace. */
function short(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}... (${text.length - 300} more characters)` : text;
}

function post(msg: WorkerToSupervisor<MpProtocol>): void {
  main.postMessage(msg);
}

/** Ends this worker on purpose, telling the supervisor why first (messages posted before exit are delivered before the exit event). */
function die(how: CrashHow, cause: unknown): never {
  if (init?.trace && traces !== undefined && traces.length > 0) post({ type: 'turn', trace: traces.take() });
  post({ type: 'dying', how, cause: toErrorData(cause) });
  process.exit(1);
}

function connect(peer: ActorId, end: TransportEnd): void {
  peers.get(peer)?.close();
  const endpoint = openEndpoint<unknown>(end);
  peers.set(peer, endpoint);
  endpoint.onMessage((data) => onPortData(peer, data));
}

/** A peer posts one message, or an array of the messages of one of its turns. */
function onPortData(via: ActorId, data: unknown): void {
  if (Array.isArray(data)) for (const one of data) onPeerMessage(via, one);
  else onPeerMessage(via, data);
}

/** Anything arriving on a peer port is untrusted: refuse what is malformed or spoofed, without crashing. */
function onPeerMessage(via: ActorId, raw: unknown): void {
  counters.received++;
  const { data, msgId } = unwrap(raw, init.trace);
  const checked = validateMpMessage(data);
  if (!checked.ok) return void counters.dropped.malformed++;
  const msg = checked.msg;
  if (msg.from !== via || roleOf(init.config.members, via) === null) return void counters.dropped.unknownSender++;
  if (init.trace) trace({ kind: 'receive', from: via, text: short(describeMpMessage(msg, init.id)), ...(msgId === undefined ? {} : { msg: msgId }) });
  if (mailbox.push({ input: { type: 'receive', msg } })) scheduleDrain();
}

function scheduleDrain(): void {
  if (!ready || paused || drainScheduled) return;
  drainScheduled = true;
  setImmediate(drain);
}

/**
 * One turn: steps the peer messages queued, then the timer firings, then
 * every client command as one request, then sends what it produced. Timer
 * firings go after the messages of their turn because a message may re-arm
 * the timer (a heartbeat re-arms a follower's election timer), which makes
 * the firing stale: after a stall, in which a timer expired while the
 * leader's heartbeats waited in the port, the follower would otherwise stand
 * for election although its leader is alive.
 */
function drain(): void {
  drainScheduled = false;
  if (paused) return;
  counters.turns++;
  const fired: Array<{ readonly timer: MpTimer; readonly gen: number | undefined }> = [];
  for (const { input, timerGen: gen } of mailbox.takeAll()) {
    if (input.type === 'timeout') {
      fired.push({ timer: input.timer, gen });
      continue;
    }
    crashPointAfterReceive();
    step(input);
  }
  for (const { timer, gen } of fired) {
    // A firing queued before its timer was re-armed or cancelled is stale.
    if (timers.get(timer)?.gen !== gen) continue;
    timers.delete(timer);
    step({ type: 'timeout', timer });
  }
  if (requested.length > 0) {
    const commands = requested;
    requested = [];
    crashPointAfterReceive();
    step({ type: 'request', commands });
  }
  flush();
}

function crashPointAfterReceive(): void {
  if (armed === 'after-receive') die('after-receive', new Error(`crash point after-receive: ${init.id} received an input and crashed before stepping it`));
}

function step(input: MpInput): void {
  counters.steps++;
  const result = stepMpActor(state, input, Math.random());
  checkMpInvariants(result.state);
  state = result.state;
  for (const e of result.effects) apply(e);
}

function apply(e: MpEffect): void {
  switch (e.type) {
    case 'send': {
      const box = e.msg.type === 'commit' && init.role === 'proposer' && init.config.members.proposers.includes(e.to) ? lazy : outbox;
      const queued = box.get(e.to);
      if (queued) queued.push(e.msg);
      else box.set(e.to, [e.msg]);
      if (box === lazy) lazyTimer ??= setTimeout(flushLazy, LAZY_COMMIT_MS);
      return;
    }
    case 'persist':
      turnWrite ??= { records: [], then: [] };
      for (const r of e.records) turnWrite.records.push(r);
      for (const t of e.then) turnWrite.then.push(t);
      return;
    case 'setTimer': {
      clearTimeout(timers.get(e.timer)?.handle);
      const gen = ++timerGen;
      const handle = setTimeout(() => {
        // Timer firings are local and few: they bypass the mailbox bound.
        mailbox.push({ input: { type: 'timeout', timer: e.timer }, timerGen: gen }, false);
        scheduleDrain();
      }, e.delay);
      timers.set(e.timer, { handle, gen });
      return;
    }
    case 'cancelTimer':
      clearTimeout(timers.get(e.timer)?.handle);
      timers.delete(e.timer);
      return;
    case 'applied':
      reporting = true;
      (report.answers ??= []).push(e.command.clientId, e.command.seq, encodeResult(e.result));
      return;
    case 'reject': {
      reporting = true;
      const rejected = (report.rejected ??= []);
      for (const c of e.commands) rejected.push(c.clientId, c.seq);
      report.leader = e.leader;
      return;
    }
    case 'elected':
      reporting = true;
      report.elected = e.ballot;
      return;
    case 'appliedSlot':
      if (init.trace) trace({ kind: 'decide', text: short(`applied slot ${e.slot}: ${describeBatch(e.batch)}`), value: `slot ${e.slot}` });
      if (!init.reportFacts) return;
      reporting = true;
      (report.learned ??= []).push({ slot: e.slot, batch: e.batch });
      return;
    case 'installedSnapshot':
      if (!init.reportFacts) return;
      reporting = true;
      (report.learned ??= []).push({ snapshot: e.upTo });
      return;
    case 'ignore':
      counters.ignored++;
      return;
  }
}

/**
 * Ends a turn (or the release of a durable write): issues the turn's writes
 * as one append, then posts the report to the main thread, then each peer's
 * messages. The report goes first so that the main thread hears of durable
 * records before anyone hears the replies that rode on them.
 */
function flush(): void {
  if (turnWrite !== null) {
    const write = turnWrite;
    turnWrite = null;
    counters.appends++;
    if (init.trace) trace({ kind: 'persist', text: short(`append ${write.records.map(describeMpRecord).join('; ')}`) });
    writes = Promise.all([writes, log.append(write.records)]).then(
      () => onDurable(write),
      (err: unknown) => die('exception', err),
    );
  }
  postAll(outbox);
}

/** Posts what the main thread should hear of this turn (trace events included), if anything. */
function postReport(): void {
  if (!reporting) return;
  if (init.trace && traces.length > 0) report.trace = traces.take();
  main.postMessage(report);
  report = { type: 'turn' };
  reporting = false;
}

/**
 * Posts the report (which goes first, so the main thread hears of durable
 * records and of traced sends before anyone hears the replies), then each
 * peer's messages (after any held back for it) in one post, and empties `box`.
 */
function postAll(box: Map<ActorId, MpMessage[]>): void {
  const outgoing: Array<[ActorId, unknown[]]> = [];
  for (const [to, sent] of box) {
    const held = box === lazy ? undefined : lazy.get(to);
    if (held) lazy.delete(to);
    const msgs = held ? [...held, ...sent] : sent;
    outgoing.push([to, init.trace ? msgs.map((m) => traced(to, m)) : msgs.map(toWire)]);
  }
  box.clear();
  postReport();
  for (const [to, wire] of outgoing) {
    const endpoint = peers.get(to);
    if (endpoint === undefined || endpoint.closed) counters.dropped.unroutable += wire.length;
    else {
      try {
        if (wire.length === 1) endpoint.send(wire[0]);
        else endpoint.sendBatch(wire);
        counters.sent += wire.length;
        counters.posts++;
      } catch (err) {
        // The link closed under us (the peer died): lost, as a network would lose it. Anything else is a bug: crash with it.
        if ((err as { code?: string }).code !== 'SYNOD_TRANSPORT_CLOSED') throw err;
        counters.dropped.unroutable += wire.length;
      }
    }
  }
}

/** A message to `to` in an envelope with the id of this send, whose send is traced (tracing only). */
function traced(to: ActorId, msg: MpMessage): TracedEnvelope {
  const id = traces.nextMessageId();
  trace({ kind: 'send', to, msg: id, text: short(describeMpMessage(msg, to)) });
  return envelope(id, toWire(msg));
}

function flushLazy(): void {
  lazyTimer = null;
  postAll(lazy);
}

function onDurable(write: TurnWrite): void {
  if (armed === 'after-persist') die('after-persist', new Error(`crash point after-persist: ${init.id} crashed after a write became durable, before its replies left`));
  counters.persisted += write.records.length;
  if (init.trace) trace({ kind: 'durable', text: short(`durable ${write.records.map(describeMpRecord).join('; ')}`) });
  if (init.reportFacts && init.role === 'acceptor') {
    reporting = true;
    const durable = (report.durable ??= []);
    for (const r of write.records) durable.push(r);
  }
  for (const e of write.then) apply(e);
  flush();
}

const control: MpActorControl = {
  state: () => {
    const text = describeMpState(state);
    return {
      id: init.id,
      role: init.role,
      threadId,
      incarnation: init.incarnation,
      paused,
      describe: text.length > DESCRIBE_MAX_CHARS ? `${text.slice(0, DESCRIBE_MAX_CHARS)}... (${text.length - DESCRIBE_MAX_CHARS} more characters)` : text,
      mailbox: { length: mailbox.length, limit: mailbox.limit },
      counters: { ...counters, dropped: { ...counters.dropped, overflow: mailbox.overflowed } },
    };
  },
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
    if (mailbox.length > 0 || requested.length > 0) scheduleDrain();
  },
  inject(raw, via) {
    onPortData(via, raw);
  },
};

/** Becomes actor `given.id`: opens its links, replays its log, reports ready and takes its `start` input. */
async function start(given: MpWorkerStart): Promise<void> {
  init = given;
  traces = new TraceBuffer(init.id, init.incarnation);
  mailbox = new Mailbox(init.mailboxLimit);
  for (const [peer, end] of Object.entries(init.ends)) connect(peer, end);
  const { openLmdbLog, openMemoryLog } = await logModule;
  log = init.storage.kind === 'memory' ? openMemoryLog() : await openLmdbLog(init.storage.dir, { actorId: init.id, durable: init.storage.durable });
  const records = await log.load();
  state = initMpActor(init.role, init.id, init.config, records);
  checkMpInvariants(state);
  Comlink.expose(control, nodeEndpoint(init.control));
  ready = true;
  post({ type: 'ready', threadId, record: { records: records.length, promised: state.role === 'acceptor' ? state.promised : null, applied: state.role === 'learner' ? state.nextSlot : 0 } });
  // `start` arms the core's timers; it comes before anything that queued while the log loaded.
  step({ type: 'start' });
  flush();
  scheduleDrain();
}

main.on('message', (m: SupervisorToWorker<MpProtocol> | MpRequestPost) => {
  switch (m.type) {
    case 'init':
      return void start(m.init).catch((err: unknown) => die('exception', err));
    case 'connect':
      return connect(m.peer, m.end);
    // Client requests are local and bounded by the client's concurrency: they bypass the mailbox bound.
    case 'request': {
      // From the main thread, which is trusted: the commands are parsed, not checked.
      const commands = JSON.parse(m.commands) as Command[];
      counters.commands += commands.length;
      for (const c of commands) requested.push(c);
      return scheduleDrain();
    }
    case 'halt':
      // Runs only between event-loop callbacks, never inside a native call. The wait never ends: the supervisor terminates the thread.
      post({ type: 'halted' });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
});
// The log module loads lmdb, so it is loaded only now that 'halt' is answered (see workers/actor.ts). A failure is reported by start().
const logModule = import('../src/runtime/storage/log.js');
logModule.catch(() => {});
// A spare worker does lmdb's per-thread setup now, off the path of the restart that will take it.
void import('../src/runtime/storage/lmdb.js').then((m) => m.warmUpLmdb()).catch(() => {});
