/**
 * How long an `adaptive` ring end spins before it goes to sleep: a pure
 * policy (no clock of its own; the caller passes the time), so it can be
 * tested with a fake clock.
 *
 * Waking a sleeping thread costs about as much as a round trip between two
 * busy ones (tens of microseconds on a small VM: a futex wake, and an idle
 * vCPU brought back). A receiver that finds its ring empty can instead
 * watch the ring for a while. Spinning for as long as a wake-up costs, then
 * sleeping, never costs more than twice the better of the two choices made
 * with hindsight (the ski-rental argument), so `maxSpinUs` should be about
 * one wake-up. On top of that the policy adapts, like an adaptive mutex:
 *
 * - every idle period ends with a gap (from the ring running empty to the
 *   next message, whether it was caught spinning or after a wake-up);
 * - a short gap raises the budget to twice that gap (at most `maxSpinUs`):
 *   messages come back soon after the ring goes idle, so spinning pays.
 *   Short means at most twice `maxSpinUs`: a gap seen after sleeping
 *   includes the wake-up itself (about `maxSpinUs`), so a message that a
 *   spin would have caught can look that late; that is also how a budget of
 *   zero comes back once messages follow each other closely again;
 * - a longer gap (or a close) halves the budget, and a budget under one
 *   microsecond is zero: spins that are wasted stop.
 *
 * And it is bounded twice over, whatever the traffic: one idle period never
 * spins longer than `maxSpinUs`, and the time spent spinning, caught or
 * wasted, is paid from a credit that grows by `maxShare` of the wall-clock
 * time (up to `burstUs`), so over any stretch the spinning takes at most
 * `maxShare` of a core plus one burst. An idle end spins once (at most
 * `maxSpinUs`) when its ring runs empty and then sleeps like an `async` end.
 */

/** Bounds of the spin-then-wait policy (`adaptive` ring ends). */
export interface SpinOptions {
  /** The longest spin of one idle period, in microseconds; about one thread wake-up. Default 50. */
  readonly maxSpinUs?: number;
  /** The largest share of wall-clock time one end spends spinning, from 0 to 1. Default 0.5. */
  readonly maxShare?: number;
  /** Spin credit an end can save up, in microseconds (at least `maxSpinUs`). Default 2,000. */
  readonly burstUs?: number;
}

/** The defaults of {@link SpinOptions}. */
export const DEFAULT_SPIN: Required<SpinOptions> = { maxSpinUs: 50, maxShare: 0.5, burstUs: 2_000 };

/** Checks `options` and fills in the defaults; throws a RangeError naming the bad option. */
export function spinOptions(options: SpinOptions = {}): Required<SpinOptions> {
  const o = { ...DEFAULT_SPIN, ...options };
  if (!Number.isFinite(o.maxSpinUs) || o.maxSpinUs < 0 || o.maxSpinUs > 1_000_000) throw new RangeError(`spin maxSpinUs must be from 0 to 1,000,000 microseconds, got ${o.maxSpinUs}`);
  if (!Number.isFinite(o.maxShare) || o.maxShare < 0 || o.maxShare > 1) throw new RangeError(`spin maxShare must be from 0 to 1, got ${o.maxShare}`);
  if (!Number.isFinite(o.burstUs) || o.burstUs < o.maxSpinUs) throw new RangeError(`spin burstUs must be at least maxSpinUs (${o.maxSpinUs}), got ${o.burstUs}`);
  return o;
}

/**
 * The adaptive spin budget of one receiving end. Times are in microseconds
 * on any monotonic clock the caller reads (`performance.now() * 1000`).
 *
 *     const us = policy.budget(now);       // ring ran empty: spin at most `us`
 *     ... spin, then sleep if nothing came ...
 *     policy.idleEnded(spentUs, gapUs, now2);  // the next message came `gapUs` after the ring ran empty
 */
export class SpinPolicy {
  readonly options: Required<SpinOptions>;
  private budgetUs: number;
  private creditUs: number;
  private lastUs: number | null = null;
  private spentTotalUs = 0;

  constructor(options: SpinOptions = {}) {
    this.options = spinOptions(options);
    // Start ready to spin: the first idle periods teach it whether that pays.
    this.budgetUs = this.options.maxSpinUs;
    this.creditUs = this.options.burstUs;
  }

  /** The current adaptive budget (before the credit limits it), microseconds. */
  get currentBudgetUs(): number {
    return this.budgetUs;
  }

  /** Microseconds spent spinning so far, as reported to {@link idleEnded}. */
  get spentUs(): number {
    return this.spentTotalUs;
  }

  /** How long to spin from `nowUs`, the moment the ring ran empty: never more than `maxSpinUs`, nor than the credit saved. */
  budget(nowUs: number): number {
    this.accrue(nowUs);
    return Math.max(0, Math.min(this.budgetUs, this.creditUs, this.options.maxSpinUs));
  }

  /**
   * An idle period ended at `nowUs`: `spentUs` spun in it, and the next
   * message came `gapUs` after the ring ran empty (Infinity when the period
   * ended without one, e.g. the link closed or the handler detached).
   */
  idleEnded(spentUs: number, gapUs: number, nowUs: number): void {
    const spent = Math.max(0, spentUs);
    this.accrue(nowUs);
    this.creditUs = Math.max(0, this.creditUs - spent);
    this.spentTotalUs += spent;
    const cap = this.options.maxSpinUs;
    if (gapUs <= 2 * cap) this.budgetUs = Math.min(cap, Math.max(this.budgetUs, 2 * Math.max(0, gapUs)));
    else {
      this.budgetUs /= 2;
      if (this.budgetUs < 1) this.budgetUs = 0;
    }
  }

  private accrue(nowUs: number): void {
    if (this.lastUs !== null && nowUs > this.lastUs) {
      this.creditUs = Math.min(this.options.burstUs, this.creditUs + (nowUs - this.lastUs) * this.options.maxShare);
    }
    if (this.lastUs === null || nowUs > this.lastUs) this.lastUs = nowUs;
  }
}
