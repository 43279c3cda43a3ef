// The replicated log's client (src/runtime/client/log-client.ts) without threads:
// a fake cluster records what the client posts and the tests answer,
// reject and expire its commands by hand, on fake timers (setImmediate,
// setTimeout, setInterval and performance.now advance only when a test says
// so, so nothing here depends on how fast the machine is). The key-value
// cluster runs the same client against real workers (kv.test.ts,
// kv-sessions.test.ts); a counter machine shows that it is generic.
// setImmediate is left real: one `await turn()` lets exactly the client's
// pending flush run (immediates run in the order they were set), which is
// one main-thread turn of the client.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Ballot } from '../../src/core/ballot.js';
import type { ActorId } from '../../src/core/ids.js';
import type { Command } from '../../src/core/multipaxos/types.js';
import type { Value } from '../../src/core/value.js';
import { SynodError } from '../../src/errors.js';
import { counterMachine, type CounterOp } from '../../src/machines/counter/machine.js';
import { kvClient, type KvAnswer } from '../../src/machines/kv/client.js';
import type { KvOp } from '../../src/machines/kv/machine.js';
import { LogClient, REJECT_BACKOFF_MS, type ClientMachine, type LogClientOptions } from '../../src/runtime/client/log-client.js';
import { HistoryRecorder } from '../../src/runtime/client/recorder.js';
import { checkLinearizable } from '../../src/check/linearizability.js';

/** A cluster of three proposers, as the client sees it: who serves, and every post it made. */
class FakeCluster {
  /** The newest view's proposers (a reconfiguration changes them). */
  proposers: readonly ActorId[] = ['p1', 'p2', 'p3'];
  /** The proposers with a thread: the view's, and those a reconfiguration brought in or has not stopped yet. */
  readonly threads = new Set<ActorId>(['p1', 'p2', 'p3']);
  readonly down = new Set<ActorId>();
  readonly posts: Array<{ to: ActorId; commands: Command[] }> = [];
  serving(id: ActorId): boolean {
    return this.threads.has(id) && !this.down.has(id);
  }
  post(to: ActorId, commands: readonly Command[]): void {
    expect(this.serving(to)).toBe(true);
    this.posts.push({ to, commands: [...commands] });
  }
  /** The posts made since the last call, as `to: clientId#seq ...`. */
  take(): string[] {
    const out = this.posts.map((p) => `${p.to}: ${p.commands.map((c) => `${c.clientId}#${c.seq}`).join(' ')}`);
    this.posts.length = 0;
    return out;
  }
}

const BALLOT = (round: number, id: ActorId): Ballot => ({ round, proposer: id });

let cluster: FakeCluster;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
  cluster = new FakeCluster();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Ends the main thread's turn: the client's pending flush runs (one, not the ones it sets for the next turn); the fake clock does not move. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function kvLogClient(options: Partial<LogClientOptions<KvOp, KvAnswer>> = {}): LogClient<KvOp, KvAnswer> {
  return new LogClient<KvOp, KvAnswer>(cluster, { concurrency: 4, timeoutMs: 10_000, retryMs: 1000, batchMax: 256, name: 'test cluster', machine: kvClient, ...options }, 'c');
}

/** Settles to the error code, or 'resolved:<value>'. */
function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    (v) => `resolved:${JSON.stringify(v)}`,
    (e: unknown) => (e instanceof SynodError ? e.code : String(e)),
  );
}

