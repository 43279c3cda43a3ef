/**
 * Pieces the actor worker (workers/actor.ts) needs for either protocol, in
 * the same way: the trace events a worker records until it posts them, the
 * envelope a traced message travels in, and the injected crash.
 */
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

  /** A fresh id for one copy of a message sent (or lost) by this incarnation. */
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
