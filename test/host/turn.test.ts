/**
 * The turn host on its own, without threads: a scripted protocol whose
 * messages say which effects to produce, driven by hand through a recording
 * HostIO. Each test names the rule of the turn discipline it checks (see
 * src/host/turn.ts).
 */
import { describe, expect, it } from 'vitest';
import { membership, type ActorId } from '../../src/core/ids.js';
import { classifyCommon, OUTPUT, type Protocol, type ProtocolTypes } from '../../src/host/protocol.js';
import { LAZY_TIMER, TurnHost, type HostIO } from '../../src/host/turn.js';

/** What a scripted message asks the core to do when it is stepped. */
type Script =
  | { readonly do: 'send'; readonly to: ActorId; readonly tag: string; readonly lazy?: boolean }
  /** No `record`: a persist with no records, as an acceptor answering a repeated accept makes. */
  | { readonly do: 'persist'; readonly record?: string; readonly reply?: { readonly to: ActorId; readonly tag: string } }
  | { readonly do: 'timer'; readonly name: string; readonly delay: number }
  | { readonly do: 'cancel'; readonly name: string }
  | { readonly do: 'output'; readonly tag: string }
  | { readonly do: 'ignore' }
  | { readonly do: 'break' };

interface Msg {
  readonly type: 'script';
  readonly from: ActorId;
  readonly steps: readonly Script[];
  readonly tag?: string;
}

type Eff =
  | { readonly type: 'send'; readonly to: ActorId; readonly msg: Msg; readonly lazy: boolean }
  | { readonly type: 'persist'; readonly records: readonly string[]; readonly then: readonly Eff[] }
  | { readonly type: 'setTimer'; readonly timer: string; readonly delay: number }
  | { readonly type: 'cancelTimer'; readonly timer: string }
  | { readonly type: 'out'; readonly tag: string }
  | { readonly type: 'ignore'; readonly reason: string };

type In = { readonly type: 'receive'; readonly msg: Msg } | { readonly type: 'timeout'; readonly timer: string } | { readonly type: 'request'; readonly tags: readonly string[] } | { readonly type: 'start' };

interface St {
  readonly role: 'acceptor';
  readonly id: ActorId;
  /** Inputs stepped, described, in order. */
  readonly log: string[];
  broken: boolean;
}

interface T extends ProtocolTypes {
  readonly state: St;
  readonly input: In;
  readonly effect: Eff;
  readonly message: Msg;
  readonly record: string;
  readonly request: string;
  readonly config: { readonly members: ReturnType<typeof membership> };
  readonly timer: string;
}

function effectsOf(from: ActorId, steps: readonly Script[]): Eff[] {
  return steps.map((s): Eff => {
    switch (s.do) {
      case 'send':
        return { type: 'send', to: s.to, msg: { type: 'script', from, steps: [], tag: s.tag }, lazy: s.lazy ?? false };
      case 'persist':
        return { type: 'persist', records: s.record === undefined ? [] : [s.record], then: s.reply ? [{ type: 'send', to: s.reply.to, msg: { type: 'script', from, steps: [], tag: s.reply.tag }, lazy: false }] : [] };
      case 'timer':
        return { type: 'setTimer', timer: s.name, delay: s.delay };
      case 'cancel':
        return { type: 'cancelTimer', timer: s.name };
      case 'output':
        return { type: 'out', tag: s.tag };
      case 'ignore':
        return { type: 'ignore', reason: 'scripted' };
      case 'break':
        return { type: 'ignore', reason: 'break' };
    }
  });
}

