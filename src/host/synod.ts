/**
 * Single-decree Paxos (the Synod protocol) as the hosts see it: one instance
 * of {@link Protocol}. Each durable record is the role's whole durable state,
 * so a role starts from the latest one it wrote.
 */
import { checkInvariants, initActor, stepActor, type ActorState } from '../core/actor.js';
import type { CoreConfig } from '../core/config.js';
import { describeEffect, describeInput, describeMessage, describeRecord, describeState, describeValue } from '../core/describe.js';
import type { DurableRecord, Effect, Input, TimerName } from '../core/effects.js';
import { validateMessage, type Message } from '../core/messages.js';
import type { Value } from '../core/value.js';
import { classifyCommon, OUTPUT, type HostEffect, type Protocol } from './protocol.js';

/** The types of the single-decree protocol. */
export interface SynodTypes {
  readonly state: ActorState;
  readonly input: Input;
  readonly effect: Effect;
  readonly message: Message;
  readonly record: DurableRecord;
  /** A value a client asks a proposer to propose. */
  readonly request: Value;
  readonly config: CoreConfig;
  readonly timer: TimerName;
}

const encoder = new TextEncoder();

/** The single-decree protocol. */
export const synodProtocol: Protocol<SynodTypes> = {
  name: 'synod',
  init: (role, id, config, records) => initActor(role, id, config, records.at(-1) ?? null),
  step: (state, input, random) => stepActor(state, input, random),
  invariants: checkInvariants,
  validate: validateMessage,
  oversized(msg, maxBytes) {
    const value: Value | undefined = msg.type === 'promise' ? msg.accepted?.value : 'value' in msg ? msg.value : undefined;
    return value !== undefined && encoder.encode(JSON.stringify(value)).length > maxBytes;
  },
  // Each persist carries one record: the role's whole durable state.
  classify: (e): HostEffect<SynodTypes> => classifyCommon<SynodTypes>(e) ?? (e.type === 'persist' ? { type: 'persist', records: [e.record], then: e.then } : OUTPUT),
  receive: (msg) => ({ type: 'receive', msg }),
  timeout: (timer) => ({ type: 'timeout', timer }),
  requests: (values) => values.map((value) => ({ type: 'propose', value })),
  start: null,
  lazy: () => false,
  lazyMs: () => 0,
  toWire: (msg) => msg,
  describe: {
    state: describeState,
    message: describeMessage,
    record: describeRecord,
    input: describeInput,
    effect: describeEffect,
    output: (e) => (e.type === 'decide' ? { kind: 'decide', text: `decided ${describeValue(e.value)}`, value: describeValue(e.value) } : null),
  },
};
