/**
 * The shortest trace of a violation, on hand-built traces: the events that
 * establish the violation's facts, and only what is in their causal past.
 */
import { describe, expect, it } from 'vitest';
import type { Violation } from '../../src/check/types.js';
import { anchorsOf, causalPast, pickShortest, shortestTraceOf } from '../../src/chaos/shortest.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import type { RawTraceEvent, TraceEvent } from '../../src/trace/types.js';

let t = 0;
const ev = (actor: string, kind: RawTraceEvent['kind'], text: string, extra: Partial<RawTraceEvent> = {}): RawTraceEvent => ({ actor, kind, text, time: t++, ...extra });

/**
 * Two proposers, three acceptors. p1's value "A" is accepted by a1 and a2 at
 * 1.p1; later p2 gets "B" accepted by a2 and a3 at 2.p2. An unrelated
 * exchange between p3 and a3 happens meanwhile, and a learner decides.
 */
function conflictTrace(): { events: TraceEvent[]; unrelated: TraceEvent[]; violation: Violation } {
  const b = new TraceBuilder();
  const add = (raw: RawTraceEvent) => b.add(raw);
  const unrelated: TraceEvent[] = [];
  add(ev('p1', 'propose', 'propose "A"'));
  add(ev('p1', 'send', 'p1->a1 accept 1.p1 value="A"', { msg: 'm1', to: 'a1' }));
  add(ev('p1', 'send', 'p1->a2 accept 1.p1 value="A"', { msg: 'm2', to: 'a2' }));
  add(ev('a1', 'receive', 'p1->a1 accept 1.p1 value="A"', { msg: 'm1', from: 'p1' }));
  add(ev('a1', 'durable', 'durable promised=1.p1 accepted=1.p1="A"'));
  add(ev('a2', 'receive', 'p1->a2 accept 1.p1 value="A"', { msg: 'm2', from: 'p1' }));
  add(ev('a2', 'durable', 'durable promised=1.p1 accepted=1.p1="A"'));
  // Not in anyone's causal past that matters: p3 talks to l1 only.
  unrelated.push(add(ev('p3', 'propose', 'propose "C"')));
  unrelated.push(add(ev('p3', 'send', 'p3->l1 decide 9.p3 value="C"', { msg: 'm9', to: 'l1' })));
  unrelated.push(add(ev('l1', 'receive', 'p3->l1 decide', { msg: 'm9', from: 'p3' })));
  add(ev('p2', 'propose', 'propose "B"'));
  add(ev('p2', 'send', 'p2->a2 accept 2.p2 value="B"', { msg: 'm3', to: 'a2' }));
  add(ev('p2', 'send', 'p2->a3 accept 2.p2 value="B"', { msg: 'm4', to: 'a3' }));
  add(ev('a2', 'receive', 'p2->a2 accept 2.p2 value="B"', { msg: 'm3', from: 'p2' }));
  add(ev('a2', 'durable', 'durable promised=2.p2 accepted=2.p2="B"'));
  add(ev('a3', 'receive', 'p2->a3 accept 2.p2 value="B"', { msg: 'm4', from: 'p2' }));
  add(ev('a3', 'durable', 'durable promised=2.p2 accepted=2.p2="B"'));
  // After the facts: cannot be in their past.
  unrelated.push(add(ev('a1', 'send', 'a1->l1 accepted 1.p1 value="A"', { msg: 'm5', to: 'l1' })));
  const violation: Violation = {
    kind: 'chosen-conflict',
    step: 9,
    message: '"B" was chosen at 2.p2 after "A" was chosen at 1.p1',
    facts: { value: 'B', ballot: { round: 2, proposer: 'p2' }, otherValue: 'A', otherBallot: { round: 1, proposer: 'p1' } },
  };
  return { events: b.events, unrelated, violation };
}