const scripted: Protocol<T> = {
  name: 'scripted',
  init: (_role, id, _config, records) => ({ role: 'acceptor', id, log: records.map((r) => `recovered ${r}`), broken: false }),
  step(state, input) {
    switch (input.type) {
      case 'receive':
        state.log.push(`receive ${input.msg.tag ?? '(script)'} from ${input.msg.from}`);
        if (input.msg.steps.some((s) => s.do === 'break')) state.broken = true;
        return { state, effects: effectsOf(state.id, input.msg.steps) };
      case 'timeout':
        state.log.push(`timeout ${input.timer}`);
        return { state, effects: [] };
      case 'request':
        state.log.push(`request ${input.tags.join(',')}`);
        return { state, effects: [] };
      case 'start':
        state.log.push('start');
        return { state, effects: [] };
    }
  },
  invariants(state) {
    if (state.broken) throw new Error(`${state.id}: invariant broken`);
  },
  validate: (raw) => (typeof raw === 'object' && raw !== null && (raw as Msg).type === 'script' ? { ok: true, msg: raw as Msg } : { ok: false, reason: 'not a script' }),
  oversized: (msg, max) => JSON.stringify(msg).length > max,
  classify: (e) => classifyCommon<T>(e) ?? (e.type === 'persist' ? { type: 'persist', records: e.records, then: e.then } : OUTPUT),
  receive: (msg) => ({ type: 'receive', msg }),
  timeout: (timer) => ({ type: 'timeout', timer }),
  requests: (tags) => (tags.length === 0 ? [] : [{ type: 'request', tags }]),
  start: { type: 'start' },
  lazy: (_from, _config, _to, msg) => msg.tag?.startsWith('lazy') ?? false,
  lazyMs: () => 5,
  toWire: (m) => m,
  describe: {
    state: (s) => `${s.id} ${s.log.join('; ')}`,
    message: (m) => m.tag ?? 'script',
    record: (r) => r,
    input: (i) => i.type,
    effect: (e) => e.type,
    output: () => null,
  },
};

const members = membership(1, 1, 1);
const ME = 'a1';

/** A HostIO that records everything and lets the test complete appends and fire timers by hand. */
function harness(opts: { lazyMs?: number; mailboxLimit?: number; records?: string[] } = {}) {
  const events: string[] = [];
  const appends: Array<{ records: readonly string[]; done: () => void }> = [];
  const armed = new Map<string, number>();
  let wakes = 0;
  const io: HostIO<T> = {
    random: () => 0.5,
    append(records, done) {
      events.push(`append ${records.join(',')}`);
      appends.push({ records, done });
    },
    send: (to, msgs) => void events.push(`send ${to} [${msgs.map((m) => m.tag).join(',')}]`),
    output: (e) => void events.push(`output ${(e as { tag: string }).tag}`),
    durable: (records) => void events.push(`durable ${records.join(',')}`),
    arm: (name, _delay, gen) => void armed.set(name, gen),
    disarm: (name) => void armed.delete(name),
    wake: () => void wakes++,
    endTurn: () => void events.push('end'),
    crash(point) {
      throw new Error(`crashed at ${point}`);
    },
    failed(err) {
      throw err;
    },
  };
  const host = new TurnHost(scripted, ME, 'acceptor', { members }, opts.records ?? [], io, { mailboxLimit: opts.mailboxLimit ?? 100, lazyMs: opts.lazyMs ?? 0, maxValueBytes: 10_000 });
  const msg = (from: ActorId, tag: string, ...steps: Script[]): Msg => ({ type: 'script', from, steps, tag });
  return { host, events, appends, armed, msg, wakes: () => wakes };
}

