// The linearizability checker on hand-written histories (each verdict checked,
// including which key fails and why), on random histories that are
// linearizable by construction, on the same histories with one read made
// impossible — the control that shows the checker can say no — and against a
// brute-force search on small histories with arbitrary reads.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeOperation,
  formatHistory,
  pairOperations,
  parseHistory,
  randomRegisterHistory,
  type HistoryEvent,
  type Key,
  type OpFunction,
  type Operation,
  type ProcessId,
} from '../../src/check/history.js';
import { checkLinearizable, type LinearizabilityResult } from '../../src/check/linearizability.js';
import type { Value } from '../../src/core/value.js';

const ev =
  (type: HistoryEvent['type']) =>
  (process: ProcessId, f: OpFunction, key: Key, value: Value = null): HistoryEvent => ({ process, type, f, key, value });
const invoke = ev('invoke');
const ok = ev('ok');
const fail = ev('fail');
const info = ev('info');
/** The completion of a cas that answered false: it happened, and saw a value other than `from`. */
const casFalse = (process: ProcessId, key: Key, value: Value): HistoryEvent => ({ process, type: 'ok', f: 'cas', key, value, swapped: false });

const fixture = (name: string) => readFileSync(new URL(`./histories/${name}`, import.meta.url), 'utf8');

function expectFailure(result: LinearizabilityResult, key: Key) {
  if (result.status !== 'not-linearizable') throw new Error(`expected not-linearizable, got ${JSON.stringify(result)}`);
  expect(result.ok).toBe(false);
  expect(result.key).toBe(key);
  expect(result.reason).toContain(`key ${JSON.stringify(key)} is not linearizable`);
  return result;
}

describe('linearizable histories', () => {
  it('a read overlapping a write may see the old or the new value', () => {
    for (const seen of [null, 1]) {
      const h = [invoke(0, 'write', 'x', 1), invoke(1, 'read', 'x'), ok(1, 'read', 'x', seen), ok(0, 'write', 'x', 1)];
      expect(checkLinearizable(h)).toMatchObject({ ok: true, status: 'linearizable' });
    }
  });

  it('concurrent writes may land in either order', () => {
    for (const [last, first] of [
      [1, 2],
      [2, 1],
    ]) {
      const h = [
        invoke(0, 'write', 'x', 1),
        invoke(1, 'write', 'x', 2),
        invoke(2, 'read', 'x'),
        ok(2, 'read', 'x', first),
        ok(0, 'write', 'x', 1),
        ok(1, 'write', 'x', 2),
        invoke(2, 'read', 'x'),
        ok(2, 'read', 'x', last),
      ];
      expect(checkLinearizable(h).ok).toBe(true);
    }
  });

  it('cas swaps only from the current value, and a failed cas has no effect', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(0, 'cas', 'x', [1, 2]),
      ok(0, 'cas', 'x', [1, 2]),
      invoke(1, 'cas', 'x', [1, 3]),
      fail(1, 'cas', 'x', [1, 3]),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', 2),
    ];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it('a cas that answered false saw some other value, and changed nothing', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(1, 'cas', 'x', [2, 3]),
      casFalse(1, 'x', [2, 3]),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', 1),
    ];
    expect(checkLinearizable(h)).toMatchObject({ ok: true, status: 'linearizable' });
  });

  it('a cas that answered false may have seen the value before a concurrent write', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      invoke(1, 'cas', 'x', [1, 2]),
      casFalse(1, 'x', [1, 2]),
      ok(0, 'write', 'x', 1),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', 1),
    ];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it('a write with unknown outcome may explain a cas that answered false', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(2, 'write', 'x', 2),
      info(2, 'write', 'x', 2),
      invoke(1, 'cas', 'x', [1, 3]),
      casFalse(1, 'x', [1, 3]),
    ];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it('a write with unknown outcome may take effect, even long after its info', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      info(0, 'write', 'x', 1),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', null),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', 1),
    ];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it('a write with unknown outcome may never take effect', () => {
    const h = [invoke(0, 'write', 'x', 1), info(0, 'write', 'x', 1), invoke(1, 'read', 'x'), ok(1, 'read', 'x', null)];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it('an invocation never completed counts as unknown, and a cas with unknown outcome may have swapped', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(0, 'cas', 'x', [1, 2]),
      info(0, 'cas', 'x', [1, 2]),
      invoke(1, 'write', 'y', 'a'),
      invoke(2, 'read', 'x'),
      ok(2, 'read', 'x', 2),
      invoke(2, 'read', 'y'),
      ok(2, 'read', 'y', 'a'),
    ];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it('a process that invokes again after an info is tolerated', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      info(0, 'write', 'x', 1),
      invoke(0, 'write', 'x', 2),
      ok(0, 'write', 'x', 2),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', 1),
    ];
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it('the fixture history with reads, cas, fail and info is linearizable', () => {
    expect(checkLinearizable(parseHistory(fixture('cas-register.jsonl'))).ok).toBe(true);
  });

  it('an empty history is linearizable', () => {
    expect(checkLinearizable([]).ok).toBe(true);
  });
});

