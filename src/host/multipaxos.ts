/**
 * Multi-Paxos (the replicated log) as the hosts see it: one instance of
 * {@link Protocol} per state machine the log carries (the machine validates
 * and describes what commands mean). A role starts by replaying every record
 * it wrote, in order; a leader batches every client command of a turn into
 * one request.
 */
import { checkMpInvariants, initMpActor, stepMpActor, type MpActorState } from '../core/multipaxos/actor.js';
import { mpDescriber } from '../core/multipaxos/describe.js';
import type { AnyStateMachine } from '../core/multipaxos/machine.js';
import type { Command, MpConfig, MpEffect, MpInput, MpMessage, MpRecord, MpTimer } from '../core/multipaxos/types.js';
import { committedJson, toWire, validateMpMessage } from '../core/multipaxos/wire.js';
import { classifyCommon, OUTPUT, type HostEffect, type Protocol } from './protocol.js';

const encoder = new TextEncoder();

/** The types of the Multi-Paxos protocol. */
export interface MultiPaxosTypes {
  readonly state: MpActorState;
  readonly input: MpInput;
  readonly effect: MpEffect;
  readonly message: MpMessage;
  readonly record: MpRecord;
  /** A client command for a proposer. */
  readonly request: Command;
  readonly config: MpConfig;
  readonly timer: MpTimer;
}

/** Long describe() texts (a batch of hundreds of commands) are cut for traces. */
function short(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}... (${text.length - 300} more characters)` : text;
}

/** The Multi-Paxos protocol, replicating `machine`. */
export function multiPaxosProtocol(machine: AnyStateMachine): Protocol<MultiPaxosTypes> {
  const d = mpDescriber(machine);
  return {
    name: 'multipaxos',
    init: (role, id, config, records) => initMpActor(role, id, config, machine, records),
    step: stepMpActor,
    invariants: checkMpInvariants,
    validate: (raw) => validateMpMessage(raw, machine),
    // Each batch is checked against the bound (one slot's JSON text, cached from when it arrived); a snapshot is a whole state machine and is not.
    oversized(msg, maxBytes) {
      if (msg.type !== 'accept' && msg.type !== 'commit' && msg.type !== 'promise') return false;
      for (const e of msg.entries) {
        const text = committedJson(e.value);
        if (text.length > maxBytes || (text.length * 3 > maxBytes && encoder.encode(text).length > maxBytes)) return true;
      }
      return false;
    },
    // A persist has the shape the host sorts it into: it is its own sorted form, as the shared effects are.
    classify: (e): HostEffect<MultiPaxosTypes> => classifyCommon<MultiPaxosTypes>(e) ?? (e.type === 'persist' ? e : OUTPUT),
    receive: (msg) => ({ type: 'receive', msg }),
    timeout: (timer) => ({ type: 'timeout', timer }),
    requests: (commands) => (commands.length === 0 ? [] : [{ type: 'request', commands }]),
    start: { type: 'start' },
    // Commits from the leader to the other proposers only keep a follower's copy of the log current for when it leads.
    // With `learn: 'votes'` the learners take slots from the acceptors' votes, and the leader's commits to them only serve one that missed some: all its commits are lazy.
    lazy: (from, config, to, msg) => msg.type === 'commit' && from.role === 'proposer' && (config.learn === 'votes' || config.members.proposers.includes(to)),
    // Until the leader's next heartbeat at the latest, which goes to every proposer and takes them along (held messages leave
    // ahead of anything else to the same peer): a follower then wakes once a heartbeat period for them, not every few ms.
    lazyMs: (config) => config.heartbeatMs,
    toWire,
    describe: {
      state: d.state,
      message: (m, to) => short(d.message(m, to)),
      record: d.record,
      input: (i) => short(d.input(i)),
      effect: (e) => d.effect(e),
      output: (e) => (e.type === 'appliedSlot' ? { kind: 'decide', text: short(`applied slot ${e.slot}: ${d.batch(e.batch)}`), value: `slot ${e.slot}` } : null),
    },
  };
}
