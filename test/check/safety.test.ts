// The safety checker on hand-made fact streams: each kind of violation must be
// reported, and a correct stream must produce none.
import { describe, expect, it } from 'vitest';
import { SafetyChecker } from '../../src/check/safety.js';
import { membership } from '../../src/core/index.js';

const b = (round: number, proposer = 'p1') => ({ round, proposer });
const acc = (promised: ReturnType<typeof b> | null, accepted: { ballot: ReturnType<typeof b>; value: string } | null) => ({ role: 'acceptor' as const, promised, accepted });
const kinds = (c: SafetyChecker) => c.violations.map((v) => v.kind);

function checker() {
  const c = new SafetyChecker(membership(2, 3, 2));
  c.proposed('x');
  c.proposed('y');
  return c;
}

describe('safety checker', () => {
  it('a correct run has no violations', () => {
    const c = checker();
    c.acceptorDurable('a1', acc(b(1), { ballot: b(1), value: 'x' }), 1);
    c.acceptorDurable('a2', acc(b(1), { ballot: b(1), value: 'x' }), 2);
    c.decided('l1', { ballot: b(1), value: 'x' }, 3);
    c.decided('l2', { ballot: b(1), value: 'x' }, 4);
    expect(c.finish(5)).toEqual([]);
    expect(c.chosenValues).toEqual(['"x"']);
  });

  it('agreement: two learners deciding different values', () => {
    const c = checker();
    c.decided('l1', { ballot: b(1), value: 'x' }, 1);
    c.decided('l2', { ballot: b(2), value: 'y' }, 2);
    expect(kinds(c)).toContain('agreement');
  });

  it('agreement: two different values chosen by majorities, even if no learner noticed', () => {
    const c = checker();
    c.acceptorDurable('a1', acc(b(1), { ballot: b(1), value: 'x' }), 1);
    c.acceptorDurable('a2', acc(b(1), { ballot: b(1), value: 'x' }), 2);
    c.acceptorDurable('a2', acc(b(2), { ballot: b(2), value: 'y' }), 3);
    c.acceptorDurable('a3', acc(b(2), { ballot: b(2), value: 'y' }), 4);
    expect(kinds(c)).toEqual(['chosen-conflict']);
    expect(c.violations[0]?.step).toBe(4);
  });

  it('validity: deciding a value nobody proposed', () => {
    const c = checker();
    c.decided('l1', { ballot: b(1), value: 'z' }, 1);
    expect(kinds(c)).toContain('validity');
  });

  it('integrity: a learner deciding twice', () => {
    const c = checker();
    c.decided('l1', { ballot: b(1), value: 'x' }, 1);
    c.decided('l1', { ballot: b(1), value: 'x' }, 2);
    expect(kinds(c)).toContain('integrity');
  });

  it('a decision not backed by a majority at its ballot is reported at the end', () => {
    const c = checker();
    c.acceptorDurable('a1', acc(b(1), { ballot: b(1), value: 'x' }), 1);
    c.decided('l1', { ballot: b(1), value: 'x' }, 2);
    expect(kinds(c)).toEqual([]);
    expect(c.finish(3).map((v) => v.kind)).toEqual(['not-chosen']);
  });

  it('a decision seen before the accepts that back it (out-of-order facts) is fine', () => {
    const c = checker();
    c.decided('l1', { ballot: b(1), value: 'x' }, 1);
    c.acceptorDurable('a1', acc(b(1), { ballot: b(1), value: 'x' }), 2);
    c.acceptorDurable('a3', acc(b(1), { ballot: b(1), value: 'x' }), 3);
    expect(c.finish(4)).toEqual([]);
  });

  it('acceptor: accepted above promised', () => {
    const c = checker();
    c.acceptorDurable('a1', acc(b(1), { ballot: b(2), value: 'x' }), 1);
    expect(kinds(c)).toContain('accepted-above-promised');
  });

  it('acceptor: promise and accepted ballot never decrease, across a restart too', () => {
    const c = checker();
    c.acceptorDurable('a1', acc(b(3), { ballot: b(2), value: 'x' }), 1);
    c.acceptorDurable('a1', acc(b(2), { ballot: b(2), value: 'x' }), 2);
    expect(kinds(c)).toEqual(['promise-regressed']);
    c.acceptorRecovered('a1', null, 3);
    expect(kinds(c)).toEqual(['promise-regressed', 'promise-regressed', 'accepted-regressed']);
    expect(c.violations[1]?.facts).toMatchObject({ acceptor: 'a1', when: 'restart' });
  });

  it('broken invariants are reported', () => {
    const c = checker();
    c.invariantBroken('p1', 'ballot above roundMax', 7);
    expect(c.violations).toEqual([{ kind: 'invariant', step: 7, message: 'p1: ballot above roundMax', facts: { actor: 'p1' } }]);
  });
});
