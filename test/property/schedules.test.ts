// Property tests: fast-check generates whole fault schedules — which pending
// message, write or timer happens next, which messages are lost, who crashes
// and restarts, who is asked to propose — and the safety checker must find
// nothing. The same harness with a control bug must find a counterexample.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coreConfig, membership, type ControlBugs } from '../../src/core/index.js';
import { World } from '../../src/sim/synod-world.js';

type Cmd =
  | { k: 'run'; pick: number }
  | { k: 'drop'; pick: number }
  | { k: 'crash'; who: number }
  | { k: 'restart'; who: number }
  | { k: 'propose'; who: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('run' as const), pick: fc.nat() }), weight: 12 },
  { arbitrary: fc.record({ k: fc.constant('drop' as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('crash' as const), who: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('restart' as const), who: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('propose' as const), who: fc.nat() }), weight: 2 },
);

/** Runs a schedule and returns the violations found. */
function play(cmds: Cmd[], bugs: Partial<ControlBugs> = {}, amnesia = false) {
  const config = coreConfig(membership(2, 3, 2), { bugs });
  const draws = [0.1, 0.9, 0.5, 0.3, 0.7];
  let d = 0;
  const world = new World({ random: () => draws[d++ % draws.length] as number, sendDelays: () => [0], linkUp: () => true, writeDelay: () => 0 }, { config, amnesia });
  const actors = world.actors;
  const proposers = config.members.proposers;
  let n = 0;
  for (const c of cmds) {
    const pending = world.pendingItems();
    switch (c.k) {
      case 'run':
        if (pending.length > 0) world.run((pending[c.pick % pending.length] as { id: number }).id);
        break;
      case 'drop': {
        const msgs = pending.filter((p) => p.kind === 'msg');
        if (msgs.length > 0) world.drop((msgs[c.pick % msgs.length] as { id: number }).id);
        break;
      }
      case 'crash':
        world.crash(actors[c.who % actors.length] as string);
        break;
      case 'restart':
        world.restart(actors[c.who % actors.length] as string);
        break;
      case 'propose':
        world.propose(proposers[c.who % proposers.length] as string, `v${n++}`);
        break;
    }
  }
  return world.finish();
}

describe('random fault schedules', () => {
  it('never violate safety', () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 20, maxLength: 300, size: 'max' }), (cmds) => {
        expect(play(cmds)).toEqual([]);
      }),
      { numRuns: 1000, seed: 20261122 },
    );
  });

  it('control: the same harness finds the ignore-accepted bug', () => {
    const out = fc.check(
      fc.property(fc.array(cmd, { minLength: 20, maxLength: 300, size: 'max' }), (cmds) => play(cmds, { ignoreAccepted: true }).length === 0),
      { numRuns: 2000, seed: 20261122, endOnFailure: true },
    );
    expect(out.failed).toBe(true);
  });

  it('control: the same harness finds the amnesia bug', () => {
    const out = fc.check(
      fc.property(fc.array(cmd, { minLength: 20, maxLength: 300, size: 'max' }), (cmds) => play(cmds, {}, true).length === 0),
      { numRuns: 2000, seed: 20261122, endOnFailure: true },
    );
    expect(out.failed).toBe(true);
  });
});
