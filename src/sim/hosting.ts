/**
 * What both simulated worlds (world.ts, mpworld.ts) do alike when they host
 * an actor through the turn host: armed timers as pending items of the
 * world, the parts of a HostIO a simulated world never uses, and a turn that
 * crashes its actor on a broken invariant instead of the whole run.
 */
import { AssertionError } from '../core/assert.js';
import type { ActorId } from '../core/ids.js';
import type { ProtocolTypes } from '../host/protocol.js';
import type { HostIO, TurnHost } from '../host/turn.js';

/** A timer armed in a simulated world: a pending item that fires it. */
export interface SimTimer {
  readonly kind: 'timer';
  readonly id: number;
  readonly at: number;
  readonly actor: ActorId;
  readonly timer: string;
  /** The generation of the arming (a firing of an older one is stale). */
  readonly gen: number;
}

/** What a world lends the timers of one actor: its clock, ids and pending items. */
export interface TimerSpace {
  readonly now: number;
  nextTimerId(): number;
  addTimer(t: SimTimer): void;
  removePending(id: number): void;
}

/** The timer part of a simulated actor's HostIO: arming replaces the pending item of the timer's earlier arming. */
export function simTimers<T extends ProtocolTypes>(actor: ActorId, timers: Map<string, number>, world: TimerSpace): Pick<HostIO<T>, 'arm' | 'disarm'> {
  return {
    arm(name, delay, gen) {
      const old = timers.get(name);
      if (old !== undefined) world.removePending(old);
      const id = world.nextTimerId();
      timers.set(name, id);
      world.addTimer({ kind: 'timer', id, at: world.now + delay, actor, timer: name, gen });
    },
    disarm(name) {
      const old = timers.get(name);
      if (old !== undefined) world.removePending(old);
      timers.delete(name);
    },
  };
}

/** The parts of a HostIO a simulated world has no use for: it runs every turn itself, and has no crash points and no failing disks. */
export function simQuiet<T extends ProtocolTypes>(): Pick<HostIO<T>, 'wake' | 'endTurn' | 'crash' | 'failed' | 'durable'> {
  return {
    wake: () => {},
    endTurn: () => {},
    durable: () => {},
    crash(point) {
      throw new Error(`crash point ${point} armed in the simulator, which has none`);
    },
    failed(err) {
      throw err;
    },
  };
}

/**
 * Runs `body` against an actor's host; a broken invariant crashes the actor
 * (`broken` is told why), as in the runtime where it kills the thread, and
 * the run goes on. Anything else is a bug of the simulator and is thrown.
 */
export function guardedTurn<T extends ProtocolTypes>(host: TurnHost<T> | null, body: (host: TurnHost<T>) => void, broken: (message: string) => void): void {
  if (!host) return;
  try {
    body(host);
  } catch (err) {
    if (!(err instanceof AssertionError)) throw err;
    broken(err.message);
  }
}
