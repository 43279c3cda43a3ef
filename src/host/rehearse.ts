/**
 * A rehearsal: one run of a protocol among scratch turn hosts inside this
 * thread, with no timers, no links and the storage the caller gives, so that
 * V8 compiles the code of a turn before an actor's first real inputs need it.
 *
 * Why: V8 compiles a function the first time it runs, and a fresh worker runs
 * most of the turn code (the turn host, the protocol seam, message
 * validation, the role cores, record encoding) for the first time on its
 * first requests. A single-decree cluster decides once, so that compilation
 * was most of the CPU time of its decision: about 5 ms in all of a 2/3/1
 * cluster's workers, on the path of the decision. A worker rehearses while
 * it is idle (see workers/actor.ts), after its one full collection.
 *
 * Nothing of a rehearsal leaves it: each scratch host's sends go only to the
 * other scratch hosts (as raw messages, so they are validated as a peer's
 * would be), its appends only to the storage `append` opens, and its outputs
 * only to the returned list. Timers are never armed, so a rehearsal ends
 * once no message, turn or append is pending.
 *
 * A rehearsal is idle work and must never delay real work: it runs in
 * slices of at most {@link SLICE_MS}, giving the event loop a turn between
 * them (so a spare taken by a restart reads its 'init' at once), and
 * {@link stopRehearsals} ends every rehearsal under way at its next step.
 */
import { allActors, roleOf, type ActorId, type Role } from '../core/ids.js';
import type { Protocol, ProtocolTypes } from './protocol.js';
import { TurnHost, type HostIO } from './turn.js';

/** The longest a rehearsal runs before it lets the event loop take a turn, in ms. */
export const SLICE_MS = 1;

/** Counts {@link stopRehearsals} calls: a rehearsal begun before the latest one stops. */
let stops = 0;

/**
 * Ends every rehearsal under way in this thread at its next step (each
 * resolves with the outputs it has so far): real work has come (an actor is
 * taking the worker), and it must not wait for idle work. Rehearsals begun
 * later run as usual.
 */
export function stopRehearsals(): void {
  stops++;
}

/** What to rehearse: a configuration, the client requests, and where appends go. */
export interface RehearsalScript<T extends ProtocolTypes> {
  readonly config: T['config'];
  /** Requests given to scratch actors once all are started, in order. */
  readonly requests: ReadonlyArray<readonly [ActorId, T['request']]>;
  /** Appends `records` to scratch actor `id`'s storage; resolves once they are "durable". */
  append(id: ActorId, records: readonly T['record'][]): Promise<void>;
  /** Passed to each scratch host (see TurnHostOptions). */
  readonly maxValueBytes: number;
}

/**
 * Runs `script` among scratch hosts of `protocol`, one per member of its
 * configuration, and resolves with every output they produced, in order.
 * Rejects with the first error any of them threw (a rehearsal never throws
 * out of the microtasks it runs in).
 */
export function rehearse<T extends ProtocolTypes>(protocol: Protocol<T>, script: RehearsalScript<T>): Promise<T['effect'][]> {
  return new Promise((resolve, reject) => {
    const hosts = new Map<ActorId, TurnHost<T>>();
    const outputs: T['effect'][] = [];
    let pending = 0;
    let failure: { readonly err: unknown } | null = null;
    let settled = false;
    const begun = stops;
    const stopped = (): boolean => stops !== begun;
    const finish = (): void => {
      if (settled || (pending > 0 && !stopped())) return;
      settled = true;
      if (failure !== null) reject(failure.err);
      else resolve(outputs);
    };
    /** The pieces of work waiting to run, in order. */
    const queue: Array<() => void> = [];
    let pumping = false;
    /** Runs queued pieces for at most SLICE_MS, then yields to the event loop and goes on. */
    const pump = (): void => {
      pumping = false;
      const until = performance.now() + SLICE_MS;
      while (queue.length > 0 && !stopped()) {
        const f = queue.shift() as () => void;
        try {
          if (failure === null) f();
        } catch (err) {
          failure = { err };
        }
        pending--;
        if (queue.length > 0 && performance.now() >= until) break;
      }
      if (stopped()) queue.length = 0;
      if (queue.length > 0) {
        pumping = true;
        setImmediate(pump);
      }
      finish();
    };
    /** Queues `f` as a separate piece of work; the rehearsal ends when none is pending. */
    const later = (f: () => void): void => {
      pending++;
      queue.push(f);
      if (!pumping) {
        pumping = true;
        queueMicrotask(pump);
      }
    };
    const fail = (err: unknown): never => {
      throw err;
    };
    try {
      for (const id of allActors(script.config.members)) {
        let woken = false;
        const io: HostIO<T> = {
          random: () => 0.5,
          append(records, done, failed) {
            pending++;
            script.append(id, records).then(
              () => {
                pending--;
                later(done);
              },
              (err: unknown) => {
                pending--;
                later(() => failed(err));
              },
            );
          },
          send(to, msgs) {
            later(() => {
              for (const msg of msgs) hosts.get(to)?.receiveRaw(id, protocol.toWire(msg));
            });
          },
          output: (e) => void outputs.push(e),
          durable: () => {},
          arm: () => {},
          disarm: () => {},
          wake() {
            if (woken) return;
            woken = true;
            later(() => {
              woken = false;
              host.turn();
            });
          },
          endTurn: () => {},
          crash: (_point, cause) => fail(cause),
          failed: fail,
        };
        const host: TurnHost<T> = new TurnHost(protocol, id, roleOf(script.config.members, id) as Role, script.config, [], io, {
          mailboxLimit: 1024,
          lazyMs: 0,
          maxValueBytes: script.maxValueBytes,
        });
        hosts.set(id, host);
      }
      for (const host of hosts.values()) host.start();
      for (const [id, request] of script.requests) hosts.get(id)?.request(request);
    } catch (err) {
      failure = { err };
    }
    finish();
  });
}