describe('non-linearizable histories', () => {
  it('a stale read after a completed write, reported with its prefix and the stuck read', () => {
    const h = [
      invoke(0, 'write', 'y', 5),
      ok(0, 'write', 'y', 5),
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', null),
      invoke(1, 'read', 'y'),
      ok(1, 'read', 'y', 5),
    ];
    const r = expectFailure(checkLinearizable(h), 'x');
    expect(r.prefix.map((op) => [op.f, op.value])).toEqual([['write', 1]]);
    expect(r.state).toBe(1);
    expect(r.stuck.map((op) => [op.f, op.value, op.call])).toEqual([['read', null, 4]]);
    expect(r.reason).toContain('leaves the register at 1');
    expect(r.reason).toContain('process 1 read -> null (events 4-5) needs null');
  });

  it('a stale read in the fixture history, on key y', () => {
    const r = expectFailure(checkLinearizable(parseHistory(fixture('stale-read.jsonl'))), 'y');
    expect(r.prefix.map((op) => [op.f, op.value])).toEqual([
      ['write', 1],
      ['read', 1],
      ['write', 2],
    ]);
    expect(r.stuck.map((op) => op.call)).toEqual([8]);
  });

  it('a read of a value never written', () => {
    const h = [invoke(0, 'write', 'k', 1), invoke(1, 'read', 'k'), ok(1, 'read', 'k', 7), ok(0, 'write', 'k', 1)];
    const r = expectFailure(checkLinearizable(h), 'k');
    expect(r.stuck.map((op) => op.value)).toEqual([7]);
  });

  it('two readers observing concurrent writes in opposite orders', () => {
    const h = [
      invoke(0, 'write', 3, 1),
      invoke(1, 'write', 3, 2),
      invoke(2, 'read', 3),
      ok(2, 'read', 3, 1),
      invoke(3, 'read', 3),
      ok(3, 'read', 3, 2),
      invoke(2, 'read', 3),
      ok(2, 'read', 3, 2),
      invoke(3, 'read', 3),
      ok(3, 'read', 3, 1),
      ok(0, 'write', 3, 1),
      ok(1, 'write', 3, 2),
    ];
    expectFailure(checkLinearizable(h), 3);
  });

  it('a cas that succeeds from a value that cannot be current', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(0, 'write', 'x', 2),
      ok(0, 'write', 'x', 2),
      invoke(1, 'cas', 'x', [1, 3]),
      ok(1, 'cas', 'x', [1, 3]),
    ];
    const r = expectFailure(checkLinearizable(h), 'x');
    expect(r.reason).toContain('cas 1 -> 3');
    expect(r.reason).toContain('needs 1');
  });

  it('control: a cas that wrongly answers false (write 1; cas 1->2 false; read 1)', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(0, 'cas', 'x', [1, 2]),
      casFalse(0, 'x', [1, 2]),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', 1),
    ];
    const r = expectFailure(checkLinearizable(h), 'x');
    expect(r.prefix.map((op) => op.f)).toEqual(['write']);
    expect(r.state).toBe(1);
    expect(r.stuck.map(describeOperation)).toEqual(['process 0 cas 1 -> 2 answered false (events 2-3)']);
    expect(r.reason).toContain('needs anything but 1');
    // The same history with the cas recorded as fail (it did not happen) is linearizable.
    expect(checkLinearizable(h.map((e, i) => (i === 3 ? fail(0, 'cas', 'x', [1, 2]) : e))).ok).toBe(true);
  });

  it('control: the fixture history whose cas wrongly answers false, on key y', () => {
    const r = expectFailure(checkLinearizable(parseHistory(fixture('cas-false.jsonl'))), 'y');
    expect(r.stuck.map((op) => op.swapped)).toEqual([false]);
  });

  it('a write with unknown outcome cannot explain a cas that answered false when a later read says otherwise', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(2, 'write', 'x', 2),
      info(2, 'write', 'x', 2),
      invoke(1, 'cas', 'x', [1, 3]),
      casFalse(1, 'x', [1, 3]),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', 1),
    ];
    expectFailure(checkLinearizable(h), 'x');
  });

  it('an unobserved write with unknown outcome does not hide a stale read', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      ok(0, 'write', 'x', 1),
      invoke(2, 'write', 'x', 9),
      info(2, 'write', 'x', 9),
      invoke(1, 'read', 'x'),
      ok(1, 'read', 'x', null),
    ];
    expectFailure(checkLinearizable(h), 'x');
  });

  it('when the budget runs out the answer is unknown, never ok', () => {
    const h = randomRegisterHistory({ seed: 7, ops: 500, clients: 5, keys: 1, concurrency: 5 });
    const r = checkLinearizable(h, { maxSteps: 10 });
    expect(r).toMatchObject({ ok: false, status: 'unknown', key: 0 });
    expect(checkLinearizable(h).ok).toBe(true);
  });

  it('when the cache of configurations is full the answer is unknown, never ok (the memory bound)', () => {
    const h = randomRegisterHistory({ seed: 7, ops: 500, clients: 5, keys: 1, concurrency: 5 });
    const last = h.findLastIndex((e) => e.type === 'ok' && e.f === 'read');
    const broken = h.map((e, i) => (i === last ? { ...e, value: 'never written' } : e));
    for (const history of [h, broken]) {
      const r = checkLinearizable(history, { maxConfigurations: 50 });
      expect(r).toMatchObject({ ok: false, status: 'unknown', key: 0 });
      if (r.status === 'unknown') expect(r.reason).toContain('the cache limit of 50 configurations was reached');
    }
    expect(checkLinearizable(h, { maxConfigurations: 100_000 }).status).toBe('linearizable');
    expect(checkLinearizable(broken, { maxConfigurations: 100_000 }).status).toBe('not-linearizable');
  });
});

