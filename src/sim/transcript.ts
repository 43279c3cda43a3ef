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
 * `config multipaxos proposers=N acceptors=N learners=N [window=N] [batch=N] [compact=N]`
 * drives the Multi-Paxos world instead, with the same commands (`timeout A
 * TIMER` names the timer: election, heartbeat, retry, catchup) plus
 *   start                    feed `start` to every actor (arms election timers)
 *   request P CLIENT OP...   a client command to P: `read K`, `write K V`, `cas K FROM TO`
 *                            (each client's sequence numbers count up from 1)
 */
import { coreConfig } from '../core/config.js';
import { describeMessage, describeRecord } from '../core/describe.js';
import { membership, type ActorId } from '../core/ids.js';
import type { Value } from '../core/value.js';
import { describeMpEffect, describeMpMessage, describeMpRecord } from '../core/multipaxos/describe.js';
import { mpConfig, type KvOp } from '../core/multipaxos/types.js';
import { MpWorld, type MpPending } from './mpworld.js';
import { World, type Pending, type PendingMessage } from './world.js';

/** Runs a transcript and returns its text with the actual outputs. */
export function runTranscript(text: string): string {
  const blocks = parseBlocks(text);
  const out: string[] = [];
  const first = blocks[0]?.command ?? '';
  const driver: { run(command: string): string[] } = /^config\s+multipaxos\b/.test(first) ? new MpDriver() : new Driver();
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

class Driver {
  private world: World | null = null;
  private lines: string[] = [];
  private cut: Set<ActorId> | null = null;

  run(command: string): string[] {
    this.lines = [];
    const [verb, ...args] = command.split(/\s+/);
    if (verb === 'config') {
      this.configure(args);
      return ['ok'];
    }
    const w = this.world;
    if (!w) throw new Error('the first command must be config');
    switch (verb) {
      case 'propose': {
        const [p, ...rest] = args;
        w.propose(need(p, 'propose P VALUE'), parseValue(rest.join(' ')));
        break;
      }
      case 'deliver':
        for (const m of this.matching(args)) w.run(m.id);
        break;
      case 'drop':
        for (const m of this.matching(args)) w.drop(m.id);
        break;
      case 'flush':
        for (const p of w.pendingItems()) if (p.kind === 'write' && (args.length === 0 || args.includes(p.actor))) w.run(p.id);
        break;
      case 'timeout': {
        const p = need(args[0], 'timeout P');
        const t = w.pendingItems().find((x) => x.kind === 'timer' && x.actor === p);
        if (!t) throw new Error(`${p} has no timer armed`);
        w.run(t.id);
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
      case 'inject': {
        const [to, ...json] = args;
        w.inject(need(to, 'inject TO JSON'), JSON.parse(json.join(' ')) as unknown);
        break;
      }
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
        this.lines.push(...w.pendingItems().map(describePending));
        if (this.lines.length === 0) this.lines.push('nothing pending');
        break;
      case 'check': {
        const v = w.checker.violations;
        this.lines.push(v.length === 0 ? 'safe' : `${v.length} violation(s)`, ...v.map((x) => `${x.kind}: ${x.message}`));
        break;
      }
      default:
        throw new Error(`unknown command ${JSON.stringify(verb)}`);
    }
    return this.lines.length > 0 ? this.lines : ['(nothing happened)'];
  }

  private configure(args: string[]): void {
    const opt = parseOptions(args);
    const n = (k: string, d: number) => (opt[k] === undefined ? d : Number(opt[k]));
    const members = membership(n('proposers', 2), n('acceptors', 3), n('learners', 1));
    const config = coreConfig(members, {
      bugs: { ignoreAccepted: opt.bug === 'ignore-accepted', reuseBallot: opt.bug === 'reuse-ballot' },
      ...(opt.maxRoundJump ? { maxRoundJump: Number(opt.maxRoundJump) } : {}),
    });
    const linkUp = (a: ActorId, b: ActorId) => this.cut === null || this.cut.has(a) === this.cut.has(b);
    this.world = new World(
      // Everything happens only when a command says so: no delays, no losses, a fixed random draw.
      { random: () => 0.5, sendDelays: (a, b) => (linkUp(a, b) ? [0] : []), linkUp, writeDelay: () => 0 },
      { config, amnesia: opt.bug === 'amnesia', trace: (l) => this.lines.push(l) },
    );
  }

  private matching(filters: string[]): PendingMessage[] {
    const msgs = (this.world as World).pendingItems().filter((p): p is PendingMessage => p.kind === 'msg');
    return matchMessages(msgs, filters);
  }
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

/** Drives an {@link MpWorld} by hand, as {@link Driver} does a {@link World}. */
class MpDriver {
  private world: MpWorld | null = null;
  private lines: string[] = [];
  private cut: Set<ActorId> | null = null;
  private readonly seqs = new Map<string, number>();

  run(command: string): string[] {
    this.lines = [];
    const [verb, ...args] = command.split(/\s+/);
    if (verb === 'config') {
      this.configure(args.slice(1));
      return ['ok'];
    }
    const w = this.world;
    if (!w) throw new Error('the first command must be config');
    switch (verb) {
      case 'start':
        w.start();
        break;
      case 'request': {
        const [p, client, f, key, ...rest] = args;
        const seq = (this.seqs.get(need(client, 'request P CLIENT OP')) ?? 0) + 1;
        this.seqs.set(client as string, seq);
        w.request(need(p, 'request P CLIENT OP'), [{ clientId: client as string, seq, op: parseOp(f, need(key, 'request P CLIENT OP KEY ...'), rest) }]);
        break;
      }
      case 'deliver':
        for (const m of matchMessages(this.messages(), args)) w.run(m.id);
        break;
      case 'drop':
        for (const m of matchMessages(this.messages(), args)) w.drop(m.id);
        break;
      case 'flush':
        for (const p of w.pendingItems()) if (p.kind === 'write' && (args.length === 0 || args.includes(p.actor))) w.run(p.id);
        break;
      case 'timeout': {
        const [a, timer] = args;
        const t = w.pendingItems().find((x) => x.kind === 'timer' && x.actor === a && (timer === undefined || x.timer === timer));
        if (!t) throw new Error(`${a} has no ${timer ?? ''} timer armed`);
        w.run(t.id);
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
        this.lines.push(...w.pendingItems().map(describeMpPending));
        if (this.lines.length === 0) this.lines.push('nothing pending');
        break;
      case 'check': {
        const v = w.checker.violations;
        this.lines.push(v.length === 0 ? 'safe' : `${v.length} violation(s)`, ...v.map((x) => `${x.kind}: ${x.message}`));
        break;
      }
      default:
        throw new Error(`unknown command ${JSON.stringify(verb)}`);
    }
    return this.lines.length > 0 ? this.lines : ['(nothing happened)'];
  }

  private messages() {
    return (this.world as MpWorld).pendingItems().filter((p): p is Extract<MpPending, { kind: 'msg' }> => p.kind === 'msg');
  }

  private configure(args: string[]): void {
    const opt = parseOptions(args);
    const n = (k: string, d: number) => (opt[k] === undefined ? d : Number(opt[k]));
    const config = mpConfig(membership(n('proposers', 2), n('acceptors', 3), n('learners', 1)), { window: n('window', 4), batchMax: n('batch', 4), compactEvery: n('compact', 0) });
    const linkUp = (a: ActorId, b: ActorId) => this.cut === null || this.cut.has(a) === this.cut.has(b);
    // Nothing happens unless a command says so: no delays, no losses, a fixed random draw.
    this.world = new MpWorld({ random: () => 0.5, sendDelays: (a, b) => (linkUp(a, b) ? [0] : []), linkUp, writeDelay: () => 0 }, config, (l) => this.lines.push(l));
    this.world.onClient = (from, e) => this.lines.push(`  -> client from ${from}: ${describeMpEffect(e)}`);
  }
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

function describeMpPending(p: MpPending): string {
  switch (p.kind) {
    case 'msg':
      return `message ${describeMpMessage(p.msg, p.to)}`;
    case 'write':
      return `write ${p.actor} {${p.records.map(describeMpRecord).join('; ')}}`;
    case 'timer':
      return `timer ${p.actor} ${p.timer} at ${p.at}`;
  }
}
