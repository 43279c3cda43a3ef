/**
 * The spin-then-wait policy of `adaptive` ring ends (src/runtime/transports/spin.ts),
 * on a fake clock: it spins while messages follow soon after the ring goes
 * idle, stops when spins are wasted, comes back when traffic does, and never
 * spins longer than its cap per idle period or more than its share of the
 * time. Nothing here reads a real clock.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPIN, SpinPolicy, spinOptions, type SpinOptions } from '../../src/runtime/transports/index.js';

/** What a fake-clock run of a receiver saw. */
interface Run {
  /** Microseconds of fake time that passed. */
  readonly elapsedUs: number;
  /** Microseconds spent spinning, in all. */
  readonly spentUs: number;
  /** The longest spin of one idle period. */
  readonly longestUs: number;
  /** Idle periods whose message was caught while spinning. */
  readonly caught: number;
  /** The budget after the run. */
  readonly finalBudgetUs: number;
}

/**
 * Plays a receiver on a fake clock: each idle period it spins for the
 * budget or until the next message (which comes `gaps[i]` after the ring ran
 * empty), sleeps otherwise (a wake-up takes `wakeUs`), then handles the
 * message for `workUs`. With `peerWaitsForSpin`, the peer cannot run while
 * this end spins (more busy threads than cores): the message comes
 * `gaps[i]` after the spin ends.
 */
function play(policy: SpinPolicy, gaps: readonly number[], opts: { wakeUs?: number; workUs?: number; startUs?: number; peerWaitsForSpin?: boolean } = {}): Run {
  const wakeUs = opts.wakeUs ?? 40;
  const workUs = opts.workUs ?? 2;
  let now = opts.startUs ?? 1_000_000;
  const start = now;
  let spent = 0;
  let longest = 0;
  let caught = 0;
  for (const g of gaps) {
    const budget = policy.budget(now);
    const gap = opts.peerWaitsForSpin ? budget + g : g;
    const hit = gap <= budget;
    const spin = Math.min(budget, gap);
    spent += spin;
    longest = Math.max(longest, spin);
    // Caught while spinning, or seen only once the sleeper is awake again.
    const seenAfter = hit ? gap : gap + wakeUs;
    if (hit) caught++;
    now += Number.isFinite(seenAfter) ? seenAfter : 1e9;
    policy.idleEnded(spin, hit, seenAfter, now);
    now += workUs;
  }
  return { elapsedUs: now - start, spentUs: spent, longestUs: longest, caught, finalBudgetUs: policy.currentBudgetUs };
}

const repeat = (gap: number, n: number): number[] => Array.from({ length: n }, () => gap);

