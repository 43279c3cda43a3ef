/**
 * The automatic replacement of dead acceptors (`replaceDeadAcceptors`):
 * its rules without threads (a fake cluster and fake time: when it acts,
 * that it waits for a running reconfiguration, that it picks fresh ids and
 * tries again after a failure), and on real worker threads: acceptors killed
 * for good are replaced one after the other while clients run, the history
 * linearizable and nothing acknowledged lost; with the policy off (the
 * default) a dead acceptor stays in the view. Nothing waits for a deadline:
 * the thread tests await events.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HealthChange } from '../../src/runtime/health.js';
import { createKvCluster, type KvCluster } from '../../src/runtime/kv-cluster.js';
import type { KvView } from '../../src/runtime/mpwire.js';
import { AcceptorReplacer, type ReplaceEvent, type ReplaceFailedEvent, type ReplacerLink } from '../../src/runtime/reconfig.js';
import { stampNow } from '../../src/runtime/stamps.js';
import { SynodError } from '../../src/errors.js';
import { expectSafeEnd, next, runClients, until, withKv } from './fixtures/kv.js';

const change = (id: string, status: HealthChange['status'], since: number, was: HealthChange['status'] = status === 'alive' ? 'dead' : 'alive'): HealthChange => ({ target: { kind: 'actor', id }, status, was, since, why: '' });

/** A fake cluster for the policy: view 0 with a1..a3, time set by hand, replacements answered by the test. */
function fakeCluster() {
  let view: KvView = { epoch: 0, from: 0, proposers: ['p1'], acceptors: ['a1', 'a2', 'a3'], learners: ['l1'] };
  const used = new Set(['a1', 'a2', 'a3', 'l1']);
  const calls: Array<{ dead: string; fresh: string; resolve: (v: KvView) => void; reject: (e: Error) => void }> = [];
  const replaced: ReplaceEvent[] = [];
  const failed: ReplaceFailedEvent[] = [];
  const state = { busy: false };
  const link: ReplacerLink = {
    now: () => Date.now(),
    view: () => view,
    busy: () => state.busy,
    usedIds: () => used,
    replace: (dead, fresh) => {
      used.add(fresh);
      return new Promise((resolve, reject) =>
        calls.push({
          dead,
          fresh,
          resolve: (v) => {
            view = v;
            resolve(v);
          },
          reject,
        }),
      );
    },
    replaced: (e) => replaced.push(e),
    failed: (e) => failed.push(e),
  };
  /** The replacements asked for so far, as [dead, fresh] pairs. */
  const asked = () => calls.map((x) => [x.dead, x.fresh]);
  return { link, calls, asked, replaced, failed, state, view: () => view };
}

