/**
 * Reconfiguration of the key-value store on real worker threads and LMDB:
 * an acceptor and a learner replaced under load (the history linearizable,
 * no acknowledged write lost, the new members really deciding and
 * answering, the removed ones stopped for good with their stores retired),
 * a down acceptor removed, and every kind of invalid reconfiguration
 * refused before anything starts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectSafeEnd, refusal, retired, runClients, until, withKv } from './fixtures/kv.js';

describe('reconfiguring the key-value store on worker threads', () => {
  it('replaces an acceptor and a learner under load: linearizable, nothing acknowledged lost, the new members decide and answer, the old ones are gone for good', async () => {
    await withKv({ proposers: 2, acceptors: 3, learners: 2, history: true, concurrency: 16 }, async (kv) => {
      const clients = runClients(kv, 8, Number.MAX_SAFE_INTEGER);
      await until(() => clients.done >= 200);
      const view = await kv.reconfigure({ add: ['a4', 'l3'], remove: ['a2', 'l1'] });
      expect(view).toMatchObject({ epoch: 1, acceptors: ['a1', 'a3', 'a4'], learners: ['l2', 'l3'] });
      expect(view.from).toBeGreaterThan(0);
      expect(kv.view()).toEqual(view);
      expect(kv.members).toEqual({ proposers: ['p1', 'p2'], acceptors: ['a1', 'a3', 'a4'], learners: ['l2', 'l3'] });
      // The removed actors' threads are stopped for good and their stores kept under a retired name.
      for (const id of ['a2', 'l1']) {
        expect(kv.status(id)).toBe('stopped');
        expect(retired(kv, id, 1)).toBe(true);
        expect(await refusal(kv.state(id))).toMatch(/^SYNOD_CLOSED: .*removed from the cluster/);
        expect(await refusal(kv.restart(id))).toMatch(/^SYNOD_INVALID_ARGUMENT: .*removed/);
        expect(await refusal(kv.crash(id, 'terminate'))).toMatch(/^SYNOD_INVALID_ARGUMENT: .*not an actor of this cluster/);
      }
      for (const id of ['p1', 'l2', 'l3']) expect((await kv.state(id)).view).toEqual(view);
      // With a1 and l2 paused, only the new members can serve: a majority of {a1, a3, a4} needs a4, and l3 is the only
      // learner left to answer. The clients go on.
      await Promise.all([kv.pause('a1'), kv.pause('l2')]);
      const paused = clients.done;
      await until(() => clients.done >= paused + 200);
      await Promise.all([kv.resume('a1'), kv.resume('l2')]);
      await expectSafeEnd(kv, clients);
      expect(kv.checker.knownViews.at(-1)?.epoch).toBe(1);
    });
  });

  it('removes an acceptor that is down for good, and the cluster serves with its replacement', async () => {
    // No restarts: a crash fails the actor at once, as a machine that is gone would.
    await withKv({ proposers: 1, acceptors: 3, learners: 1, supervisor: { maxRestarts: 0 }, systems: { s1: ['p1', 'a1', 'l1'], s2: ['a2'], s3: ['a3'] } }, async (kv) => {
      await kv.put('x', 1);
      await kv.crash('a3', 'terminate');
      await until(() => kv.status('a3') === 'failed');
      const view = await kv.reconfigure({ add: ['a4'], remove: ['a3'] });
      expect(view).toMatchObject({ epoch: 1, acceptors: ['a1', 'a2', 'a4'], learners: ['l1'] });
      expect(kv.status('a3')).toBe('stopped');
      expect(retired(kv, 'a3', 1)).toBe(true);
      // Health follows the members: a3 is gone from it (its system, left with no actor, is dead), a4 is in it.
      const health = kv.health();
      expect(Object.keys(health.actors).sort()).toEqual(['a1', 'a2', 'a4', 'l1', 'p1']);
      expect(health.systems.s3?.status).toBe('dead');
      expect(health.links.some((l) => l.from === 'a3' || l.to === 'a3')).toBe(false);
      await kv.crashSystem('s3');
      // a2 paused: a majority of {a1, a2, a4} needs the new acceptor.
      await kv.pause('a2');
      await kv.put('x', 2);
      expect(await kv.get('x')).toBe(2);
      await kv.resume('a2');
    });
  });

  it('refuses invalid reconfigurations with a clear error, before anything starts', async () => {
    await withKv({ proposers: 2, acceptors: 3, learners: 2, storage: 'memory' }, async (kv) => {
      const cases: Array<[unknown, RegExp]> = [
        [{ add: ['x1'] }, /"x1" is not an actor id/],
        [{ add: ['a01'] }, /"a01" is not an actor id/],
        [{ add: ['p1'] }, /p1 is a member of view 0 already/],
        [{ remove: ['p1', 'p2'] }, /proposers \{\}, acceptors \{a1, a2, a3\} and learners \{l1, l2\}, and every role needs at least one member/],
        [{ add: [7] }, /add must be a list of actor ids/],
        [{ add: 'a4' }, /add must be a list of actor ids/],
        [{ replace: ['a1'] }, /unknown field\(s\) replace/],
        [{}, /nothing to change/],
        [{ add: ['a4'], remove: ['a4'] }, /a4 both added and removed/],
        [{ add: ['a1'] }, /a1 is a member of view 0 already/],
        [{ remove: ['a9'] }, /a9 is not a member of view 0/],
        [{ remove: ['l1', 'l2'] }, /learners \{\}, and every role needs at least one member/],
        [{ add: ['a4'], remove: ['p1', 'p2'] }, /proposers \{\}/],
        [{ add: ['l3'], remove: ['l1', 'l2'] }, /must keep at least one learner of the view it follows/],
        [{ remove: ['a1', 'a2', 'a3'] }, /acceptors \{\} and learners \{l1, l2\}, and every role needs at least one member/],
        [{ add: ['l3'], remove: ['p3'] }, /p3 is not a member of view 0/],
      ];
      for (const [change, message] of cases) {
        const why = await refusal(kv.reconfigure(change as never));
        expect(why).toMatch(/^SYNOD_INVALID_ARGUMENT: invalid reconfiguration: /);
        expect(why).toMatch(message);
      }
      // Nothing changed and nothing started.
      expect(kv.view()).toEqual({ epoch: 0, from: 0, proposers: ['p1', 'p2'], acceptors: ['a1', 'a2', 'a3'], learners: ['l1', 'l2'] });
      expect(() => kv.status('a4')).toThrow(/no actor "a4"/);
      expect(() => kv.status('p3')).toThrow(/no actor "p3"/);
      // An id is used once: a removed acceptor cannot come back under its old name.
      await kv.reconfigure({ remove: ['a3'] });
      expect(await refusal(kv.reconfigure({ add: ['a3'] }))).toMatch(/^SYNOD_INVALID_ARGUMENT: .*a3 was removed before; an id is used once/);
      expect(kv.view()).toMatchObject({ epoch: 1, acceptors: ['a1', 'a2'] });
      await kv.put('x', 1);
      expect(await kv.get('x')).toBe(1);
    });
  });

  it('refuses to reconfigure, with the checker on, a cluster reopened on a data directory an earlier one ran on', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'synod-reconfig-'));
    try {
      await withKv({ proposers: 1, acceptors: 3, learners: 1, dataDir }, (kv) => kv.put('x', 1));
      await withKv({ proposers: 1, acceptors: 3, learners: 1, dataDir }, async (kv) => {
        expect(await refusal(kv.reconfigure({ add: ['a4'] }))).toMatch(/^SYNOD_INVALID_ARGUMENT: .*reopened on a data directory.*check: false/);
        expect(kv.view().epoch).toBe(0);
        expect(await kv.get('x')).toBe(1);
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
