/**
 * History recording for the linearizability checker: every operation a
 * {@link LogClient} runs, as Jepsen-format events in real-time order
 * (src/check/history.ts). The recorder is generic over the state machine; a
 * machine whose operations are register operations says how one is written
 * as an event ({@link JepsenForm}; the key-value store's is kvJepsen in
 * src/machines/kv/client.ts, which the simulator's clients use too).
 */
import type { HistoryEvent } from '../../check/history.js';
import type { Value } from '../../core/value.js';
import type { LogClient, OperationObserver } from './log-client.js';

/** The fields of a history event that say which operation it is and what it carried. */
export type JepsenFields = Pick<HistoryEvent, 'f' | 'key' | 'value' | 'swapped'>;

/** How a machine's operations are written as Jepsen events. */
export interface JepsenForm<Op extends Value, A> {
  /** An invocation of `op`, and its completion when the outcome is unknown (`info`). */
  invoked(op: Op): JepsenFields;
  /** The `ok` completion of `op`, which answered `answer`. */
  completed(op: Op, answer: A): JepsenFields;
}

/**
 * Records the operations of a {@link LogClient} (pass it as the client's
 * `observer`). `process` is the client's session, a fresh number after an
 * operation whose outcome is unknown; `time` is milliseconds since the
 * recorder was made, carried along, never used for ordering.
 */
export class HistoryRecorder<Op extends Value, A> implements OperationObserver<Op, A> {
  private readonly events: HistoryEvent[] = [];
  private readonly t0 = performance.now();

  constructor(private readonly form: JepsenForm<Op, A>) {}

  invoked(process: number, op: Op): void {
    this.record(process, 'invoke', this.form.invoked(op));
  }

  completed(process: number, op: Op, answer: A): void {
    this.record(process, 'ok', this.form.completed(op, answer));
  }

  unknown(process: number, op: Op): void {
    this.record(process, 'info', this.form.invoked(op));
  }

  /** Every event so far, in real-time order (a copy). */
  history(): HistoryEvent[] {
    return [...this.events];
  }

  private record(process: number, type: HistoryEvent['type'], fields: JepsenFields): void {
    this.events.push({ process, type, ...fields, time: performance.now() - this.t0 });
  }
}
