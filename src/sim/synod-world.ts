/**
 * Single-decree Paxos in the simulated world (world.ts): only what this
 * protocol has of its own — the safety checker watching its facts, the
 * decisions and chosen values it reports, its printers, and its two control
 * bugs of the host (amnesia, no retry). Every mechanism is the world's.
 */
import type { CoreConfig } from '../core/config.js';
import { describeEffect, describeInput, describeMessage, describeRecord, describeState, describeValue } from '../core/describe.js';
import type { DurableRecord, Effect, Input, TimerName } from '../core/effects.js';
import type { ActorId, Role } from '../core/ids.js';
import type { AcceptedProposal, Message } from '../core/messages.js';
import type { Value } from '../core/value.js';
import { SafetyChecker } from '../check/safety.js';
import { synodProtocol, type SynodTypes } from '../host/synod.js';
import { SimWorld, emptyStats, type Environment, type SimPending, type SimPendingMessage, type SimPendingTimer, type SimPendingWrite, type SimWorldOptions, type WorldProtocol } from './world.js';

/** A message on the simulated network. */
export type PendingMessage = SimPendingMessage<Message>;
/** A storage write in flight (one append of one turn); `record` is the role's whole durable state. */
export type PendingWrite = SimPendingWrite<DurableRecord>;
/** An armed timer. */
export type PendingTimer = SimPendingTimer<TimerName>;
/** Anything the world is waiting to happen. */
export type Pending = SimPending<Message, DurableRecord, TimerName>;

/** Options of the world besides its environment. */
export interface WorldOptions extends Omit<SimWorldOptions, 'lazyMs'> {
  /** The cluster: its members and the protocol's timing. */
  readonly config: CoreConfig;
  /** Control bug (of progress): a proposer's retry timer never fires, so a phase that timed out or was refused is never tried again. */
  readonly noRetry?: boolean;
}

/** How the world hosts single-decree Paxos: each record is the role's whole durable state. */
const synodWorld: WorldProtocol<SynodTypes> = {
  protocol: synodProtocol,
  print: {
    state: describeState,
    message: describeMessage,
    input: describeInput,
    effect: describeEffect,
    write: (records) => describeRecord(records[records.length - 1] as DurableRecord),
    restartFrom: (records) => `{${records.length > 0 ? describeRecord(records[records.length - 1] as DurableRecord) : 'nothing'}}`,
    traceInput: (input: Input) => {
      switch (input.type) {
        case 'receive':
          return { kind: 'receive', msg: input.msg };
        case 'timeout':
          return { kind: 'timer', text: describeInput(input) };
        case 'propose':
          return { kind: 'propose', text: describeInput(input), value: describeValue(input.value) };
      }
    },
  },
  wholeState: true,
  traceLosses: true,
};

/** The simulated world hosting single-decree Paxos. See the module comment. */
export class World extends SimWorld<SynodTypes> {
  /** Watches every decision and acceptor record. */
  readonly checker: SafetyChecker;
  /** Decisions per learner, in the order made. */
  readonly decisions = new Map<ActorId, AcceptedProposal>();
  /** What each proposer was told was chosen. */
  readonly chosen = new Map<ActorId, AcceptedProposal>();

  constructor(env: Environment, private readonly opts: WorldOptions) {
    super(synodWorld, opts.config, env, opts, emptyStats());
    this.checker = new SafetyChecker(opts.config.members);
  }

  /** Actor `id`'s last durable record. */
  durable(id: ActorId): DurableRecord | null {
    return this.records(id)[0] ?? null;
  }

  /** A client asks proposer `id` to propose `value`. */
  propose(id: ActorId, value: Value): void {
    if (this.role(id) !== 'proposer') throw new Error(`${id} is not a proposer`);
    this.request(id, [value]);
  }

  /** Ends the run for the checker; returns every violation. */
  finish() {
    return this.checker.finish(this.step);
  }

  /** @internal */
  protected override requested(values: readonly Value[]): void {
    for (const value of values) this.checker.proposed(value);
  }

  /** @internal */
  protected override refused(id: ActorId, values: readonly Value[]): void {
    for (const value of values) this.log(() => `${id}: propose ${JSON.stringify(value)} refused: crashed`);
  }

  /** @internal */
  protected override silenced(role: Role, timer: string): boolean {
    return this.opts.noRetry === true && role === 'proposer' && timer === 'retry';
  }

  /** @internal */
  protected override written(id: ActorId, _role: Role, records: readonly DurableRecord[]): void {
    const record = records[records.length - 1] as DurableRecord;
    if (record.role === 'acceptor') this.checker.acceptorDurable(id, record, this.step);
  }

  /** @internal */
  protected override recovered(id: ActorId, role: Role, _state: unknown, records: readonly DurableRecord[]): void {
    if (role === 'acceptor') this.checker.acceptorRecovered(id, (records[0] ?? null) as Extract<DurableRecord, { role: 'acceptor' }> | null, this.step);
  }

  /** @internal */
  protected override broken(id: ActorId, message: string): void {
    this.checker.invariantBroken(id, message, this.step);
    this.crash(id, `invariant broken: ${message}`);
  }

  /** @internal */
  protected override output(id: ActorId, e: Effect): void {
    switch (e.type) {
      case 'decide':
        this.emit(() => ({ actor: id, kind: 'decide', text: describeEffect(e, id), time: this.now, value: describeValue(e.value) }));
        this.decisions.set(id, { ballot: e.ballot, value: e.value });
        this.checker.decided(id, { ballot: e.ballot, value: e.value }, this.step);
        return;
      case 'chosen':
        this.emit(() => ({ actor: id, kind: 'note', text: describeEffect(e, id), time: this.now, value: describeValue(e.value) }));
        this.chosen.set(id, { ballot: e.ballot, value: e.value });
        return;
      default:
        return;
    }
  }
}