describe('the adaptive spin policy (fake clock)', () => {
  it('spins while messages come back soon after the ring goes idle, and catches them', () => {
    const policy = new SpinPolicy();
    const run = play(policy, repeat(5, 1_000));
    expect(run.caught).toBe(1_000);
    expect(run.finalBudgetUs).toBeGreaterThanOrEqual(10);
    expect(run.spentUs).toBe(5_000);
  });

  it('an idle end spins once per idle period, never past its cap, and stops spinning after a wasted spin', () => {
    const policy = new SpinPolicy({ maxSpinUs: 50 });
    // Messages a second apart: every spin is wasted.
    const run = play(policy, repeat(1_000_000, 100));
    expect(run.caught).toBe(0);
    expect(run.longestUs).toBeLessThanOrEqual(50);
    expect(run.finalBudgetUs).toBe(0);
    // One capped spin in all, over 100 seconds of idle.
    expect(run.spentUs).toBeLessThanOrEqual(50);
    expect(policy.budget(1e12)).toBe(0);
  });

  it('a budget that caught messages shrinks by halves when its spins start missing', () => {
    const policy = new SpinPolicy({ maxSpinUs: 50 });
    play(policy, repeat(5, 10));
    expect(policy.currentBudgetUs).toBe(50);
    play(policy, repeat(1_000, 1), { startUs: 2e6 });
    expect(policy.currentBudgetUs).toBe(25);
    play(policy, repeat(1_000, 5), { startUs: 3e6 });
    expect(policy.currentBudgetUs).toBe(0);
  });

  it('where the peer cannot run while this end spins, failed probes back off: almost no spinning', () => {
    const policy = new SpinPolicy({ maxSpinUs: 50 });
    // The answer always comes 5 us after the spin ends, so no spin ever catches it, yet every gap looks short.
    const run = play(policy, repeat(5, 10_000), { peerWaitsForSpin: true });
    expect(run.caught).toBe(0);
    // Probes after 1, 2, 4, ..., 1024 idle periods, then every 1024: about 20 spins of 50 us, not 10,000.
    expect(run.spentUs).toBeLessThanOrEqual(25 * 50);
  });

  it('a link that goes quiet for good costs at most one capped spin per idle period, then none', () => {
    const policy = new SpinPolicy({ maxSpinUs: 30 });
    const run = play(policy, repeat(Infinity, 10));
    expect(run.longestUs).toBeLessThanOrEqual(30);
    expect(run.finalBudgetUs).toBe(0);
  });

  it('comes back to spinning once messages follow closely again (a gap seen after a wake-up counts)', () => {
    const policy = new SpinPolicy({ maxSpinUs: 50 });
    play(policy, repeat(5_000, 20));
    expect(policy.currentBudgetUs).toBe(0);
    // The first short gap is slept through (seen 5 + 40 us after going idle) and starts a probe; the rest are caught.
    const run = play(policy, repeat(5, 50), { startUs: 2e9 });
    expect(run.caught).toBe(49);
    expect(policy.currentBudgetUs).toBeGreaterThan(0);
  });

  /**
   * The costliest traffic for the share: every message is caught at the
   * very end of a full-length spin (so the budget stays at its cap) and
   * handled in 1 us. Returns the microseconds spun and the time that passed.
   */
  function spinHeavy(policy: SpinPolicy): { spent: number; elapsed: number } {
    let now = 0;
    let spent = 0;
    for (let i = 0; i < 10_000; i++) {
      const budget = policy.budget(now);
      expect(budget).toBeLessThanOrEqual(50);
      // Caught at the budget's end; with no spin, the message is seen after a 40 us wake-up.
      const gap = budget > 0 ? budget : 40;
      spent += budget;
      now += gap;
      policy.idleEnded(budget, budget > 0, gap, now);
      now += 1;
    }
    return { spent, elapsed: now };
  }

  it('never spins more than its share of the time (plus one burst), even when every spin runs to its cap', () => {
    for (const maxShare of [0.1, 0.25, 0.5]) {
      const { spent, elapsed } = spinHeavy(new SpinPolicy({ maxSpinUs: 50, maxShare, burstUs: 500 }));
      expect(spent).toBeLessThanOrEqual(maxShare * elapsed + 500);
      expect(spent).toBeGreaterThan(0);
    }
  });

  it('control: the share check above catches a policy allowed to spin all the time', () => {
    const { spent, elapsed } = spinHeavy(new SpinPolicy({ maxSpinUs: 50, maxShare: 1, burstUs: 500 }));
    expect(spent).toBeGreaterThan(0.5 * elapsed + 500);
  });

  it('a zero cap or share never spins', () => {
    for (const options of [{ maxSpinUs: 0 }, { maxShare: 0, burstUs: 50 }] satisfies SpinOptions[]) {
      const policy = new SpinPolicy(options);
      if (options.maxShare === 0) play(policy, repeat(5, 200));
      const run = play(policy, repeat(5, 100), { startUs: 5e9 });
      expect(run.spentUs).toBe(0);
    }
  });

  it('options are checked and defaults filled in', () => {
    expect(spinOptions()).toEqual(DEFAULT_SPIN);
    expect(spinOptions({ maxSpinUs: 20 })).toEqual({ ...DEFAULT_SPIN, maxSpinUs: 20 });
    expect(() => spinOptions({ maxSpinUs: -1 })).toThrow(/maxSpinUs/);
    expect(() => spinOptions({ maxShare: 1.5 })).toThrow(/maxShare/);
    expect(() => spinOptions({ maxSpinUs: 100, burstUs: 50 })).toThrow(/burstUs/);
    expect(() => spinOptions({ maxSpinUs: Number.NaN })).toThrow(/maxSpinUs/);
  });
});
