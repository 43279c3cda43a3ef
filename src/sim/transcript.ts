/**
 * Transcript tests: a small command language that drives a {@link World} by
 * hand — nothing happens unless a command says so — and prints what each
 * command made happen. A transcript file holds blocks of
 *
 *     command line
 *     ----
 *     expected output
 *
 * separated by blank lines; `#` starts a comment line. {@link runTranscript}
 * returns the file with every expected output replaced by the actual one, so
 * a test compares the two and `REWRITE=1` writes it back.
 *
 * Commands:
 *   config proposers=N acceptors=N learners=N [bug=ignore-accepted|reuse-ballot|amnesia] [maxRoundJump=N]
 *   propose P VALUE          a client request (VALUE is JSON, or a bare word taken as a string)
 *   deliver [FILTER...]      deliver the matching messages pending now, oldest first
 *   drop [FILTER...]         lose the matching pending messages
 *   flush [ACTOR...]         complete pending storage writes (all, or of the actors named)
 *   timeout P                fire P's retry timer
 *   crash A / restart A      crash an actor (pending writes lost) / restart it from its durable record
 *   partition A,B,...        cut the named actors off from the rest;  heal  ends it
 *   inject TO JSON           put raw, untrusted input on the wire to TO (validated as a host would)
 *   stabilize                deliver messages and complete writes until only timers are left
 *   state [ACTOR...]         print actors' states
 *   pending                  list pending messages, writes and timers
 *   check                    print the safety checker's verdict
 * A FILTER is `from->to`, `from->*`, `*->to` or a message type such as `promise`.
 *
 * `config multipaxos proposers=N acceptors=N learners=N [window=N] [batch=N] [compact=N] [acceptBytes=N] [reads=index|log] [spareAcceptors=N] [spareLearners=N] [spareProposers=N] [bug=trim-keeps-inflight|unwindowed-recovery|read-without-quorum|view-before-chosen]`
 * drives the Multi-Paxos world instead, with the same commands (`timeout A
 * TIMER` names the timer: election, heartbeat, retry, catchup; `A` may be a
 * comma-separated list, fired in order) plus
 *   start                    feed `start` to every actor (arms election timers)
 *   request P CLIENT OP...   a client command to P: `read K`, `write K V`, `cas K FROM TO`
 *                            (each client's sequence numbers count up from 1)
 *   resend P CLIENT          the client's last command again, to P (a client's retry)
 *   inject TO JSON           as above, a raw Multi-Paxos message in wire form
 *   reconfigure P CLIENT EPOCH ACCEPTORS LEARNERS [PROPOSERS]
 *                            a reconfiguration to P: view EPOCH is followed by these
 *                            (comma-separated) acceptors and learners, and proposers
 *                            (the configured ones when not given); spares (a<N+1>…,
 *                            l<N+1>…, p<N+1>…, see spareAcceptors/spareLearners/
 *                            spareProposers) are hosted from the start, idle until a
 *                            view names them
 */
import { coreConfig } from '../core/config.js';
import { describeMessage, describeRecord } from '../core/describe.js';
import { membership, type ActorId } from '../core/ids.js';
import type { Value } from '../core/value.js';
import { mpConfig, type Command } from '../core/multipaxos/types.js';
import type { KvOp } from '../machines/kv/machine.js';
import { MpWorld, type MpPending } from './multipaxos-world.js';
import type { Violation } from '../check/types.js';
import { World, type Pending } from './synod-world.js';
import type { Environment } from './world.js';