describe('the replacement policy, without threads', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('replaces an acceptor down without a break for longer than `after`, by a fresh id, once', async () => {
    const c = fakeCluster();
    const r = new AcceptorReplacer(c.link, { after: 100 });
    r.observed(change('a2', 'dead', Date.now()));
    await vi.advanceTimersByTimeAsync(60);
    // Back alive before `after`: its clock stops; down again, it starts afresh.
    r.observed(change('a2', 'alive', Date.now()));
    r.observed(change('a2', 'suspected', Date.now()));
    await vi.advanceTimersByTimeAsync(60);
    expect(c.calls).toEqual([]);
    // Suspected, then dead: still down without a break.
    r.observed(change('a2', 'dead', Date.now(), 'suspected'));
    await vi.advanceTimersByTimeAsync(50);
    expect(c.asked()).toEqual([['a2', 'a4']]);
    (c.calls[0] as (typeof c.calls)[0]).resolve({ epoch: 1, from: 40, proposers: ['p1'], acceptors: ['a1', 'a3', 'a4'], learners: ['l1'] });
    await vi.advanceTimersByTimeAsync(500);
    expect(c.replaced).toEqual([{ removed: 'a2', added: 'a4', view: c.view(), downForMs: 100 }]);
    expect(c.calls).toHaveLength(1);
    r.close();
  });

  it('ignores learners, links and actors outside the view, and waits for a running reconfiguration', async () => {
    const c = fakeCluster();
    const r = new AcceptorReplacer(c.link, { after: 10 });
    r.observed(change('l1', 'dead', Date.now()));
    r.observed({ target: { kind: 'link', from: 'a1', to: 'p1' }, status: 'suspected', was: 'alive', since: Date.now(), why: '' });
    r.observed(change('a9', 'dead', Date.now()));
    await vi.advanceTimersByTimeAsync(100);
    expect(c.calls).toEqual([]);
    c.state.busy = true;
    r.observed(change('a1', 'dead', Date.now()));
    await vi.advanceTimersByTimeAsync(100);
    expect(c.calls).toEqual([]);
    // The cluster pokes it when the reconfiguration settles.
    c.state.busy = false;
    r.poke();
    expect(c.asked()).toEqual([['a1', 'a4']]);
    r.close();
  });

  it('replaces one at a time, the longest down first, and tries again after a failure (with the same id after a timeout)', async () => {
    const c = fakeCluster();
    const r = new AcceptorReplacer(c.link, { after: 10 });
    r.observed(change('a3', 'dead', Date.now()));
    await vi.advanceTimersByTimeAsync(5);
    r.observed(change('a1', 'dead', Date.now()));
    await vi.advanceTimersByTimeAsync(100);
    expect(c.asked()).toEqual([['a3', 'a4']]);
    (c.calls[0] as (typeof c.calls)[0]).reject(new SynodError('SYNOD_TIMEOUT', 'no answer'));
    await vi.advanceTimersByTimeAsync(0);
    expect(c.failed.map((e) => [e.removed, e.added, (e.error as SynodError).code])).toEqual([['a3', 'a4', 'SYNOD_TIMEOUT']]);
    // a1 has waited longer now than a3 (whose clock restarted): a1 goes next, with a fresh id; a3's timed-out id is kept for it.
    expect(c.asked()).toEqual([['a3', 'a4'], ['a1', 'a5']]);
    await vi.advanceTimersByTimeAsync(5);
    (c.calls[1] as (typeof c.calls)[0]).reject(new SynodError('SYNOD_RECONFIG_REFUSED', 'another view came first'));
    await vi.advanceTimersByTimeAsync(0);
    expect(c.calls).toHaveLength(2);
    // a3's clock restarted first: it goes next, once down for another `after`, with the id whose fate the log knows.
    await vi.advanceTimersByTimeAsync(5);
    expect(c.asked()).toEqual([['a3', 'a4'], ['a1', 'a5'], ['a3', 'a4']]);
    (c.calls[2] as (typeof c.calls)[0]).resolve({ epoch: 1, from: 40, proposers: ['p1'], acceptors: ['a1', 'a2', 'a4'], learners: ['l1'] });
    await vi.advanceTimersByTimeAsync(0);
    expect(c.calls).toHaveLength(3);
    // Then a1 again, with a fresh id (a5 was refused, and an id is used once).
    await vi.advanceTimersByTimeAsync(20);
    expect(c.asked().at(-1)).toEqual(['a1', 'a6']);
    expect(c.replaced.map((e) => [e.removed, e.added])).toEqual([['a3', 'a4']]);
    r.close();
  });

  it('does nothing once closed', async () => {
    const c = fakeCluster();
    const r = new AcceptorReplacer(c.link, { after: 10 });
    r.observed(change('a2', 'dead', Date.now()));
    r.close();
    await vi.advanceTimersByTimeAsync(100);
    r.poke();
    expect(c.calls).toEqual([]);
  });
});

