/**
 * The cluster's health rules on their own (src/runtime/health.ts), fed by
 * hand with what the supervisor and the actors' detectors would report, on a
 * clock the test sets: a dead link, a process nobody hears, a dead thread, a
 * dead system, and what is forgotten when an observer dies.
 */
import { describe, expect, it } from 'vitest';
import { HealthMonitor, formatHealth, systemsProblem, type HealthChange } from '../../src/runtime/health.js';

/** Single-decree wiring: p1, p2, a1, a2, a3, l1; every pair of different roles talks. */
const IDS = ['p1', 'p2', 'a1', 'a2', 'a3', 'l1'];
const role = (id: string) => id[0];
const peersOf = (id: string) => IDS.filter((peer) => role(peer) !== role(id));

function rig(systems: Record<string, string[]> = {}) {
  let t = 1000;
  const m = new HealthMonitor(IDS, peersOf, systems, () => t);
  const events: HealthChange[] = [];
  const at = (time: number) => (t = time);
  const feed = (changes: HealthChange[]) => (events.push(...changes), changes);
  return { m, events, at, feed };
}

const key = (c: HealthChange) => (c.target.kind === 'link' ? `${c.target.from}->${c.target.to}` : `${c.target.kind}:${c.target.id}`);

describe('HealthMonitor', () => {
  it('starts with everything alive, every watched link listed, and nothing to report', () => {
    const { m } = rig({ s1: ['p1', 'a1'] });
    const h = m.report();
    expect(Object.values(h.actors).every((a) => a.status === 'alive' && a.since === 1000)).toBe(true);
    // Each actor hears each peer: 2 proposers x 4 others, 3 acceptors x 3 others, 1 learner x 5 others.
    expect(h.links).toHaveLength(2 * 4 + 3 * 3 + 5);
    expect(h.systems.s1).toEqual({ actors: ['p1', 'a1'], status: 'alive', since: 1000 });
  });

  it('tells a dead link (one peer does not hear a1) from a process nobody hears', () => {
    const { m, feed, events } = rig();
    feed(m.observed('p1', [{ peer: 'a1', status: 'suspected', since: 2000 }]));
    expect(events.map(key)).toEqual(['a1->p1']);
    expect(events[0]).toMatchObject({ status: 'suspected', was: 'alive', since: 2000 });
    let a1 = m.report().actors.a1;
    expect(a1).toMatchObject({ status: 'alive', unheardBy: ['p1'] });
    expect(a1?.why).toMatch(/dead link.*p1/);

    // p2 and l1 stop hearing it too: nobody hears it, but its thread runs, so it is suspected, not dead.
    feed(m.observed('p2', [{ peer: 'a1', status: 'suspected', since: 2100 }]));
    expect(m.report().actors.a1?.status).toBe('alive');
    feed(m.observed('l1', [{ peer: 'a1', status: 'suspected', since: 2200 }]));
    a1 = m.report().actors.a1;
    expect(a1).toMatchObject({ status: 'suspected', since: 2200, unheardBy: ['p1', 'p2', 'l1'] });
    expect(events.filter((e) => e.target.kind === 'actor')).toEqual([{ target: { kind: 'actor', id: 'a1' }, status: 'suspected', was: 'alive', since: 2200, why: expect.stringMatching(/no live peer hears it/) }]);

    // Heard again by one: alive, the two other links still suspected.
    feed(m.observed('p2', [{ peer: 'a1', status: 'alive', since: 3000 }]));
    expect(m.report().actors.a1).toMatchObject({ status: 'alive', since: 3000, unheardBy: ['p1', 'l1'] });
    expect(m.report().links.filter((l) => l.status === 'suspected').map((l) => `${l.from}->${l.to}`)).toEqual(['a1->p1', 'a1->l1']);
  });

  it('control: with detectors that never suspect, a cut link is never seen (so the test above can fail)', () => {
    const { m, events } = rig();
    // Nothing observed: what a detector that never suspects reports.
    expect(m.report().links.every((l) => l.status === 'alive')).toBe(true);
    expect(events).toEqual([]);
  });

  it('a thread that exits is dead at once, its own suspicions go with it, and it is alive once back', () => {
    const { m, feed, events, at } = rig();
    feed(m.observed('a2', [{ peer: 'p1', status: 'suspected', since: 1500 }]));
    at(2000);
    feed(m.threadDown('a2', 'its thread exited (terminate)'));
    const h = m.report();
    expect(h.actors.a2).toMatchObject({ status: 'dead', since: 2000, why: 'its thread exited (terminate)' });
    // A receiver that is down judges nothing: its incoming links are not listed, p1 -> a2 included.
    expect(h.links.some((l) => l.to === 'a2')).toBe(false);
    // Its stale reports are ignored.
    expect(m.observed('a2', [{ peer: 'p2', status: 'suspected', since: 2100 }])).toEqual([]);
    at(2500);
    feed(m.threadUp('a2'));
    expect(m.report().actors.a2).toMatchObject({ status: 'alive', since: 2500 });
    expect(m.report().links.filter((l) => l.status === 'suspected')).toEqual([]);
    expect(events.filter((e) => e.target.kind === 'actor').map((e) => `${key(e)} ${e.was}->${e.status}`)).toEqual(['actor:a2 alive->dead', 'actor:a2 dead->alive']);
  });

  it('a system is dead only when every actor on it is dead, suspected when none is heard', () => {
    const { m, feed, events } = rig({ s1: ['p1', 'a1', 'l1'], s2: ['p2', 'a2'] });
    feed(m.threadDown('p1', 'crashed'));
    feed(m.threadDown('a1', 'crashed'));
    expect(m.report().systems.s1?.status).toBe('alive');
    feed(m.threadDown('l1', 'crashed'));
    expect(m.report().systems.s1?.status).toBe('dead');
    expect(events.filter((e) => e.target.kind === 'system')).toMatchObject([{ target: { kind: 'system', id: 's1' }, status: 'dead', was: 'alive' }]);

    // a2's watchers are p1, p2 and l1: with all three dead, nobody is left to judge it, and a running thread is not a dead process.
    feed(m.threadDown('p2', 'crashed'));
    expect(m.report().actors.a2).toMatchObject({ status: 'alive', why: 'its thread runs; no live peer watches it' });
    expect(m.report().systems.s2?.status).toBe('alive');
  });

  it('formats a table that names the dead, the suspected links and the systems', () => {
    const { m, at } = rig({ s1: ['p1', 'a1', 'l1'] });
    m.observed('p2', [{ peer: 'a3', status: 'suspected', since: 1200 }]);
    at(1400);
    m.threadDown('l1', 'its thread exited (exception): boom');
    at(3000);
    const text = formatHealth(m.report());
    expect(text).toMatch(/^health:\n {2}systems:\n {4}s1 +alive/);
    expect(text).toMatch(/l1 +dead +for 1\.6 s +on s1 +its thread exited \(exception\): boom/);
    expect(text).toMatch(/links not heard \(1 of \d+\):\n {4}a3 -> p2 +suspected for 1\.8 s/);
  });

  it('follows the actors a reconfiguration adds and removes: the removed are forgotten, the added start alive', () => {
    let ids = ['p1', 'a1', 'a2'];
    let t = 1000;
    const peers = (id: string) => ids.filter((p) => (p[0] === 'p') !== (id[0] === 'p'));
    const m = new HealthMonitor(ids, peers, { s1: ['a2'] }, () => t);
    m.threadDown('a2', 'its thread exited');
    m.observed('p1', [{ peer: 'a1', status: 'suspected', since: 1500 }]);
    t = 2000;
    ids = ['p1', 'a1', 'a3'];
    const changes = m.setActors(ids);
    const h = m.report();
    expect(Object.keys(h.actors)).toEqual(['p1', 'a1', 'a3']);
    expect(h.actors.a3).toMatchObject({ status: 'alive', since: 2000 });
    // What p1 suspects of a1 stays; a2, with its system, is gone.
    expect(h.actors.a1?.status).toBe('suspected');
    expect(h.systems.s1?.status).toBe('dead');
    expect(h.links.map((l) => `${l.from}->${l.to}:${l.status}`).sort()).toEqual(['a1->p1:suspected', 'a3->p1:alive', 'p1->a1:alive', 'p1->a3:alive']);
    expect(changes.map(key)).toEqual([]);
  });

  it('refuses systems naming strangers or sharing an actor', () => {
    expect(systemsProblem({ s1: ['p1'], s2: ['a1'] }, IDS)).toBeNull();
    expect(systemsProblem({ s1: ['p9'] }, IDS)).toMatch(/systems\.s1 names "p9", which is not an actor/);
    expect(systemsProblem({ s1: ['p1', 'a1'], s2: ['a1'] }, IDS)).toMatch(/a1 is placed on two systems, s1 and s2/);
    expect(systemsProblem({ s1: ['p1', 'p1'] }, IDS)).toMatch(/names p1 twice/);
  });
});