/** The register after `op` from `state`, or undefined if the register refuses it. */
function step(state: Value, op: Operation): Value | undefined {
  if (op.f === 'write') return op.value;
  if (op.swapped === false) return JSON.stringify((op.value as Value[])[0]) === JSON.stringify(state) ? undefined : state;
  const [from, to] = op.f === 'cas' ? (op.value as [Value, Value]) : [op.value, state];
  return JSON.stringify(from) === JSON.stringify(state) ? to : undefined;
}

/**
 * Linearizability by trying every order: some operation that no pending ok
 * operation returned before goes next, if the register allows it, until every
 * ok operation is placed (info operations may be left out).
 */
function bruteForce(ops: readonly Operation[]): boolean {
  const byKey = new Map<Key, Operation[]>();
  for (const op of ops) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  const place = (left: readonly Operation[], state: Value): boolean =>
    left.every((op) => op.status === 'info') ||
    left.some((op) => {
      if (left.some((other) => other.status === 'ok' && other.return < op.call)) return false;
      const after = step(state, op);
      return after !== undefined && place(left.filter((other) => other !== op), after);
    });
  return [...byKey.values()].every((keyOps) => place(keyOps, null));
}

describe('random histories', () => {
  const shapes = fc.record({
    seed: fc.integer(),
    ops: fc.integer({ min: 1, max: 200 }),
    clients: fc.integer({ min: 1, max: 6 }),
    keys: fc.integer({ min: 1, max: 3 }),
    concurrency: fc.integer({ min: 1, max: 6 }),
    infoRate: fc.constantFrom(0, 0.05, 0.1),
    values: fc.integer({ min: 1, max: 5 }),
  });

  /** Positions of the ok reads, which a mutation can target. */
  const okReads = (h: readonly HistoryEvent[]) => h.flatMap((e, i) => (e.type === 'ok' && e.f === 'read' ? [i] : []));
  const withValue = (h: readonly HistoryEvent[], i: number, value: Value) => h.map((e, j) => (j === i ? { ...e, value } : e));

  it('generated histories are linearizable, and reading a value never written breaks them', () => {
    fc.assert(
      fc.property(shapes, fc.nat(), (shape, pick) => {
        const h = randomRegisterHistory(shape);
        expect(checkLinearizable(h)).toMatchObject({ ok: true, status: 'linearizable' });
        const reads = okReads(h);
        fc.pre(reads.length > 0);
        const i = reads[pick % reads.length] as number;
        const r = checkLinearizable(withValue(h, i, 'never written'));
        expect(r).toMatchObject({ ok: false, status: 'not-linearizable', key: (h[i] as HistoryEvent).key });
      }),
      { numRuns: 300 },
    );
  });

  it('in a sequential history, a read that returns any other value breaks it', () => {
    fc.assert(
      fc.property(shapes, fc.nat(), (shape, pick) => {
        const h = randomRegisterHistory({ ...shape, concurrency: 1, infoRate: 0 });
        const reads = okReads(h);
        fc.pre(reads.length > 0);
        const i = reads[pick % reads.length] as number;
        const seen = (h[i] as HistoryEvent).value;
        // Another value that was (or may have been) written to some register:
        // only the real-time order rules it out.
        const other = seen === null ? 0 : seen === 0 ? null : (seen as number) - 1;
        const r = checkLinearizable(withValue(h, i, other));
        expect(r).toMatchObject({ ok: false, status: 'not-linearizable', key: (h[i] as HistoryEvent).key });
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with a brute-force search on small histories with arbitrary reads', () => {
    fc.assert(
      fc.property(shapes, fc.array(fc.option(fc.integer({ min: 0, max: 3 }))), (shape, reads) => {
        // Small histories whose reads return arbitrary values: some are
        // linearizable and some are not, and both answers must be right.
        const generated = randomRegisterHistory({ ...shape, ops: Math.min(shape.ops, 9), values: Math.min(shape.values, 3), infoRate: 0.3 });
        let r = 0;
        const h = generated.map((e) => (e.type === 'ok' && e.f === 'read' && r < reads.length ? { ...e, value: reads[r++] ?? null } : e));
        const result = checkLinearizable(h);
        expect(result.status).toBe(bruteForce(pairOperations(h)) ? 'linearizable' : 'not-linearizable');
        if (result.status === 'not-linearizable') {
          // The explanation holds: the prefix is a valid run of the register
          // ending in `state`, and every stuck operation needs another value.
          const end = result.prefix.reduce<Value | undefined>((state, op) => (state === undefined ? undefined : step(state, op)), null);
          expect(end).toEqual(result.state);
          expect(result.stuck.length).toBeGreaterThan(0);
          for (const op of result.stuck) expect(step(result.state, op)).toBeUndefined();
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with a brute-force search on small histories whose cas answers are flipped', () => {
    fc.assert(
      fc.property(shapes, fc.array(fc.boolean()), (shape, flips) => {
        // Every ok cas's answer is flipped or kept: a swap becomes an answer
        // of false and the other way round, so some histories are wrong.
        const generated = randomRegisterHistory({ ...shape, ops: Math.min(shape.ops, 9), values: Math.min(shape.values, 3), infoRate: 0.3 });
        let c = 0;
        const h = generated.map((e): HistoryEvent => {
          if (!(e.type === 'ok' && e.f === 'cas' && c < flips.length && flips[c++])) return e;
          const { swapped: _, ...rest } = e;
          return e.swapped === false ? rest : { ...rest, swapped: false };
        });
        expect(checkLinearizable(h).status).toBe(bruteForce(pairOperations(h)) ? 'linearizable' : 'not-linearizable');
      }),
      { numRuns: 1000 },
    );
  });

  it('a 20,000-operation mostly sequential history over 10 keys and 10 clients is linearizable', () => {
    const h = randomRegisterHistory({ seed: 20_000, ops: 20_000, clients: 10, keys: 10, concurrency: 3, infoRate: 0.01 });
    expect(pairOperations(h).length).toBeGreaterThan(15_000);
    expect(checkLinearizable(h)).toMatchObject({ ok: true, status: 'linearizable' });
  });
});

describe('history format', () => {
  it('parse and format round-trip', () => {
    for (const name of ['cas-register.jsonl', 'stale-read.jsonl', 'cas-false.jsonl']) {
      const text = fixture(name);
      const events = parseHistory(text);
      expect(formatHistory(events)).toBe(text);
      expect(parseHistory(formatHistory(events))).toEqual(events);
    }
    const generated = randomRegisterHistory({ seed: 3, ops: 100, clients: 4, keys: 2, concurrency: 4, infoRate: 0.1 });
    expect(parseHistory(formatHistory(generated))).toEqual(generated);
  });

  it('a malformed line is reported with its line number', () => {
    const good = '{"process":0,"type":"invoke","f":"read","key":"x","value":null}';
    expect(() => parseHistory(`${good}\n\n{"process":0,"type":"ok",`)).toThrow(/^history line 3: not valid JSON/);
    expect(() => parseHistory(`${good}\n{"process":0,"type":"done","f":"read","key":"x","value":null}`)).toThrow(
      /^history line 2: "type" must be one of "invoke", "ok", "fail", "info"/,
    );
    expect(() => parseHistory('{"process":0,"type":"invoke","f":"read","key":"x"}')).toThrow(/^history line 1: missing "value"/);
    expect(() => parseHistory('[1,2]')).toThrow(/^history line 1: expected a JSON object/);
    expect(() => parseHistory('{"process":0,"type":"ok","f":"read","key":"x","value":1,"swapped":false}')).toThrow(/^history line 1: "swapped" must be/);
    expect(() => parseHistory('{"process":0,"type":"ok","f":"cas","key":"x","value":[1,2],"swapped":"no"}')).toThrow(/^history line 1: "swapped" must be/);
  });

  it('pairing drops failed operations and reads with unknown outcome, and keeps unknown writes open forever', () => {
    const h = [
      invoke(0, 'write', 'x', 1),
      fail(0, 'write', 'x', 1),
      invoke(0, 'read', 'x'),
      info(0, 'read', 'x'),
      invoke(1, 'cas', 'x', [null, 2]),
      invoke(2, 'read', 'x'),
      ok(2, 'read', 'x', 2),
    ];
    const ops = pairOperations(h);
    expect(ops).toEqual([
      { process: 1, f: 'cas', key: 'x', value: [null, 2], status: 'info', call: 4, return: Infinity },
      { process: 2, f: 'read', key: 'x', value: 2, status: 'ok', call: 5, return: 6 },
    ]);
    expect(describeOperation(ops[0]!)).toBe('process 1 cas null -> 2 (invoked at event 4, outcome unknown)');
    expect(checkLinearizable(ops).ok).toBe(true);
  });

  it('pairing rejects inconsistent histories, naming the event', () => {
    expect(() => pairOperations([ok(0, 'read', 'x', 1)])).toThrow(/history event 0 .*completion without a pending invocation/);
    expect(() => pairOperations([invoke(0, 'read', 'x'), invoke(0, 'read', 'x')])).toThrow(/history event 1 .*still pending/);
    expect(() => pairOperations([invoke(0, 'read', 'x'), ok(0, 'read', 'y', 1)])).toThrow(/history event 1 .*key "x".*key "y"/);
    expect(() => pairOperations([invoke(0, 'cas', 'x', 1)])).toThrow(/history event 0 .*must be \[from, to\]/);
  });
});