describe('replaceDeadAcceptors on worker threads', () => {
  it.each([[{ after: 0 }], [{ after: -5 }], [{ after: 1.5 }], [{}], [true], [{ after: 10, every: 3 }], ['50']])('rejects %j with a clear error before anything starts', async (policy) => {
    const err = await createKvCluster({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory', replaceDeadAcceptors: policy as never }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SynodError);
    expect((err as SynodError).code).toBe('SYNOD_INVALID_OPTIONS');
    expect((err as Error).message).toMatch(/^invalid createKvCluster options: replaceDeadAcceptors/);
  });

  /** Kills acceptor `id` for good (no restarts in these clusters) and waits for the policy to replace it. */
  async function killAndAwaitReplacement(kv: KvCluster, id: string): Promise<ReplaceEvent> {
    const replaced = next(kv, 'replace', (e) => e.removed === id);
    await kv.crash(id, 'terminate');
    return replaced;
  }

  it('replaces acceptors killed for good, one after the other, while clients run: linearizable, nothing acknowledged lost', async () => {
    // No restarts: a crash fails the actor at once, as a machine that is gone would.
    await withKv({ proposers: 2, acceptors: 3, learners: 2, history: true, concurrency: 16, supervisor: { maxRestarts: 0 }, replaceDeadAcceptors: { after: 20 } }, async (kv) => {
      const failures: ReplaceFailedEvent[] = [];
      kv.on('replaceFailed', (e) => failures.push(e));
      const clients = runClients(kv, 6, Number.MAX_SAFE_INTEGER);
      await until(() => clients.done >= 100);
      const before = kv.view();
      const first = await killAndAwaitReplacement(kv, 'a2');
      expect(before.acceptors).not.toContain(first.added);
      expect(first.added).toMatch(/^a[4-9]$/);
      expect(first.downForMs).toBeGreaterThanOrEqual(20);
      expect(first.view.acceptors).toEqual([...before.acceptors.filter((a) => a !== 'a2'), first.added]);
      expect(first.view.epoch).toBeGreaterThan(before.epoch);
      expect(kv.status('a2')).toBe('stopped');
      const done = clients.done;
      await until(() => clients.done >= done + 100);
      // Now a1: the view that replaces it is chosen by the two acceptors left, one of them the first replacement.
      const second = await killAndAwaitReplacement(kv, 'a1');
      expect([...before.acceptors, first.added]).not.toContain(second.added);
      expect(second.view.acceptors).toEqual([...first.view.acceptors.filter((a) => a !== 'a1'), second.added]);
      expect(second.view.acceptors).toHaveLength(3);
      expect(kv.view()).toEqual(second.view);
      const later = clients.done;
      await until(() => clients.done >= later + 100);
      await expectSafeEnd(kv, clients);
      expect(failures).toEqual([]);
      expect(kv.checker.knownViews.at(-1)?.epoch).toBe(second.view.epoch);
    });
  });

  it('with the policy off (the default), a dead acceptor stays in the view', async () => {
    await withKv({ proposers: 1, acceptors: 3, learners: 1, storage: 'memory', supervisor: { maxRestarts: 0 } }, async (kv) => {
      let replacements = 0;
      kv.on('replace', () => replacements++);
      kv.on('replaceFailed', () => replacements++);
      const before = kv.view();
      const dead = next(kv, 'suspect', (c) => c.target.kind === 'actor' && c.target.id === 'a2' && c.status === 'dead');
      await kv.crash('a2', 'terminate');
      const reported = await dead;
      // Longer dead than the policy's `after` in the test above, and the cluster working meanwhile.
      for (let i = 0; i < 20; i++) await kv.put('x', i);
      await until(() => stampNow() - reported.since > 20);
      await kv.put('x', 'last');
      expect(kv.health().actors.a2?.status).toBe('dead');
      expect(kv.status('a2')).toBe('failed');
      expect(kv.view()).toEqual(before);
      expect(kv.members.acceptors).toEqual(['a1', 'a2', 'a3']);
      expect(replacements).toBe(0);
      expect(await kv.get('x')).toBe('last');
    });
  });
});
