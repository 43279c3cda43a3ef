// Multi-Paxos (key-value store) simulator traces: deterministic, consistent
// clocks, counts that agree with the key-value simulator's own counters, and
// `synod trace --protocol kv` making the run `synod kv-sim` makes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulateKv, type KvSimOptions } from '../../src/sim/kvsim.js';
import { checkClocks, toJson, type Trace } from '../../src/trace/index.js';
import { traceKvSimulation } from '../../src/sim/trace.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'synod-kv-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts: KvSimOptions = { seed: 6, clients: 3, ops: 40, faults: { crash: 0.003, partition: 0.002, drop: 0.08 } };

describe('key-value simulator traces', () => {
  it('are deterministic, and tracing does not change the run', () => {
    const a = traceKvSimulation(opts);
    const b = traceKvSimulation(opts);
    expect(toJson(b.trace)).toBe(toJson(a.trace));
    const plain = simulateKv(opts);
    expect(JSON.stringify(a.result)).toBe(JSON.stringify(plain));
  });

  it('have consistent clocks and agree with the simulator’s counters', () => {
    const { trace, result } = traceKvSimulation(opts);
    expect(checkClocks(trace)).toEqual([]);
    const count = (pred: (e: Trace['events'][number]) => boolean) => trace.events.filter(pred).length;
    const s = result.stats;
    expect(count((e) => e.kind === 'drop' && e.msg !== undefined)).toBe(s.dropped);
    expect(count((e) => e.kind === 'durable')).toBe(s.writes);
    expect(count((e) => e.kind === 'crash')).toBe(s.crashes);
    expect(s.crashes).toBeGreaterThan(0);
    // Every learner applies every chosen slot, each once per incarnation (a restarted learner re-applies what its snapshot does not hold).
    const learners = trace.actors.filter((a) => a.startsWith('l'));
    for (const l of learners) {
      let slots: number[] = [];
      for (const e of trace.events.filter((x) => x.actor === l)) {
        if (e.kind === 'restart') slots = [];
        if (e.kind !== 'decide') continue;
        const slot = Number(/^slot (\d+):/.exec(e.value ?? '')?.[1]);
        expect(slots).not.toContain(slot);
        slots.push(slot);
      }
    }
    const applied = new Set(trace.events.filter((e) => e.kind === 'decide').map((e) => e.value));
    // Learners apply only chosen slots; a slot chosen at the very end of the run may not be applied yet when it stops.
    const appliedSlots = new Set([...applied].map((v) => /^slot (\d+):/.exec(v ?? '')?.[1])).size;
    expect(appliedSlots).toBeGreaterThan(0);
    expect(appliedSlots).toBeLessThanOrEqual(s.slotsChosen);
    // The same slot carries the same batch on every learner.
    const bySlot = new Map<string, string>();
    for (const v of applied) {
      const slot = /^slot (\d+):/.exec(v ?? '')?.[1] as string;
      expect(bySlot.get(slot) ?? v).toBe(v);
      bySlot.set(slot, v as string);
    }
  });

  it('synod trace --protocol kv writes the run synod kv-sim makes with the same flags', () => {
    const r = synod('trace', '--protocol', 'kv', '--seed', '4', '--ops', '25', '--clients', '2', '--out', join(dir, 'kv.json'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/kv\.json: json, \d+ events on (8|9) lanes; kv seed=4; 25 operations completed, 0 unanswered; history linearizable; safe/);
    const t = JSON.parse(readFileSync(join(dir, 'kv.json'), 'utf8')) as Trace;
    const sim = JSON.parse(synod('kv-sim', '--seed', '4', '--ops', '25', '--clients', '2', '--json').stdout) as { stats: { dropped: number; writes: number; crashes: number; slotsChosen: number } };
    expect(t.events.filter((e) => e.kind === 'drop' && e.msg !== undefined)).toHaveLength(sim.stats.dropped);
    expect(t.events.filter((e) => e.kind === 'durable')).toHaveLength(sim.stats.writes);
    expect(t.events.filter((e) => e.kind === 'crash')).toHaveLength(sim.stats.crashes);
  });

  it('synod trace --protocol kv exits 1 on a non-linearizable history, 2 on flags of the other protocol', () => {
    // Not every short run catches a stale read: take the first seed kv-sim reports as failing.
    const sweep = JSON.parse(synod('kv-sim', '--bug', 'stale-read', '--seeds', '1..40', '--ops', '60', '--clients', '3', '--json').stdout) as { firstFailure: { seed: number } | null };
    expect(sweep.firstFailure).not.toBeNull();
    const seed = String(sweep.firstFailure?.seed);
    const r = synod('trace', '--protocol', 'kv', '--bug', 'stale-read', '--seed', seed, '--ops', '60', '--out', join(dir, 'bad.json'));
    // The stale-read bug shows in the history, which the command checks like kv-sim does.
    const sim = synod('kv-sim', '--bug', 'stale-read', '--seed', seed, '--ops', '60', '--clients', '3', '--json');
    expect(r.status).toBe(sim.status);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/NOT LINEARIZABLE/);
    expect(synod('trace', '--protocol', 'kv', '--stagger', '5', '--out', join(dir, 'x.json')).status).toBe(2);
    expect(synod('trace', '--ops', '5', '--out', join(dir, 'x.json')).status).toBe(2);
    expect(synod('trace', '--protocol', 'kv', '--bug', 'amnesia', '--out', join(dir, 'x.json')).status).toBe(2);
    expect(synod('trace', '--protocol', 'kv', '--clients', '9', '--ops', '3', '--out', join(dir, 'x.json')).status).toBe(2);
  });
});