describe('turn host', () => {
  it('starts from the recovered records and steps the start input', () => {
    const { host } = harness({ records: ['r1', 'r2'] });
    host.start();
    expect(host.state.log).toEqual(['recovered r1', 'recovered r2', 'start']);
  });

  it('group commit: every persist of one turn goes out as ONE append, and its replies only once it is durable', () => {
    const { host, events, appends, msg } = harness();
    host.receiveRaw('p1', msg('p1', 'm1', { do: 'persist', record: 'x', reply: { to: 'p1', tag: 'ok1' } }));
    host.receiveRaw('p1', msg('p1', 'm2', { do: 'persist', record: 'y', reply: { to: 'p1', tag: 'ok2' } }));
    host.turn();
    expect(appends).toHaveLength(1);
    expect(events).toEqual(['append x,y', 'end']);
    appends[0]?.done();
    expect(events.slice(2)).toEqual(['durable x,y', 'send p1 [ok1,ok2]', 'end']);
    expect(host.counters).toMatchObject({ turns: 1, steps: 2, appends: 1, persisted: 2 });
  });

  it('reply release order: a later append that completes first waits for every earlier one', () => {
    const { host, events, appends, msg } = harness();
    host.receiveRaw('p1', msg('p1', 'm1', { do: 'persist', record: 'first', reply: { to: 'p1', tag: 'r-first' } }));
    host.turn();
    host.receiveRaw('p1', msg('p1', 'm2', { do: 'persist', record: 'second', reply: { to: 'p1', tag: 'r-second' } }));
    host.turn();
    expect(appends).toHaveLength(2);
    events.length = 0;
    appends[1]?.done();
    // Nothing leaves: the first append is not durable yet.
    expect(events).toEqual([]);
    expect(host.writesInFlight).toBe(2);
    appends[0]?.done();
    expect(events).toEqual(['durable first', 'durable second', 'send p1 [r-first,r-second]', 'end']);
    expect(host.writesInFlight).toBe(0);
  });

  it('a persist with no records costs no append; its replies wait for every earlier append, or leave with the turn', () => {
    const { host, events, appends, msg } = harness();
    host.receiveRaw('p1', msg('p1', 'm1', { do: 'persist', record: 'x', reply: { to: 'p1', tag: 'ok1' } }));
    host.turn();
    host.receiveRaw('p1', msg('p1', 'm2', { do: 'persist', reply: { to: 'p1', tag: 'ok2' } }));
    host.turn();
    // ok2 may vouch for x, which is not durable yet: it waits, and nothing is appended for it.
    expect(appends).toHaveLength(1);
    expect(events).toEqual(['append x', 'end', 'end']);
    appends[0]?.done();
    expect(events.slice(3)).toEqual(['durable x', 'send p1 [ok1,ok2]', 'end']);
    events.length = 0;
    host.receiveRaw('p1', msg('p1', 'm3', { do: 'persist', reply: { to: 'p1', tag: 'ok3' } }));
    host.turn();
    expect(events).toEqual(['send p1 [ok3]', 'end']);
    expect(appends).toHaveLength(1);
    expect(host.counters).toMatchObject({ appends: 1, persisted: 1 });
  });

  it('one post per peer per turn, in the order the core sent', () => {
    const { host, events, msg } = harness();
    host.receiveRaw('p1', msg('p1', 'm1', { do: 'send', to: 'p1', tag: 'a' }, { do: 'send', to: 'l1', tag: 'b' }));
    host.receiveRaw('p1', msg('p1', 'm2', { do: 'send', to: 'p1', tag: 'c' }));
    host.turn();
    expect(events).toEqual(['send p1 [a,c]', 'send l1 [b]', 'end']);
    expect(host.counters).toMatchObject({ sent: 3, posts: 2 });
  });

  it('timer generations: a firing queued before its timer was re-armed in the same turn is stale and dropped', () => {
    const { host, armed, msg } = harness();
    host.receiveRaw('p1', msg('p1', 'arm', { do: 'timer', name: 'election', delay: 10 }));
    host.turn();
    const old = armed.get('election') as number;
    // The timer fires, and in the same turn a message re-arms it: the firing is stale.
    host.fire('election', old);
    host.receiveRaw('p1', msg('p1', 'heartbeat', { do: 'timer', name: 'election', delay: 10 }));
    host.turn();
    expect(host.state.log).toEqual(['receive arm from p1', 'receive heartbeat from p1']);
    // The new generation fires for real.
    host.fire('election', armed.get('election') as number);
    host.turn();
    expect(host.state.log.at(-1)).toBe('timeout election');
  });

  it('timer generations: a cancelled timer never fires', () => {
    const { host, armed, msg } = harness();
    host.receiveRaw('p1', msg('p1', 'arm', { do: 'timer', name: 'retry', delay: 10 }));
    host.turn();
    const gen = armed.get('retry') as number;
    host.receiveRaw('p1', msg('p1', 'cancel', { do: 'cancel', name: 'retry' }));
    host.turn();
    expect(armed.has('retry')).toBe(false);
    host.fire('retry', gen);
    host.turn();
    expect(host.state.log).not.toContain('timeout retry');
  });

  it('drain order: messages, then timer firings, then client requests as one input', () => {
    const { host, armed, msg } = harness();
    host.receiveRaw('p1', msg('p1', 'arm', { do: 'timer', name: 't', delay: 1 }));
    host.turn();
    host.request('c1');
    host.fire('t', armed.get('t') as number);
    host.request('c2');
    host.receiveRaw('p1', msg('p1', 'late'));
    host.turn();
    expect(host.state.log.slice(1)).toEqual(['receive late from p1', 'timeout t', 'request c1,c2']);
  });

  it('lazy messages are held back until their timer, or go ahead of the next message to the same peer', () => {
    const { host, events, armed, msg } = harness({ lazyMs: 5 });
    host.receiveRaw('p1', msg('p1', 'm1', { do: 'send', to: 'p1', tag: 'lazy1' }));
    host.turn();
    expect(events).toEqual(['end']);
    host.receiveRaw('p1', msg('p1', 'm2', { do: 'send', to: 'p1', tag: 'now' }));
    host.turn();
    // The held message goes first, so the link stays first-in first-out.
    expect(events.slice(1)).toEqual(['send p1 [lazy1,now]', 'end']);
    host.receiveRaw('p1', msg('p1', 'm3', { do: 'send', to: 'l1', tag: 'lazy2' }));
    host.turn();
    events.length = 0;
    host.fire(LAZY_TIMER, armed.get(LAZY_TIMER) as number);
    expect(events).toEqual(['send l1 [lazy2]', 'end']);
  });

  it('refuses malformed, spoofed and oversized messages, and drops the newest when the mailbox is full', () => {
    const { host, msg } = harness({ mailboxLimit: 2 });
    expect(host.receiveRaw('p1', { nonsense: true })).toBe('malformed');
    expect(host.receiveRaw('p1', msg('a1', 'spoofed'))).toBe('unknownSender');
    expect(host.receiveRaw('x9', msg('x9', 'stranger'))).toBe('unknownSender');
    expect(host.receiveRaw('p1', msg('p1', 'x'.repeat(20_000)))).toBe('oversized');
    expect(host.receiveRaw('p1', msg('p1', 'one'))).toBeNull();
    expect(host.receiveRaw('p1', msg('p1', 'two'))).toBeNull();
    expect(host.receiveRaw('p1', msg('p1', 'three'))).toBe('overflow');
    expect(host.overflowed).toBe(1);
    host.turn();
    expect(host.state.log).toEqual(['receive one from p1', 'receive two from p1']);
  });

  it('accepts messages from the spares it is told of, and from no one else, as a reconfiguration brings actors in', () => {
    const { host, msg } = harness();
    expect(host.receiveRaw('a9', msg('a9', 'before'))).toBe('unknownSender');
    host.admit({ proposers: [], acceptors: ['a9'], learners: ['l7'] });
    expect(host.receiveRaw('a9', msg('a9', 'after'))).toBeNull();
    expect(host.receiveRaw('l7', msg('l7', 'after'))).toBeNull();
    expect(host.receiveRaw('l8', msg('l8', 'after'))).toBe('unknownSender');
    // The spares replace the earlier ones; a configured member cannot be a spare.
    host.admit({ proposers: [], acceptors: [], learners: ['l7'] });
    expect(host.receiveRaw('a9', msg('a9', 'dropped'))).toBe('unknownSender');
    expect(() => host.admit({ proposers: ['p1'], acceptors: [], learners: [] })).toThrow(/configured member/);
  });

  it('pause queues inputs; resume asks for a turn', () => {
    const { host, msg, wakes } = harness();
    host.pause();
    host.receiveRaw('p1', msg('p1', 'queued'));
    host.turn();
    expect(host.state.log).toEqual([]);
    const before = wakes();
    host.resume();
    expect(wakes()).toBe(before + 1);
    host.turn();
    expect(host.state.log).toEqual(['receive queued from p1']);
  });

  it('crash points: after-receive fires before the input is stepped; after-persist before the replies leave', () => {
    const a = harness();
    a.host.arm('after-receive');
    a.host.receiveRaw('p1', a.msg('p1', 'm', { do: 'output', tag: 'never' }));
    expect(() => a.host.turn()).toThrow('crashed at after-receive');
    expect(a.host.state.log).toEqual([]);

    const b = harness();
    b.host.receiveRaw('p1', b.msg('p1', 'm', { do: 'persist', record: 'x', reply: { to: 'p1', tag: 'reply' } }));
    b.host.turn();
    b.host.arm('after-persist');
    expect(() => b.appends[0]?.done()).toThrow('crashed at after-persist');
    expect(b.events).not.toContain('send p1 [reply]');
  });

  it('a broken invariant throws out of the turn (the actor must crash), and outputs reach the driver', () => {
    const { host, events, msg } = harness();
    host.receiveRaw('p1', msg('p1', 'fine', { do: 'output', tag: 'o1' }, { do: 'ignore' }));
    host.turn();
    expect(events).toContain('output o1');
    expect(host.counters.ignored).toBe(1);
    host.receiveRaw('p1', msg('p1', 'bad', { do: 'break' }));
    expect(() => host.turn()).toThrow('invariant broken');
  });
});