describe('the log client', () => {
  it('sends to the leader, one post per proposer per turn, and settles each operation with its decoded answer; a second answer settles nothing', async () => {
    const client = kvLogClient();
    client.elected('p2', BALLOT(1, 'p2'));
    const read = client.submit({ f: 'read', key: 'x' });
    const cas = client.submit({ f: 'cas', key: 'x', from: null, to: 1 });
    const write = client.submit({ f: 'write', key: 'y', value: 2 });
    expect(cluster.take()).toEqual([]);
    await turn();
    expect(cluster.take()).toEqual(['p2: c.0#1 c.1#1 c.2#1']);
    client.answers('l1', ['c.0', 1, 7, 'c.1', 1, true, 'c.2', 1, 0]);
    client.answers('l2', ['c.0', 1, 7]);
    expect(await read).toBe(7);
    expect(await cas).toBe(true);
    expect(await write).toBeUndefined();
    expect(client.stats()).toMatchObject({ completed: 3, sends: 3, posts: 1, extraAnswers: 1, resends: 0 });
  });

  it('follows a change of the proposers: a removed leader gets no new operation, and what it held goes to the new view once its thread stops, answered once', async () => {
    const client = kvLogClient();
    client.elected('p1', BALLOT(1, 'p1'));
    const first = client.submit({ f: 'write', key: 'x', value: 1 });
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    // The view now has p2, p3 and p4; p1 still runs (it finishes its slots) and still was the last elected.
    cluster.threads.add('p4');
    cluster.proposers = ['p2', 'p3', 'p4'];
    const second = client.submit({ f: 'write', key: 'y', value: 2 });
    await turn();
    const [sent] = cluster.take();
    expect(sent).toMatch(/^p[234]: c\.1#1$/);
    // p1's thread stops: the operation it held goes to a proposer of the new view, under the same (clientId, seq).
    cluster.threads.delete('p1');
    client.down('p1');
    await turn();
    const [moved] = cluster.take();
    expect(moved).toMatch(/^p[234]: c\.0#1$/);
    client.elected('p4', BALLOT(2, 'p4'));
    const third = client.submit({ f: 'read', key: 'x' });
    await turn();
    expect(cluster.take()).toEqual(['p4: c.2#1']);
    // Both copies of the first operation may have been chosen; the learners apply it once and it settles once.
    client.answers('l1', ['c.0', 1, 0, 'c.1', 1, 0, 'c.2', 1, 1]);
    client.answers('l2', ['c.0', 1, 0]);
    expect(await outcome(first)).toBe('resolved:undefined');
    expect(await outcome(second)).toBe('resolved:undefined');
    expect(await third).toBe(1);
    expect(client.stats()).toMatchObject({ completed: 3, extraAnswers: 1, resends: 1 });
  });

  it('posts at most batchMax commands to a proposer per turn; the rest leave in the next turns', async () => {
    const client = kvLogClient({ batchMax: 2, concurrency: 5 });
    client.elected('p1', BALLOT(1, 'p1'));
    for (let i = 0; i < 5; i++) void client.submit({ f: 'read', key: `k${i}` });
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1 c.1#1']);
    await turn();
    expect(cluster.take()).toEqual(['p1: c.2#1 c.3#1']);
    await turn();
    expect(cluster.take()).toEqual(['p1: c.4#1']);
  });

  it('a reject that names a serving leader goes there at once, under the same (clientId, seq); the hint becomes the leader only by an election', async () => {
    const client = kvLogClient();
    const put = client.submit({ f: 'write', key: 'x', value: 1 });
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    client.rejected('p1', ['c.0', 1], 'p3');
    await turn();
    expect(cluster.take()).toEqual(['p3: c.0#1']);
    // A reject from a proposer it was not sent to is stale, and ignored.
    client.rejected('p1', ['c.0', 1], 'p2');
    await turn();
    expect(cluster.take()).toEqual([]);
    client.answers('l1', ['c.0', 1, 0]);
    expect(await outcome(put)).toBe('resolved:undefined');
    expect(client.stats().rejected).toBe(1);
    expect(client.leader()).toBeNull();
  });

  it('a reject with no leader to go to waits REJECT_BACKOFF_MS, then tries the next proposer; an election sends what waits at once', async () => {
    const client = kvLogClient();
    void client.submit({ f: 'read', key: 'a' });
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    client.rejected('p1', ['c.0', 1], null);
    await turn();
    expect(cluster.take()).toEqual([]);
    vi.advanceTimersByTime(REJECT_BACKOFF_MS);
    await turn();
    expect(cluster.take()).toEqual(['p2: c.0#1']);
    // Rejected again with no hint; an election comes before the backoff ends.
    client.rejected('p2', ['c.0', 1], null);
    client.elected('p3', BALLOT(2, 'p3'));
    await turn();
    expect(cluster.take()).toEqual(['p3: c.0#1']);
    vi.advanceTimersByTime(REJECT_BACKOFF_MS);
    await turn();
    expect(cluster.take()).toEqual([]);
  });

  it('an election at a lower ballot than the known leader changes nothing', () => {
    const client = kvLogClient();
    client.elected('p2', BALLOT(5, 'p2'));
    client.elected('p1', BALLOT(4, 'p1'));
    expect(client.leader()).toBe('p2');
    cluster.down.add('p2');
    expect(client.leader()).toBeNull();
  });

  it('re-sends an unanswered operation after retryMs under the same (clientId, seq), and times it out after timeoutMs', async () => {
    const client = kvLogClient({ retryMs: 1000, timeoutMs: 2500 });
    client.start();
    client.elected('p1', BALLOT(1, 'p1'));
    const put = outcome(client.submit({ f: 'write', key: 'x', value: 1 }));
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    vi.advanceTimersByTime(999);
    expect(cluster.take()).toEqual([]);
    vi.advanceTimersByTime(200);
    await turn();
    // The leader may just be slow: it stays the target.
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    vi.advanceTimersByTime(900);
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    expect(await Promise.race([put, 'pending'])).toBe('pending');
    vi.advanceTimersByTime(500);
    expect(await put).toBe('SYNOD_TIMEOUT');
    expect(client.stats()).toMatchObject({ timedOut: 1, resends: 2, completed: 0 });
    // The first command of a session may have made no session at the learners: the next one starts afresh, under a new client id.
    const read = outcome(client.submit({ f: 'read', key: 'x' }));
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0.1#1']);
    client.close(() => new SynodError('SYNOD_CLOSED', 'closed'));
    expect(await read).toBe('SYNOD_CLOSED');
  });

  it('an expired session fails its operation with SYNOD_SESSION_EXPIRED and goes on under a fresh client id, as a fresh process in the history', async () => {
    const recorder = new HistoryRecorder(kvClient.history);
    const client = kvLogClient({ concurrency: 1, observer: recorder });
    client.elected('p1', BALLOT(1, 'p1'));
    const first = client.submit({ f: 'write', key: 'x', value: 1 });
    const second = outcome(client.submit({ f: 'write', key: 'x', value: 2 }));
    const third = client.submit({ f: 'read', key: 'x' });
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    client.answers('l1', ['c.0', 1, 0]);
    await first;
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#2']);
    // An expiry for another seq, or for a client id the client does not know, is ignored.
    client.expired(['c.0', 1, 'c.9', 2]);
    client.expired(['c.0', 2]);
    expect(await second).toBe('SYNOD_SESSION_EXPIRED');
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0.1#1']);
    // An answer to the expired id settles nothing.
    client.answers('l1', ['c.0', 2, 0, 'c.0.1', 1, 2]);
    expect(await third).toBe(2);
    expect(client.stats()).toMatchObject({ completed: 2, extraAnswers: 1 });
    const events = recorder.history().map((e) => `${e.process} ${e.type} ${e.f} ${JSON.stringify(e.value)}`);
    expect(events).toEqual(['0 invoke write 1', '0 ok write 1', '0 invoke write 2', '0 info write 2', '1 invoke read null', '1 ok read 2']);
    expect(checkLinearizable(recorder.history()).status).toBe('linearizable');
  });

  it('what was sent to a proposer that went down goes elsewhere at once; commands queued for one that went down since leave for another', async () => {
    const client = kvLogClient();
    client.elected('p1', BALLOT(1, 'p1'));
    void client.submit({ f: 'read', key: 'a' });
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    cluster.down.add('p1');
    client.down('p1');
    expect(client.leader()).toBeNull();
    await turn();
    expect(cluster.take()).toEqual(['p2: c.0#1']);
    cluster.down.add('p2');
    client.down('p2');
    // Queued for p3, which goes down before the turn ends: the flush sends it on, in the next turn, to the one proposer left.
    cluster.down.add('p3');
    cluster.down.delete('p1');
    await turn();
    expect(cluster.take()).toEqual([]);
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1']);
    expect(client.stats()).toMatchObject({ resends: 2, sends: 4, posts: 3 });
  });

  it('operations beyond the pool wait in order for a free session; invalid ones reject before anything is sent; close rejects the rest', async () => {
    const client = kvLogClient({ concurrency: 2, problem: (op) => (op.key === '' ? 'an empty key' : null) });
    client.elected('p1', BALLOT(1, 'p1'));
    expect(await outcome(client.submit({ f: 'read', key: '' }))).toBe('SYNOD_INVALID_ARGUMENT');
    const ops = ['a', 'b', 'c', 'd'].map((key) => outcome(client.submit({ f: 'read', key })));
    await turn();
    expect(cluster.take()).toEqual(['p1: c.0#1 c.1#1']);
    client.answers('l1', ['c.1', 1, 'B']);
    await turn();
    expect(cluster.take()).toEqual(['p1: c.1#2']);
    client.close(() => new SynodError('SYNOD_CLOSED', 'closed'));
    expect(await Promise.all(ops)).toEqual(['SYNOD_CLOSED', 'resolved:"B"', 'SYNOD_CLOSED', 'SYNOD_CLOSED']);
    expect(await outcome(client.submit({ f: 'read', key: 'e' }))).toBe('SYNOD_CLOSED');
    expect(cluster.take()).toEqual([]);
  });

  it('is generic over the state machine: a counter goes through the same sessions', async () => {
    const counter: ClientMachine<unknown, CounterOp, number, number> = {
      machine: counterMachine as never,
      encodeResult: (total) => total,
      decodeResult: (_op, encoded) => encoded as number,
      label: (op) => (op.f === 'add' ? `add ${op.n}` : 'get'),
    };
    const client = new LogClient<CounterOp, number>(cluster, { concurrency: 1, timeoutMs: 10_000, retryMs: 1000, batchMax: 8, name: 'counter', machine: counter }, 'n');
    client.elected('p3', BALLOT(1, 'p3'));
    const add = client.submit({ f: 'add', n: 5 });
    const get = client.submit({ f: 'get' });
    await turn();
    expect(cluster.posts.map((p) => [p.to, p.commands.map((c) => c.op as Value)])).toEqual([['p3', [{ f: 'add', n: 5 }]]]);
    cluster.take();
    client.answers('l1', ['n.0', 1, 5]);
    expect(await add).toBe(5);
    await turn();
    expect(cluster.take()).toEqual(['p3: n.0#2']);
    client.answers('l1', ['n.0', 2, 5]);
    expect(await get).toBe(5);
    client.close(() => new Error('closed'));
    expect(await outcome(client.submit({ f: 'add', n: 1 }))).toBe('SYNOD_CLOSED');
  });
});
