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
 * - a message caught while spinning, `gap` after the ring ran empty, raises
 *   the budget to twice that gap (at most `maxSpinUs`): messages come back
 *   soon after the ring goes idle, so spinning pays;
 * - a spin that caught nothing halves the budget, and a budget under one
 *   microsecond is zero: wasted spins stop. So does the first spin after a
 *   probe (below) if it catches nothing;
 * - a budget of zero comes back only by a probe: after an idle period whose
 *   message came within twice `maxSpinUs` (a gap seen after a wake-up
 *   includes the wake-up, about `maxSpinUs`), the next idle period spins the
 *   full `maxSpinUs` again. Each failed probe doubles the number of such
 *   idle periods the next probe waits for (1, 2, 4, ... up to 1,024); a
 *   catch resets it. That is what keeps an end from spinning in vain where
 *   the peer cannot run meanwhile (more busy threads than cores: the
 *   message it waits for only comes after the spin ends).
 *
 * And it is bounded twice over, whatever the traffic: one idle period never
 * spins longer than `maxSpinUs`, and the time spent spinning, caught or
 * wasted, is paid from a credit that grows by `maxShare` of the wall-clock
 * time (up to `burstUs`), so over any stretch the spinning takes at most
 * `maxShare` of a core plus one burst. A spin happens only when the credit
 * covers the whole budget: when it runs short the end sleeps through an idle
 * period or two (a ping-pong at full speed, where each end spins most of the
 * time, then spins for dozens of round trips per sleep). An idle end spins
 * at most once (at most `maxSpinUs`) when its ring runs empty, then sleeps
 * like an `async` end.
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

/** The most idle periods a probe waits for after failed ones. */
const MAX_PROBE_WAIT = 1024;

/**
 * The adaptive spin budget of one receiving end. Times are in microseconds
 * on any monotonic clock the caller reads (`performance.now() * 1000`).
 *
 *     const us = policy.budget(now);   // the ring ran empty: spin at most `us`
 *     ... spin; sleep if nothing came ...
 *     policy.idleEnded(spentUs, caught, gapUs, later);  // the next message came `gapUs` after the ring ran empty
 */
export class SpinPolicy {
  /** The bounds in force, defaults filled in. */
  readonly options: Required<SpinOptions>;
  private budgetUs: number;
  private creditUs: number;
  private lastUs: number | null = null;
  private spentTotalUs = 0;
  /** The budget came from a probe and has not caught anything yet. */
  private probing = true;
  /** Idle periods with a short gap still to see before the next probe, and how many the next failed probe asks for. */
  private probeWait = 0;
  private nextProbeWait = 1;

  constructor(options: SpinOptions = {}) {
    this.options = spinOptions(options);
    // Start with a probe: the first idle periods teach it whether spinning pays.
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

  /**
   * How long to spin from `nowUs`, the moment the ring ran empty: the whole
   * budget (never more than `maxSpinUs`) if the credit saved covers it, else
   * nothing. Not a part of it: a spin cut short by the credit would mostly be
   * wasted, and waste more credit still, while a sleep lets it build up again.
   */
  budget(nowUs: number): number {
    this.accrue(nowUs);
    const want = Math.min(this.budgetUs, this.options.maxSpinUs);
    return want > 0 && this.creditUs >= want ? want : 0;
  }

  /**
   * An idle period ended at `nowUs`: `spentUs` were spun in it; `caught`
   * says whether the spin saw the next message come; `gapUs` is how long
   * after the ring ran empty the message was seen (Infinity when the period
   * ended without one: the link closed, or the handler detached).
   */
  idleEnded(spentUs: number, caught: boolean, gapUs: number, nowUs: number): void {
    const spent = Math.max(0, spentUs);
    this.accrue(nowUs);
    this.creditUs = Math.max(0, this.creditUs - spent);
    this.spentTotalUs += spent;
    const cap = this.options.maxSpinUs;
    if (caught) {
      this.budgetUs = Math.min(cap, Math.max(this.budgetUs, 2 * Math.max(0, gapUs)));
      this.probing = false;
      this.nextProbeWait = 1;
    } else if (spent > 0) {
      this.budgetUs = this.probing ? 0 : this.budgetUs / 2;
      if (this.budgetUs < 1) {
        this.budgetUs = 0;
        this.probing = false;
        this.probeWait = this.nextProbeWait;
        this.nextProbeWait = Math.min(MAX_PROBE_WAIT, 2 * this.nextProbeWait);
      }
    } else if (this.budgetUs === 0 && gapUs <= 2 * cap && --this.probeWait <= 0) {
      this.budgetUs = cap;
      this.probing = true;
    }
  }

  private accrue(nowUs: number): void {
    if (this.lastUs !== null && nowUs > this.lastUs) {
      this.creditUs = Math.min(this.options.burstUs, this.creditUs + (nowUs - this.lastUs) * this.options.maxShare);
    }
    if (this.lastUs === null || nowUs > this.lastUs) this.lastUs = nowUs;
  }
}
