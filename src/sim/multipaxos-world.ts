/**
 * Multi-Paxos (the replicated log) in the simulated world (world.ts): only
 * what this protocol has of its own — the log-safety checker watching its
 * facts, the answers and redirections that go to the driver's clients, the
 * leader it reports, and its printers. Every mechanism is the world's. Its
 * driver is the seeded key-value simulator or a transcript.
 */
import { LogSafetyChecker } from '../check/log-safety.js';
import { ballotGt, type Ballot } from '../core/ballot.js';
import type { ActorId, Role } from '../core/ids.js';
import type { MpActorState } from '../core/multipaxos/actor.js';
import { mpDescriber, type MpDescriber } from '../core/multipaxos/describe.js';
import type { AnyStateMachine } from '../core/multipaxos/machine.js';
import type { Command, MpConfig, MpEffect, MpInput, MpMessage, MpRecord, MpTimer } from '../core/multipaxos/types.js';
import { multiPaxosProtocol, type MultiPaxosTypes } from '../host/multipaxos.js';
import { kvMachine } from '../machines/kv/machine.js';
import type { RawTraceEvent } from '../trace/types.js';
import { SimWorld, type Environment, type SimPending, type WorldProtocol, type WorldStats } from './world.js';

/** Something the world is waiting to happen. */
export type MpPending = SimPending<MpMessage, MpRecord, MpTimer>;

/** An effect addressed to clients: an answer, a redirection, or a refusal for want of a session. */
export type ClientEffect = Extract<MpEffect, { type: 'applied' | 'reject' | 'expired' }>;

/** Counters of one run. */
export interface MpWorldStats extends WorldStats {
  leaderChanges: number;
}

/** Options of an {@link MpWorld}. */
export interface MpWorldOptions {
  /**
   * How long a leader's commits to the other proposers may be held back
   * (virtual ms); by default as the worker threads do, until the next
   * heartbeat; 0 sends them with their turn, which hand-driven transcripts
   * use so that every message is in view.
   */
  readonly lazyMs?: number;
  /** The state machine the log replicates; the key-value store by default. */
  readonly machine?: AnyStateMachine;
  /**
   * The log may reconfigure (see `core/multipaxos/views.ts`): these spare
   * acceptors, learners and proposers are hosted too, idle until a view
   * names them, and the checker works out each slot's view.
   */
  readonly spares?: { readonly acceptors: readonly ActorId[]; readonly learners: readonly ActorId[]; readonly proposers?: readonly ActorId[] };
}

/** How the world hosts Multi-Paxos for one state machine: a role replays every record it wrote. */
function multiPaxosWorld(machine: AnyStateMachine, d: MpDescriber): WorldProtocol<MultiPaxosTypes> {
  return {
    protocol: multiPaxosProtocol(machine),
    print: {
      state: d.state,
      message: d.message,
      input: d.input,
      effect: (e) => d.effect(e),
      write: (records) => records.map(d.record).join('; '),
      restartFrom: (records) => `${records.length} record(s)`,
      traceInput: (input: MpInput) => {
        switch (input.type) {
          case 'receive':
            return { kind: 'receive', msg: input.msg };
          case 'timeout':
            return { kind: 'timer', text: d.input(input) };
          case 'request':
            return { kind: 'propose', text: d.input(input) };
          default:
            return null;
        }
      },
    },
    wholeState: false,
    traceLosses: false,
  };
}

/** The simulated world hosting Multi-Paxos. See the module comment. */
export class MpWorld extends SimWorld<MultiPaxosTypes, MpWorldStats> {
  /** Watches every applied slot, snapshot and acceptor record. */
  readonly checker: LogSafetyChecker;
  /** The most recently elected leader. */
  leader: { readonly id: ActorId; readonly ballot: Ballot } | null = null;
  /** Called with every answer, redirection or refusal meant for a client. */
  onClient: (from: ActorId, e: ClientEffect) => void = () => {};
  /** The printers for the world's state machine. */
  readonly describer: MpDescriber;

  /** `trace` and `onTrace` are the world's text and structured traces (see `SimWorldOptions`). */
  constructor(env: Environment<MpMessage>, config: MpConfig, trace?: (line: string) => void, onTrace?: (e: RawTraceEvent) => void, options: MpWorldOptions = {}) {
    // Spelled out: counters built by spreading emptyStats() make an object whose every increment costs (about 10% of a kv-sim sweep).
    const machine = options.machine ?? kvMachine;
    const describer = mpDescriber(machine);
    const spares = options.spares ? { spares: { proposers: [], ...options.spares } } : {};
    super(multiPaxosWorld(machine, describer), config, env, { ...(options.lazyMs === undefined ? {} : { lazyMs: options.lazyMs }), ...spares, ...(trace ? { trace } : {}), ...(onTrace ? { onTrace } : {}) }, { inputs: 0, sent: 0, delivered: 0, dropped: 0, duplicated: 0, writes: 0, lostWrites: 0, timers: 0, ignored: 0, crashes: 0, restarts: 0, malformed: 0, leaderChanges: 0 });
    this.checker = new LogSafetyChecker(config.members, options.spares ? { alpha: config.window } : {});
    this.describer = describer;
  }

  /** @internal */
  protected override refused(to: ActorId, commands: readonly Command[]): void {
    this.log(() => `request to ${to} lost: it is down`);
    this.emit(() => ({ actor: to, kind: 'drop', text: `request lost, ${to} is down: ${this.describer.input({ type: 'request', commands })}`, time: this.now }));
  }

  /** @internal */
  protected override written(id: ActorId, role: Role, records: readonly MpRecord[]): void {
    if (role === 'acceptor') this.checker.acceptorDurable(id, records, this.step);
  }

  /** @internal */
  protected override recovered(id: ActorId, _role: Role, state: MpActorState, records: readonly MpRecord[]): void {
    if (state.role === 'acceptor') {
      let promised: Ballot | null = null;
      for (const r of records) if (r.kind === 'promised' && ballotGt(r.ballot, promised)) promised = r.ballot;
      this.checker.acceptorRecovered(id, promised, this.step);
    }
    if (state.role === 'learner') this.checker.learnerSnapshot(id, state.nextSlot);
  }

  /** @internal */
  protected override broken(id: ActorId, message: string): void {
    this.checker.invariantBroken(id, message, this.step);
    this.emit(() => ({ actor: id, kind: 'note', text: `invariant broken: ${message}`, time: this.now }));
    this.crash(id);
  }

  /** @internal */
  protected override output(id: ActorId, e: MpEffect): void {
    switch (e.type) {
      case 'appliedSlot':
        this.emit(() => ({ actor: id, kind: 'decide', text: this.describer.effect(e), time: this.now, value: `slot ${e.slot}: ${this.describer.batch(e.batch)}` }));
        this.checker.appliedSlot(id, e.slot, e.batch, this.step);
        return;
      case 'installedSnapshot':
        this.emit(() => ({ actor: id, kind: 'note', text: this.describer.effect(e), time: this.now }));
        this.checker.learnerSnapshot(id, e.upTo);
        return;
      case 'applied':
      case 'reject':
      case 'expired':
        this.emit(() => ({ actor: id, kind: 'note', text: this.describer.effect(e), time: this.now }));
        this.onClient(id, e);
        return;
      case 'elected':
        this.emit(() => ({ actor: id, kind: 'note', text: this.describer.effect(e), time: this.now }));
        if (!this.leader || ballotGt(e.ballot, this.leader.ballot)) {
          this.leader = { id, ballot: e.ballot };
          this.stats.leaderChanges++;
        }
        return;
      default:
        return;
    }
  }
}
