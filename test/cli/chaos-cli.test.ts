// `synod chaos` as a user runs it: the named experiments caught with their
// shortest traces, the JSON shape, a schedule written and replayed, the kv
// protocol's verdict (with replacements through the log and system
// crashes), and bad arguments.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { faultKindsOf, validateSchedule, type FaultKind, type SingleSchedule } from '../../src/chaos/schedule.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const synod = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 90_000 });
/** The same, without blocking the test process, so that independent runs overlap. */
const synodAsync = (...args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
const dir = mkdtempSync(join(tmpdir(), 'synod-chaos-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ShortestTraceJson {
  round: number;
  violation: { kind: string; message: string };
  length: number;
  fullLength: number;
  anchors: number[];
  events: Array<{ index: number; ms: number; actor: string; kind: string; text: string }>;
}

interface ChaosJson {
  ok: boolean;
  protocol: string;
  seed: number;
  experiment: string | null;
  rounds: number;
  decisions: number;
  faults: Partial<Record<FaultKind, number>>;
  crashes: Record<string, number>;
  restarts: { count: number; p50Ms: number | null; maxMs: number | null; planned: number };
  messages: { dropped: number; duplicated: number; delayed: number };
  violations: Array<{ kind: string; round: number; message: string; facts: object }>;
  firstViolationMs: number | null;
  shortestTrace: ShortestTraceJson | null;
  schedule: SingleSchedule;
  timeline: Array<{ ms: number; round: number; text: string }>;
  perRound: Array<{ round: number; scenario: string; allDecided: boolean; faults: number }>;
}

const parse = (r: { stdout: string; stderr: string }): ChaosJson => {
  try {
    return JSON.parse(r.stdout) as ChaosJson;
  } catch {
    throw new Error(`not one JSON object on stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
};

describe('synod chaos: the named experiments', () => {
  // Which violations show that each rule was broken.
  const expected: Record<string, string[]> = {
    // A restart forgot a promise; then two values get chosen.
    amnesia: ['promise-regressed', 'chosen-conflict'],
    // Acknowledged writes lost in the crash: the acceptor came back with less than it promised or accepted.
    'no-fsync': ['promise-regressed', 'accepted-regressed', 'chosen-conflict'],
    // One ballot carried two values.
    'reuse-ballot': ['chosen-conflict'],
  };

  it.each(Object.keys(expected))('%s is caught (exit 1) with a shortest trace no longer than the whole', async (experiment) => {
    const traceFile = join(dir, `${experiment}.json`);
    const r = await synodAsync('chaos', '--experiment', experiment, '--seed', '3', '--rounds', '10', '--json', '--trace', traceFile);
    expect(r.status, r.stderr).toBe(1);
    const o = parse(r);
    expect(o.ok).toBe(false);
    expect(o.experiment).toBe(experiment);
    expect(o.violations.length).toBeGreaterThan(0);
    const kinds = new Set(o.violations.map((v) => v.kind));
    expect([...kinds].some((k) => expected[experiment]!.includes(k)), [...kinds].join(', ')).toBe(true);
    if (experiment === 'reuse-ballot') expect(kinds).toEqual(new Set(['chosen-conflict']));
    if (experiment === 'amnesia') expect(kinds).toContain('promise-regressed');
    // It stopped at the first violating round.
    expect(o.rounds).toBe(o.violations[0]!.round);
    const s = o.shortestTrace!;
    expect(s).not.toBeNull();
    expect(expected[experiment]).toContain(s.violation.kind);
    expect(s.length).toBeGreaterThan(0);
    expect(s.events).toHaveLength(s.length);
    expect(s.length).toBeLessThanOrEqual(s.fullLength);
    expect(s.anchors.length).toBeGreaterThan(0);
    for (const a of s.anchors) expect(s.events.map((e) => e.index)).toContain(a);
    // The whole trace of the violating round was written, and the shortest is part of it.
    const trace = JSON.parse(readFileSync(traceFile, 'utf8')) as { format: string; events: Array<{ index: number; text: string }> };
    expect(trace.format).toBe('synod-trace');
    expect(trace.events).toHaveLength(s.fullLength);
    for (const e of s.events) expect(trace.events[e.index]?.text).toBe(e.text);
  });

  it('prints the timeline, the summary and the shortest trace as text', () => {
    const r = synod('chaos', '--experiment', 'reuse-ballot', '--seed', '8', '--rounds', '10');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/experiment reuse-ballot \(switch ON\)/);
    expect(r.stdout).toMatch(/inject: crash p\d \((exception|exit|terminate)\)/);
    expect(r.stdout).toMatch(/restarted by the supervisor, serving again after [\d.]+ ms/);
    expect(r.stdout).toMatch(/VIOLATION chosen-conflict/);
    expect(r.stdout).toMatch(/faults injected: .*crash:/);
    expect(r.stdout).toMatch(/recovery p50 [\d.]+ ms, max [\d.]+ ms/);
    expect(r.stdout).toMatch(/shortest trace: round \d+, chosen-conflict/);
    expect(r.stdout).toMatch(/^ {2}\* +[\d.-]+ ms {2}a\d +durable +durable promised=/m);
    expect(r.stdout).toMatch(/safety: \d+ VIOLATION/);
  });
});

describe('synod chaos: every switch off', () => {
  it('--json prints one object; the schedule written with --schedule-out replays with the same faults', async () => {
    const file = join(dir, 'schedule.json');
    const first = await synodAsync('chaos', '--seed', '21', '--rounds', '2', '--json', '--schedule-out', file);
    expect(first.status, first.stderr).toBe(0);
    const o = parse(first);
    expect(o).toMatchObject({ ok: true, protocol: 'single', seed: 21, experiment: null, rounds: 2, violations: [], shortestTrace: null, firstViolationMs: null });
    for (const key of ['decisions', 'faults', 'crashes', 'restarts', 'messages', 'schedule', 'timeline', 'perRound']) expect(o).toHaveProperty(key);
    expect(o.decisions).toBeGreaterThan(0);
    expect(o.timeline.length).toBeGreaterThan(0);
    // The file holds the schedule the run printed.
    const written = validateSchedule(JSON.parse(readFileSync(file, 'utf8'))) as SingleSchedule;
    expect(written).toEqual(o.schedule);
    const listed: Partial<Record<FaultKind, number>> = {};
    for (const round of written.rounds) for (const step of round.steps) for (const k of faultKindsOf(step)) listed[k] = (listed[k] ?? 0) + 1;
    expect(o.faults).toEqual(listed);

    const again = await synodAsync('chaos', '--schedule', file, '--json');
    expect(again.status, again.stderr).toBe(0);
    const replay = parse(again);
    expect(replay.rounds).toBe(written.rounds.length);
    expect(replay.faults).toEqual(listed);
    expect(replay.schedule.rounds).toEqual(written.rounds);
    expect(replay.violations).toEqual([]);
  });

  it('--protocol kv: crashes of every mode and pauses under load; the history is linearizable', async () => {
    const r = await synodAsync('chaos', '--protocol', 'kv', '--seed', '2', '--duration', '1500', '--clients', '4', '--json');
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { ok: boolean; protocol: string; decisions: number; unknownOutcome: number; finalReads: { answered: number; unanswered: number }; violations: unknown[]; linearizability: { status: string }; faults: Record<string, number>; crashes: Record<string, number> };
    expect(o).toMatchObject({ ok: true, protocol: 'kv', violations: [], linearizability: { status: 'linearizable' } });
    // How many operations finish within the 1.5 s of faults depends on the machine's load (none, on a busy one). The
    // final reads do not: after the faults every key is read once, inside the checked history, and each must be answered.
    expect(o.finalReads.unanswered).toBe(0);
    expect(o.finalReads.answered).toBeGreaterThan(0);
    // The clients give up on what they wait for when the run ends: the checker saw operations with unknown outcomes.
    expect(o.unknownOutcome).toBeGreaterThan(0);
    expect(Object.keys(o.faults).filter((k) => k.startsWith('crash:')).length).toBeGreaterThan(0);
  });

  it('--protocol kv replaces acceptors, learners and a proposer through the log and crashes whole systems, and the verdict holds', async () => {
    // At the start, before any bound can end the run: three replacements (settled before the end) and a system crash.
    const schedule = join(dir, 'kv-reconfig.json');
    const steps = [
      { op: 'replace', actor: 'a3', by: 'a4' },
      { op: 'crash-system', system: 's2', how: 'exit' },
      { op: 'replace', actor: 'l1', by: 'l3' },
      { op: 'replace', actor: 'p1', by: 'p3' },
      { op: 'crash', actor: 'a4', how: 'exception' },
      { op: 'wait', ms: 100 },
    ];
    writeFileSync(schedule, JSON.stringify({ format: 'synod-chaos-schedule', version: 1, protocol: 'kv', seed: null, cluster: { proposers: 2, acceptors: 3, learners: 2 }, clients: 4, keys: 3, steps }));
    const r = await synodAsync('chaos', '--schedule', schedule, '--decisions', '300', '--json');
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { ok: boolean; violations: unknown[]; linearizability: { status: string }; faults: Record<string, number>; crashes: Record<string, number>; reconfigurations: { asked: number; made: number; notMade: number }; finalReads: { answered: number; unanswered: number }; view: { epoch: number; proposers: string[]; acceptors: string[]; learners: string[] }; timeline: Array<{ text: string }> };
    expect(o).toMatchObject({ ok: true, violations: [], linearizability: { status: 'linearizable' } });
    expect(o.faults).toMatchObject({ replace: 3, 'crash-system': 1, 'crash:exception': 1 });
    expect(o.reconfigurations).toEqual({ asked: 3, made: 3, notMade: 0 });
    expect(o.finalReads).toEqual({ answered: 3, unanswered: 0 });
    expect(o.view).toMatchObject({ epoch: 3, proposers: ['p2', 'p3'], acceptors: ['a1', 'a2', 'a4'], learners: ['l2', 'l3'] });
    // The system crash took p2, a2 and l2 down at once.
    expect((o.crashes.exit ?? 0) >= 3).toBe(true);
  });
});

describe('synod chaos: help and bad arguments', () => {
  it('--help tells what it does', () => {
    const r = synod('chaos', '--help');
    expect(r.status).toBe(0);
    for (const text of ['--experiment', 'amnesia', 'no-fsync', 'reuse-ballot', '--schedule <file>', '--schedule-out', 'partitions of one actor', 'not the interleaving', 'Exit status', '--no-reconfig', '--no-system-crashes', 'crash-system', '"replace"']) expect(r.stdout).toContain(text);
  });

  const badSchedule = join(dir, 'bad.json');
  writeFileSync(badSchedule, JSON.stringify({ format: 'synod-chaos-schedule', version: 1, protocol: 'single', cluster: { proposers: 1, acceptors: 3, learners: 1 }, rounds: [{ steps: [{ op: 'crash', actor: 'a9', how: 'exit' }] }] }));
  const goodSchedule = join(dir, 'good.json');
  writeFileSync(goodSchedule, JSON.stringify({ format: 'synod-chaos-schedule', version: 1, protocol: 'single', cluster: { proposers: 1, acceptors: 3, learners: 1 }, rounds: [{ steps: [{ op: 'propose', proposer: 'p1', value: 1 }] }] }));
  const goodKvSchedule = join(dir, 'good-kv.json');
  writeFileSync(goodKvSchedule, JSON.stringify({ format: 'synod-chaos-schedule', version: 1, protocol: 'kv', cluster: { proposers: 1, acceptors: 3, learners: 1 }, clients: 1, keys: 1, steps: [] }));
  const badKvSchedule = join(dir, 'bad-kv.json');
  writeFileSync(badKvSchedule, JSON.stringify({ format: 'synod-chaos-schedule', version: 1, protocol: 'kv', cluster: { proposers: 1, acceptors: 3, learners: 1 }, clients: 1, keys: 1, steps: [{ op: 'replace', actor: 'a1', by: 'a2' }, { op: 'crash-system', system: 's4', how: 'exit' }] }));
  const notJson = join(dir, 'not.json');
  writeFileSync(notJson, '{');

  it.each([
    [['chaos', '--experiment', 'forgetful'], /one of amnesia, no-fsync, reuse-ballot/],
    [['chaos', '--protocol', 'kv', '--experiment', 'amnesia'], /single-decree cluster only/],
    [['chaos', '--rounds', '0'], /from 1/],
    [['chaos', '--seed', 'x'], /expected an integer/],
    [['chaos', '--schedule', join(dir, 'missing.json')], /cannot read the schedule/],
    [['chaos', '--schedule', badSchedule], /rounds\.0\.steps\.0\.actor: a9 is not an actor/],
    [['chaos', '--schedule', notJson], /not valid JSON/],
    [['chaos', '--schedule', goodSchedule, '--seed', '3'], /--seed cannot be combined with --schedule/],
    [['chaos', '--schedule', goodSchedule, '--protocol', 'kv'], /contradicts the schedule/],
    [['chaos', '--trace', join(dir, 'trace.txt')], /--trace .*extension.*--trace-format/],
    [['chaos', '--trace-format', 'html'], /--trace-format goes with --trace/],
    [['chaos', '--trace', join(dir, 'no-such-dir', 'trace.json')], /does not exist/],
    [['chaos', '--schedule-out', join(dir, 'no-such-dir', 'schedule.json')], /does not exist/],
    [['chaos', '--clients', '3'], /--clients is for --protocol kv/],
    [['chaos', '--no-reconfig'], /--no-reconfig is for --protocol kv/],
    [['chaos', '--no-system-crashes'], /--no-system-crashes is for --protocol kv/],
    [['chaos', '--schedule', goodKvSchedule, '--no-reconfig'], /--no-reconfig cannot be combined with --schedule/],
    [['chaos', '--schedule', badKvSchedule], /steps\.0\.by: a2 is an actor already.*steps\.1\.system: no system s4; the systems are s1, s2, s3/],
  ])('%j exits 2', (args, message) => {
    const r = synod(...args);
    expect(r.status, r.stdout).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