/** Runs a transcript and returns its text with the actual outputs. */
export function runTranscript(text: string): string {
  const blocks = parseBlocks(text);
  const out: string[] = [];
  const first = blocks[0]?.command ?? '';
  const driver = /^config\s+multipaxos\b/.test(first) ? new Driver(multiPaxos()) : new Driver(synod);
  for (const b of blocks) {
    out.push(...b.comments, b.command, '----');
    let lines: string[];
    try {
      lines = driver.run(b.command);
    } catch (err) {
      lines = [`error: ${(err as Error).message}`];
    }
    out.push(...lines, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

interface Block {
  readonly comments: string[];
  readonly command: string;
}

function parseBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let comments: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    if (line.trim() === '') continue;
    blocks.push({ comments, command: line.trim() });
    comments = [];
    if (lines[i + 1]?.trim() === '----') {
      i++;
      while (i + 1 < lines.length && (lines[i + 1] as string).trim() !== '') i++;
    }
  }
  return blocks;
}

/** A world as a transcript sees it: what the simulated world has for every protocol, with its checker. */
interface DrivenWorld {
  pendingItems(): Array<
    | { readonly kind: 'msg'; readonly id: number; readonly from: ActorId; readonly to: ActorId; readonly msg: { readonly type: string } }
    | { readonly kind: 'write'; readonly id: number; readonly actor: ActorId }
    | { readonly kind: 'timer'; readonly id: number; readonly actor: ActorId; readonly timer: string }
  >;
  run(id: number): boolean;
  drop(id: number): boolean;
  crash(id: ActorId): void;
  restart(id: ActorId): void;
  describe(): string[];
  readonly checker: { readonly violations: readonly Violation[] };
}

/** What differs between protocols: how the world is built, what a pending item prints as, and the protocol's own commands. */
interface Protocol<W extends DrivenWorld> {
  /** Builds the world from `config` options; `linkUp` reflects partition/heal; every trace line goes to `log`. */
  create(opt: Record<string, string>, linkUp: (a: ActorId, b: ActorId) => boolean, log: (line: string) => void): W;
  describePending(world: W, id: number): string;
  /** Runs a protocol-specific command; false if `verb` is not one. */
  command(world: W, verb: string, args: string[]): boolean;
}

/** Drives a simulated world by hand, one command at a time. */
class Driver<W extends DrivenWorld> {
  private world: W | null = null;
  private lines: string[] = [];
  private cut: Set<ActorId> | null = null;

  constructor(private readonly protocol: Protocol<W>) {}

  run(command: string): string[] {
    this.lines = [];
    const [verb = '', ...args] = command.split(/\s+/);
    if (verb === 'config') {
      const linkUp = (a: ActorId, b: ActorId) => this.cut === null || this.cut.has(a) === this.cut.has(b);
      this.world = this.protocol.create(parseOptions(args.filter((a) => a !== 'multipaxos')), linkUp, (l) => this.lines.push(l));
      return ['ok'];
    }
    const w = this.world;
    if (!w) throw new Error('the first command must be config');
    const messages = () => w.pendingItems().filter((p) => p.kind === 'msg');
    switch (verb) {
      case 'deliver':
        for (const m of matchMessages(messages(), args)) w.run(m.id);
        break;
      case 'drop':
        for (const m of matchMessages(messages(), args)) w.drop(m.id);
        break;
      case 'flush':
        for (const p of w.pendingItems()) if (p.kind === 'write' && (args.length === 0 || args.includes(p.actor))) w.run(p.id);
        break;
      case 'timeout': {
        const [list, timer] = args;
        for (const a of need(list, 'timeout A[,B...] [TIMER]').split(',')) {
          const t = w.pendingItems().find((x) => x.kind === 'timer' && x.actor === a && (timer === undefined || x.timer === timer));
          if (!t) throw new Error(`${a} has no ${timer === undefined ? '' : `${timer} `}timer armed`);
          w.run(t.id);
        }
        break;
      }
      case 'crash':
        w.crash(need(args[0], 'crash A'));
        break;
      case 'restart':
        w.restart(need(args[0], 'restart A'));
        break;
      case 'partition':
        this.cut = new Set(need(args[0], 'partition A,B,...').split(','));
        this.lines.push(`partition {${[...this.cut].join(',')}} from the rest`);
        break;
      case 'heal':
        this.cut = null;
        this.lines.push('healed');
        break;
      case 'stabilize':
        for (let guard = 0; guard < 10_000; guard++) {
          const next = w.pendingItems().find((p) => p.kind !== 'timer');
          if (!next) break;
          w.run(next.id);
        }
        break;
      case 'state':
        this.lines.push(...w.describe().filter((l) => args.length === 0 || args.includes(l.split(' ')[0] as string)));
        break;
      case 'pending':
        this.lines.push(...w.pendingItems().map((p) => this.protocol.describePending(w, p.id)));
        if (this.lines.length === 0) this.lines.push('nothing pending');
        break;
      case 'check': {
        const v = w.checker.violations;
        this.lines.push(v.length === 0 ? 'safe' : `${v.length} violation(s)`, ...v.map((x) => `${x.kind}: ${x.message}`));
        break;
      }
      default:
        if (!this.protocol.command(w, verb, args)) throw new Error(`unknown command ${JSON.stringify(verb)}`);
    }
    return this.lines.length > 0 ? this.lines : ['(nothing happened)'];
  }
}

/** Nothing happens unless a command says so: no delays, no losses, a fixed random draw. */
function handDriven<M>(linkUp: (a: ActorId, b: ActorId) => boolean): Environment<M> {
  return { random: () => 0.5, sendDelays: (a, b) => (linkUp(a, b) ? [0] : []), linkUp, writeDelay: () => 0 };
}

const num = (opt: Record<string, string>, k: string, d: number) => (opt[k] === undefined ? d : Number(opt[k]));

/** Single-decree Paxos: `propose P VALUE` and `inject TO JSON`. */
const synod: Protocol<World> = {
  create(opt, linkUp, log) {
    const config = coreConfig(membership(num(opt, 'proposers', 2), num(opt, 'acceptors', 3), num(opt, 'learners', 1)), {
      bugs: { ignoreAccepted: opt.bug === 'ignore-accepted', reuseBallot: opt.bug === 'reuse-ballot' },
      ...(opt.maxRoundJump ? { maxRoundJump: Number(opt.maxRoundJump) } : {}),
    });
    return new World(handDriven(linkUp), { config, amnesia: opt.bug === 'amnesia', trace: log });
  },
  describePending(world, id) {
    return describePending(world.pendingItem(id) as Pending);
  },
  command(world, verb, args) {
    if (verb === 'propose') {
      const [p, ...rest] = args;
      world.propose(need(p, 'propose P VALUE'), parseValue(rest.join(' ')));
      return true;
    }
    if (verb === 'inject') {
      const [to, ...json] = args;
      world.inject(need(to, 'inject TO JSON'), JSON.parse(json.join(' ')) as unknown);
      return true;
    }
    return false;
  },
};

/** Multi-Paxos: `start`, `request P CLIENT OP...` (each client's sequence numbers count up from 1) and `inject TO JSON`. */
function multiPaxos(): Protocol<MpWorld> {
  const seqs = new Map<string, number>();
  const last = new Map<string, Command>();
  return {
    create(opt, linkUp, log) {
      const members = membership(num(opt, 'proposers', 2), num(opt, 'acceptors', 3), num(opt, 'learners', 1));
      const spareIds = (prefix: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${from + i + 1}`);
      const spares = { acceptors: spareIds('a', members.acceptors.length, num(opt, 'spareAcceptors', 0)), learners: spareIds('l', members.learners.length, num(opt, 'spareLearners', 0)), proposers: spareIds('p', members.proposers.length, num(opt, 'spareProposers', 0)) };
      const config = mpConfig(members, {
        window: num(opt, 'window', 4),
        batchMax: num(opt, 'batch', 4),
        compactEvery: num(opt, 'compact', 0),
        ...(opt.acceptBytes ? { maxAcceptBytes: Number(opt.acceptBytes) } : {}),
        ...(opt.reads === 'log' || opt.reads === 'index' ? { reads: opt.reads } : {}),
        ...(opt.learn === 'commit' || opt.learn === 'votes' ? { learn: opt.learn } : {}),
        bugs: { trimKeepsInflight: opt.bug === 'trim-keeps-inflight', unwindowedRecovery: opt.bug === 'unwindowed-recovery', readWithoutQuorum: opt.bug === 'read-without-quorum', viewBeforeChosen: opt.bug === 'view-before-chosen', voteWithoutQuorum: opt.bug === 'vote-without-quorum' },
      });
      // Commits go out with their turn, so that every message is in view of the transcript.
      const reconfigures = spares.acceptors.length + spares.learners.length + spares.proposers.length > 0 || opt.reconfig !== undefined;
      const world = new MpWorld(handDriven(linkUp), config, log, undefined, { lazyMs: 0, ...(reconfigures ? { spares } : {}) });
      world.onClient = (from, e) => log(`  -> client from ${from}: ${world.describer.effect(e)}`);
      return world;
    },
    describePending(world, id) {
      return describeMpPending(world, world.pendingItems().find((p) => p.id === id) as MpPending);
    },
    command(world, verb, args) {
      if (verb === 'start') {
        world.start();
        return true;
      }
      if (verb === 'request') {
        const [p, client, f, key, ...rest] = args;
        const usage = 'request P CLIENT read K | write K V | cas K FROM TO';
        const seq = (seqs.get(need(client, usage)) ?? 0) + 1;
        seqs.set(client as string, seq);
        const command: Command = { clientId: client as string, seq, op: parseOp(f, need(key, usage), rest) };
        last.set(command.clientId, command);
        world.request(need(p, usage), [command]);
        return true;
      }
      if (verb === 'resend') {
        const [p, client] = args;
        const usage = 'resend P CLIENT';
        const command = last.get(need(client, usage));
        if (command === undefined) throw new Error(`${client} has sent nothing yet`);
        world.request(need(p, usage), [command]);
        return true;
      }
      if (verb === 'inject') {
        const [to, ...json] = args;
        world.inject(need(to, 'inject TO JSON'), JSON.parse(json.join(' ')) as unknown);
        return true;
      }
      if (verb === 'reconfigure') {
        const [p, client, epoch, acceptors, learners, proposers] = args;
        const usage = 'reconfigure P CLIENT EPOCH ACCEPTORS LEARNERS [PROPOSERS] (comma-separated ids)';
        const seq = (seqs.get(need(client, usage)) ?? 0) + 1;
        seqs.set(client as string, seq);
        const members = { proposers: proposers === undefined ? world.config.members.proposers : proposers.split(','), acceptors: need(acceptors, usage).split(','), learners: need(learners, usage).split(',') };
        world.request(need(p, usage), [{ clientId: client as string, seq, op: {}, reconfig: { epoch: Number(need(epoch, usage)), members } }]);
        return true;
      }
      return false;
    },
  };
}

/** The pending messages that match any filter (all of them when there is none). */
function matchMessages<M extends { readonly from: ActorId; readonly to: ActorId; readonly msg: { readonly type: string } }>(msgs: M[], filters: readonly string[]): M[] {
  if (filters.length === 0) return msgs;
  return msgs.filter((m) =>
    filters.some((f) => {
      const arrow = /^([\w*]+)->([\w*]+)$/.exec(f);
      if (arrow) return (arrow[1] === '*' || arrow[1] === m.from) && (arrow[2] === '*' || arrow[2] === m.to);
      return m.msg.type === f;
    }),
  );
}

function describePending(p: Pending): string {
  switch (p.kind) {
    case 'msg':
      return `message ${describeMessage(p.msg, p.to)}`;
    case 'write':
      return `write ${p.actor} {${describeRecord(p.record)}}`;
    case 'timer':
      return `timer ${p.actor} ${p.timer} at ${p.at}`;
  }
}

function describeMpPending(world: MpWorld, p: MpPending): string {
  switch (p.kind) {
    case 'msg':
      return `message ${world.describer.message(p.msg, p.to)}`;
    case 'write':
      return `write ${p.actor} {${p.records.map(world.describer.record).join('; ')}}`;
    case 'timer':
      return `timer ${p.actor} ${p.timer} at ${p.at}`;
  }
}

function parseValue(text: string): Value {
  try {
    return JSON.parse(text) as Value;
  } catch {
    return text;
  }
}

function need(x: string | undefined, usage: string): string {
  if (x === undefined || x === '') throw new Error(`usage: ${usage}`);
  return x;
}

/** `key=value` words as a record (a bare word is `true`). */
function parseOptions(args: readonly string[]): Record<string, string> {
  const opt: Record<string, string> = {};
  for (const a of args) {
    const [k, v] = a.split('=');
    opt[k as string] = v ?? 'true';
  }
  return opt;
}

function parseOp(f: string | undefined, key: string, rest: string[]): KvOp {
  const value = (i: number): Value => parseValue(need(rest[i], `${f} ${key} needs a value`));
  switch (f) {
    case 'read':
      return { f: 'read', key };
    case 'write':
      return { f: 'write', key, value: value(0) };
    case 'cas':
      return { f: 'cas', key, from: value(0), to: value(1) };
    default:
      throw new Error(`unknown operation ${JSON.stringify(f)}: use read, write or cas`);
  }
}