describe('the shortest trace of a violation', () => {
  it('a chosen-conflict is anchored on the durable accepts of both values by a majority', () => {
    const { events, violation } = conflictTrace();
    const anchors = anchorsOf(violation, events, 2);
    expect(anchors.map((e) => `${e.actor} ${e.text}`)).toEqual([
      'a1 durable promised=1.p1 accepted=1.p1="A"',
      'a2 durable promised=1.p1 accepted=1.p1="A"',
      'a2 durable promised=2.p2 accepted=2.p2="B"',
      'a3 durable promised=2.p2 accepted=2.p2="B"',
    ]);
  });

  it('keeps the causal past of the anchors and leaves out the events not in it (the control)', () => {
    const { events, unrelated, violation } = conflictTrace();
    const s = shortestTraceOf(violation, events, 2);
    expect(s).not.toBeNull();
    const kept = new Set(s!.events.map((e) => e.index));
    for (const e of unrelated) expect(kept.has(e.index), `${e.actor} ${e.text} is not in the causal past`).toBe(false);
    // The sends that carried the accepts are in the past, through the receives' clocks.
    expect(s!.events.map((e) => e.text)).toContain('p1->a1 accept 1.p1 value="A"');
    expect(s!.events.map((e) => e.text)).toContain('p2->a3 accept 2.p2 value="B"');
    expect(s!.events.length).toBe(events.length - unrelated.length);
    // In trace order.
    expect(s!.events.map((e) => e.index)).toEqual([...kept].sort((a, b) => a - b));
  });

  it('causalPast excludes an event that is concurrent with every anchor', () => {
    const b = new TraceBuilder();
    const x = b.add(ev('a1', 'durable', 'durable x'));
    const y = b.add(ev('a2', 'durable', 'durable y'));
    expect(causalPast(b.events, [y])).toEqual([y]);
    expect(causalPast(b.events, [x, y])).toEqual([x, y]);
    expect(causalPast(b.events, [])).toEqual([]);
  });

  it('of several majorities that accepted a value, picks the one with the smallest past', () => {
    const b = new TraceBuilder();
    // a1 has a long history before accepting A; a2 and a3 do not.
    for (let i = 0; i < 5; i++) b.add(ev('a1', 'note', `busy ${i}`));
    b.add(ev('a1', 'durable', 'durable promised=1.p1 accepted=1.p1="A"'));
    b.add(ev('a2', 'durable', 'durable promised=1.p1 accepted=1.p1="A"'));
    b.add(ev('a3', 'durable', 'durable promised=1.p1 accepted=1.p1="A"'));
    b.add(ev('a2', 'durable', 'durable promised=2.p2 accepted=2.p2="B"'));
    b.add(ev('a3', 'durable', 'durable promised=2.p2 accepted=2.p2="B"'));
    const v: Violation = { kind: 'chosen-conflict', step: 1, message: '', facts: { value: 'B', ballot: { round: 2, proposer: 'p2' }, otherValue: 'A', otherBallot: { round: 1, proposer: 'p1' } } };
    const s = shortestTraceOf(v, b.events, 2);
    expect(s!.events.map((e) => e.actor)).not.toContain('a1');
    expect(s!.events).toHaveLength(4);
  });

  it('a promise that regressed is anchored on the write that made it and the restart that forgot it', () => {
    const b = new TraceBuilder();
    b.add(ev('a1', 'durable', 'durable promised=1.p1 accepted=none'));
    const made = b.add(ev('a1', 'durable', 'durable promised=3.p2 accepted=none'));
    b.add(ev('a1', 'crash', 'crashed (exit)'));
    const restart = b.add(ev('a1', 'restart', 'recovered'));
    b.add(ev('a1', 'durable', 'durable promised=4.p1 accepted=none'));
    const other = b.add(ev('a2', 'durable', 'durable promised=3.p2 accepted=none'));
    const v: Violation = { kind: 'promise-regressed', step: 3, message: '', facts: { acceptor: 'a1', before: { round: 3, proposer: 'p2' }, after: null, when: 'restart' } };
    const s = shortestTraceOf(v, b.events, 2);
    expect(s!.anchors).toEqual([made, restart]);
    expect(s!.events).toHaveLength(4);
    expect(s!.events).not.toContain(other);
  });

  it('agreement is anchored on the two learners decisions', () => {
    const b = new TraceBuilder();
    const d1 = b.add(ev('l1', 'decide', 'decided "A"', { value: '"A"' }));
    const d2 = b.add(ev('l2', 'decide', 'decided "B"', { value: '"B"' }));
    const v: Violation = { kind: 'agreement', step: 2, message: '', facts: { learner: 'l2', value: 'B', otherLearner: 'l1', otherValue: 'A' } };
    expect(anchorsOf(v, b.events, 2)).toEqual([d1, d2]);
  });

  it('nothing to anchor on gives no trace; pickShortest prefers a conflict, then the fewest events', () => {
    const { events, violation } = conflictTrace();
    const missing: Violation = { kind: 'agreement', step: 1, message: '', facts: { learner: 'l9', value: 'X', otherLearner: 'l8', otherValue: 'Y' } };
    expect(shortestTraceOf(missing, events, 2)).toBeNull();
    const b = new TraceBuilder();
    const made = b.add(ev('a1', 'durable', 'durable promised=1.p1 accepted=none'));
    b.add(ev('a1', 'restart', 'recovered'));
    const regression: Violation = { kind: 'promise-regressed', step: 1, message: '', facts: { acceptor: 'a1', before: { round: 1, proposer: 'p1' }, after: null, when: 'restart' } };
    const best = pickShortest(
      [
        { run: 'short', violations: [regression], events: b.events },
        { run: 'conflict', violations: [missing, violation], events },
      ],
      2,
    );
    expect(best?.run).toBe('conflict');
    expect(best?.trace.violation.kind).toBe('chosen-conflict');
    const onlyRegressions = pickShortest([{ run: 'short', violations: [regression], events: b.events }], 2);
    expect(onlyRegressions?.trace.anchors[0]).toEqual(made);
  });
});
