/**
 * The rehearsal (src/host/rehearse.ts) on its own, without threads: a
 * single-decree rehearsal decides, its appends go only where it is told, and
 * a scratch host that throws rejects the rehearsal instead of throwing out of
 * a microtask (which in a worker would kill the thread); a rehearsal under
 * way stops when real work comes, and later ones run as usual.
 */
import { describe, expect, it } from 'vitest';
import { coreConfig } from '../../src/core/config.js';
import type { DurableRecord } from '../../src/core/effects.js';
import { membership, type ActorId } from '../../src/core/ids.js';
import { rehearse, stopRehearsals } from '../../src/host/rehearse.js';
import { synodProtocol } from '../../src/host/synod.js';
import { synodWorkerSide } from '../../src/runtime/worker-side-synod.js';

const members = membership(1, 3, 1);

describe('rehearse', () => {
  it('runs one single-decree decision among scratch hosts, appending only through the script', async () => {
    const appended: Array<[ActorId, readonly DurableRecord[]]> = [];
    const outputs = await rehearse(synodProtocol, {
      config: coreConfig(members),
      requests: [['p1', 'x']],
      maxValueBytes: 1024,
      append: async (id, records) => void appended.push([id, records]),
    });
    expect(outputs.filter((e) => e.type === 'chosen').map((e) => e.type === 'chosen' && e.value)).toEqual(['x']);
    expect(outputs.filter((e) => e.type === 'decide').map((e) => e.type === 'decide' && e.value)).toEqual(['x']);
    // The proposer writes its round; each acceptor its promise, then its accepted value; the learner its decision.
    expect(appended.map(([id]) => id).sort()).toEqual(['a1', 'a1', 'a2', 'a2', 'a3', 'a3', 'l1', 'p1']);
  });

  it('ends with no outputs when nothing is requested', async () => {
    let appends = 0;
    const outputs = await rehearse(synodProtocol, { config: coreConfig(members), requests: [], maxValueBytes: 1024, append: async () => void appends++ });
    expect(outputs).toEqual([]);
    expect(appends).toBe(0);
  });

  it('rejects with what a scratch host threw, and with a failed append', async () => {
    const broken = {
      ...synodProtocol,
      step: ((state, input, random) => {
        if (state.role === 'acceptor' && input.type === 'receive' && input.msg.type === 'accept') throw new Error('broken acceptor');
        return synodProtocol.step(state, input, random);
      }) as typeof synodProtocol.step,
    };
    await expect(rehearse(broken, { config: coreConfig(members), requests: [['p1', 'x']], maxValueBytes: 1024, append: async () => {} })).rejects.toThrow('broken acceptor');
    await expect(rehearse(synodProtocol, { config: coreConfig(members), requests: [['p1', 'x']], maxValueBytes: 1024, append: () => Promise.reject(new Error('disk gone')) })).rejects.toThrow('disk gone');
  });

  it('stops at its next step when stopRehearsals is called, and one begun later runs to its decision', async () => {
    const script = (appended: ActorId[]) => ({ config: coreConfig(members), requests: [['p1', 'x']] as Array<[ActorId, string]>, maxValueBytes: 1024, append: async (id: ActorId) => void appended.push(id) });
    const cut: ActorId[] = [];
    const stopping = rehearse(synodProtocol, script(cut));
    stopRehearsals();
    expect(await stopping).toEqual([]);
    expect(cut).toEqual([]);
    const whole: ActorId[] = [];
    const outputs = await rehearse(synodProtocol, script(whole));
    expect(outputs.map((e) => e.type).sort()).toEqual(['chosen', 'decide']);
    expect(whole).toHaveLength(8);
  });

  it("is the single-decree worker side's rehearsal: a decision, written to scratch in-memory stores", async () => {
    const outputs = await (synodWorkerSide.rehearse as NonNullable<typeof synodWorkerSide.rehearse>)();
    expect(outputs.map((e) => e.type).sort()).toEqual(['chosen', 'decide']);
  });
});
