/**
 * Pieces the actor worker (workers/actor.ts) needs for either protocol, in
 * the same way: the trace events a worker records until it posts them, the
 * envelope a traced message travels in, the injected crash, the one full
 * garbage collection a worker runs once it has booted, and the thread's id
 * as the operating system knows it.
 */
import { readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ActorId } from '../core/ids.js';
import type { RawTraceEvent } from '../trace/types.js';
import type { TracedEnvelope } from './wire.js';

/** A worker's trace events not yet posted to the main thread, and its send ids. */
export class TraceBuffer {
  private events: RawTraceEvent[] = [];
  private sends = 0;

  constructor(
    private readonly actor: ActorId,
    private readonly incarnation: number,
  ) {}

  get length(): number {
    return this.events.length;
  }

  /** Records an event; `time` is epoch ms, so lanes of different threads line up. */
  record(event: Omit<RawTraceEvent, 'actor' | 'time'>): void {
    this.events.push({ actor: this.actor, time: performance.timeOrigin + performance.now(), ...event });
  }

  /** A fresh id for one copy of a message sent (or lost) by this incarnation: `actor.incarnation.n` (see {@link sentBy}). */
  nextMessageId(): string {
    return `${this.actor}.${this.incarnation}.${++this.sends}`;
  }

  /** The events recorded so far, handed over and forgotten. */
  take(): RawTraceEvent[] {
    const taken = this.events;
    this.events = [];
    return taken;
  }
}

/** `msg` wrapped with the id of its send, as it travels when the cluster traces. */
export function envelope(id: string, msg: unknown): TracedEnvelope {
  return { $trace: id, msg };
}

/** What arrived on a link: the message itself and, if it came in a trace envelope, the id of its send. */
export function unwrap(raw: unknown, tracing: boolean): { readonly data: unknown; readonly msgId?: string } {
  if (tracing && typeof raw === 'object' && raw !== null && '$trace' in raw) {
    const env = raw as TracedEnvelope;
    return { data: env.msg, msgId: String(env.$trace) };
  }
  return { data: raw };
}

/**
 * The control call `crash(how)`: an uncaught exception, thrown from a fresh
 * macrotask (inside the call comlink would catch it and send it back as a
 * reply), or `die` for a process.exit. The call never answers: the caller
 * hears of it when the supervisor sees the worker die, so that whatever it
 * does next finds the actor down (a call then waits for the restart) rather
 * than the dying worker (a call then fails with SYNOD_ACTOR_DOWN).
 */
export function injectCrash(id: ActorId, how: 'exception' | 'exit', die: (cause: Error) => never): Promise<never> {
  if (how === 'exception') {
    setImmediate(() => {
      throw new Error(`injected crash: uncaught exception in ${id}`);
    });
  } else die(new Error(`injected crash: ${id} called process.exit`));
  return new Promise<never>(() => {});
}

/**
 * Asks V8 for one full garbage collection of this thread's heap, now; false
 * if this Node does not allow it (nothing is collected then).
 *
 * Why: V8 runs a worker's first full collection when its old space reaches
 * a small initial limit (about 8 MB here), and booting a worker (the
 * modules of both protocols, lmdb) nearly fills it. Left to itself, that
 * collection lands on whatever allocates next: the first requests a fresh
 * cluster serves, or the start of the actor that takes a spare, where it
 * cost 15 to 120 ms on a busy 2-vCPU machine. Collected while the worker
 * is idle, the limit is then set from what is live, far above what an
 * actor's start needs.
 *
 * `gc` is not exposed without --expose-gc, which a library cannot pass to
 * a worker (V8 flags are per process): the flag is turned on just long
 * enough to take `gc` from a fresh context, then off again, so that code
 * elsewhere in the process does not find a `gc` it did not ask for.
 */
export function collectGarbage(): boolean {
  try {
    setFlagsFromString('--expose-gc');
    try {
      const gc: unknown = runInNewContext('gc');
      if (typeof gc !== 'function') return false;
      gc();
      return true;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  } catch {
    return false;
  }
}

/** Whether traced message id `msgId` (see TraceBuffer.nextMessageId) names a message `actor` sent, in any incarnation. */
export function sentBy(msgId: string, actor: ActorId): boolean {
  return msgId.startsWith(`${actor}.`) && /^\d+\.\d+$/.test(msgId.slice(actor.length + 1));
}

/**
 * The operating system's id of the calling thread, where the system says
 * (Linux: /proc/thread-self links to /proc/<pid>/task/<tid>), or null. Each
 * actor reports its own (`osThreadId` in its state), so a tool can tell
 * which thread of `top -H` or /proc/self/task is which actor.
 */
export function osThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}
