/**
 * The failure detector on its own, with a clock the test moves by hand: no
 * threads and no real time, so every timing rule is checked exactly.
 */
import { describe, expect, it } from 'vitest';
import { FailureDetector, type DetectorOptions, type PeerChange } from '../../src/host/failure-detector.js';

const OPTS: DetectorOptions = { pingEveryMs: 100, suspectAfterMs: 1000 };

/** A detector of `peers` on a clock starting at 0, with a way to move the clock and tick. */
function rig(peers: readonly string[] = ['a1', 'a2'], opts: DetectorOptions = OPTS) {
  let t = 0;
  const d = new FailureDetector(peers, opts, () => t);
  const changes: PeerChange[] = [];
  const tickAt = (at: number) => {
    t = at;
    const out = d.tick();
    changes.push(...out.changes);
    return out;
  };
  return { d, changes, tickAt };
}

/** Ticks every `every` ms from `from` (exclusive) up to `to` (inclusive), calling `between` before each tick. */
function run(tickAt: (at: number) => unknown, from: number, to: number, every: number, between: (at: number) => void = () => {}): void {
  for (let at = from + every; at <= to; at += every) {
    between(at);
    tickAt(at);
  }
}

describe('FailureDetector', () => {
  it('suspects a silent peer only once more than suspectAfterMs has passed since it was last heard', () => {
    const { d, changes, tickAt } = rig(['a1']);
    run(tickAt, 0, 1000, 100);
    // At exactly suspectAfterMs it is not yet suspected.
    expect(changes).toEqual([]);
    tickAt(1001);
    expect(changes).toEqual([{ peer: 'a1', status: 'suspected', since: 1001 }]);
    expect(d.peers()).toEqual([{ peer: 'a1', status: 'suspected', since: 1001, lastHeard: 0 }]);
    // It is reported once, not at every tick.
    run(tickAt, 1001, 3001, 100);
    expect(changes).toHaveLength(1);
  });

  it('never suspects a peer heard at every tick, and a peer heard again is alive at the next tick', () => {
    const { changes, tickAt, d } = rig(['a1', 'a2']);
    // a1 is heard every tick for 5 s; a2 only until 500 ms.
    run(tickAt, 0, 5000, 100, (at) => {
      d.heard('a1');
      if (at <= 500) d.heard('a2');
    });
    expect(changes).toEqual([{ peer: 'a2', status: 'suspected', since: 1600 }]);
    d.heard('a2');
    tickAt(5100);
    expect(changes.at(-1)).toEqual({ peer: 'a2', status: 'alive', since: 5100 });
  });

  it('control: a detector whose timeout is never reached suspects nobody, so the test above could fail', () => {
    const { changes, tickAt } = rig(['a1'], { pingEveryMs: 100, suspectAfterMs: 10_000_000 });
    run(tickAt, 0, 5000, 100);
    expect(changes).toEqual([]);
  });

  it('watches exactly the peers it is given as the members change: a new one gets its grace period, a dropped one is forgotten', () => {
    const { d, changes, tickAt } = rig(['a1', 'a2']);
    tickAt(500);
    d.setPeers(['a1', 'a3']);
    expect(d.peers().map((p) => p.peer)).toEqual(['a1', 'a3']);
    // a1, never heard, is suspected after its second; a3, watched from 500 on, only after 1500; a2 never (it is gone).
    run(tickAt, 500, 1400, 100);
    expect(changes.map((c) => `${c.peer}@${c.since}`)).toEqual(['a1@1100']);
    run(tickAt, 1400, 1600, 100);
    expect(changes.map((c) => `${c.peer}@${c.since}`)).toEqual(['a1@1100', 'a3@1600']);
    expect(tickAt(1700).ping).toEqual(['a1', 'a3']);
  });

  it('pings exactly the peers sent nothing since the last tick', () => {
    const { d, tickAt } = rig(['a1', 'a2', 'l1']);
    d.sent('a1');
    expect(tickAt(100).ping).toEqual(['a2', 'l1']);
    // The flags are per tick: with nothing sent since, every peer gets a ping.
    expect(tickAt(200).ping).toEqual(['a1', 'a2', 'l1']);
    d.sent('l1');
    d.sent('a2');
    expect(tickAt(300).ping).toEqual(['a1']);
  });

  it('counts hearing at the tick that sees it, so it never suspects early', () => {
    const { d, changes, tickAt } = rig(['a1']);
    // Heard at some moment between 0 and 100: the detector counts it as heard at 100.
    d.heard('a1');
    tickAt(100);
    tickAt(1100);
    expect(changes).toEqual([]);
    tickAt(1101);
    expect(changes).toEqual([{ peer: 'a1', status: 'suspected', since: 1101 }]);
  });

  it('ignores peers it does not watch, and refuses settings where a ping cannot beat the timeout', () => {
    const { d, changes, tickAt } = rig(['a1']);
    d.heard('stranger');
    d.sent('stranger');
    expect(tickAt(100).ping).toEqual(['a1']);
    expect(d.peers().map((p) => p.peer)).toEqual(['a1']);
    expect(changes).toEqual([]);
    expect(() => new FailureDetector(['a1'], { pingEveryMs: 100, suspectAfterMs: 100 }, () => 0)).toThrow(/pingEveryMs < suspectAfterMs/);
    expect(() => new FailureDetector(['a1'], { pingEveryMs: 0, suspectAfterMs: 100 }, () => 0)).toThrow(/SYNOD_INVALID_ARGUMENT|pingEveryMs/);
  });
});
