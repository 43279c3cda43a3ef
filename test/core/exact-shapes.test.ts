// Wire validation of peer messages: exact shapes, at every level. A field a
// member added to a well-formed message must never reach a core, and so never
// reach what an acceptor persists (a `junk: undefined` field once wrote a
// record that was not JSON, bricking the acceptor at its next restart; a
// bigint field crashed it; a 20 MB string was written to disk).
import { describe, expect, it } from 'vitest';
import { isBallot, isValue, validateMessage } from '../../src/core/index.js';
import { encodeRecord } from '../../src/runtime/storage/record.js';
import { validateMpMessage } from '../../src/core/multipaxos/wire.js';
import { kvMachine } from '../../src/machines/kv/index.js';

const ballot = { round: 1, proposer: 'p1' };

describe('single-decree messages have exact shapes', () => {
  it('accepts each well-formed message and returns a copy that is plain JSON', () => {
    const msgs = [
      { type: 'prepare', from: 'p1', ballot },
      { type: 'promise', from: 'a1', ballot, accepted: null },
      { type: 'promise', from: 'a1', ballot, accepted: { ballot, value: 'x' } },
      { type: 'nack', from: 'a1', ballot, promised: { round: 2, proposer: 'p2' } },
      { type: 'accept', from: 'p1', ballot, value: { k: [1, 2] } },
      { type: 'accepted', from: 'a1', ballot, value: 'x' },
      { type: 'decide', from: 'p1', ballot, value: null },
    ];
    for (const m of msgs) {
      const v = validateMessage(structuredClone(m));
      expect(v).toEqual({ ok: true, msg: m });
      if (v.ok) expect(JSON.parse(JSON.stringify(v.msg))).toEqual(m);
    }
  });

  it('refuses an extra field on a ballot: undefined, a bigint, a 20 MB string', () => {
    for (const junk of [undefined, 10n, 'x'.repeat(20 * 1024 * 1024)]) {
      const v = validateMessage(structuredClone({ type: 'accept', from: 'p1', ballot: { ...ballot, junk }, value: 'v' }));
      expect(v).toEqual({ ok: false, reason: 'ballot has an unknown field "junk"' });
    }
  });

  it('refuses extra fields on the message, on a nack\'s promised ballot and on a promise\'s accepted proposal', () => {
    expect(validateMessage({ type: 'prepare', from: 'p1', ballot, extra: 1 })).toMatchObject({ ok: false, reason: 'prepare has an unknown field "extra"' });
    expect(validateMessage({ type: 'nack', from: 'a1', ballot, promised: { ...ballot, x: undefined } })).toMatchObject({ ok: false });
    expect(validateMessage({ type: 'promise', from: 'a1', ballot, accepted: { ballot, value: 1, x: 1 } })).toMatchObject({ ok: false });
    expect(validateMessage({ type: 'promise', from: 'a1', ballot, accepted: { ballot: { ...ballot, y: 2 }, value: 1 } })).toMatchObject({ ok: false });
    // A missing field is refused too (a promise must say accepted: null).
    expect(validateMessage({ type: 'promise', from: 'a1', ballot })).toMatchObject({ ok: false, reason: 'promise lacks accepted' });
  });

  it('refuses over-long ids and values that would not come back unchanged (-0, holes)', () => {
    expect(validateMessage({ type: 'prepare', from: 'p'.repeat(1000), ballot })).toMatchObject({ ok: false, reason: 'missing sender' });
    expect(validateMessage({ type: 'prepare', from: 'p1', ballot: { round: 1, proposer: 'p'.repeat(1000) } })).toMatchObject({ ok: false });
    expect(validateMessage({ type: 'accept', from: 'p1', ballot, value: -0 })).toMatchObject({ ok: false, reason: 'value is not JSON' });
    // eslint-disable-next-line no-sparse-arrays
    expect(validateMessage({ type: 'accept', from: 'p1', ballot, value: [1, , 3] })).toMatchObject({ ok: false, reason: 'value is not JSON' });
    expect(isValue([1, null, 3])).toBe(true);
    expect(isValue(0)).toBe(true);
  });
});

describe('Multi-Paxos messages have exact shapes', () => {
  const batch = JSON.stringify([{ clientId: 'c1', seq: 1, op: { f: 'write', key: 'k', value: 1 } }]);

  it('accepts well-formed wire messages', () => {
    expect(validateMpMessage({ type: 'accept', from: 'p1', ballot, entries: [{ slot: 0, value: batch }] }, kvMachine)).toMatchObject({ ok: true });
    expect(validateMpMessage({ type: 'promise', from: 'a1', ballot, entries: [{ slot: 0, ballot, value: batch }], trimmed: 0 }, kvMachine)).toMatchObject({ ok: true });
    expect(validateMpMessage({ type: 'trim', from: 'p1', upTo: 3 }, kvMachine)).toMatchObject({ ok: true });
    expect(validateMpMessage({ type: 'snapshot', from: 'l1', upTo: 1, data: [['k', 1]], sessions: [['c1', { seq: 1, result: { f: 'write' } }]] }, kvMachine)).toMatchObject({ ok: true });
  });

  it('refuses an extra field anywhere: the envelope, a ballot, an entry, a command, an op, a session', () => {
    const bad = [
      { type: 'trim', from: 'p1', upTo: 3, junk: 1 },
      { type: 'prepare', from: 'p1', ballot: { ...ballot, junk: 'x' }, fromSlot: 0 },
      { type: 'accept', from: 'p1', ballot, entries: [{ slot: 0, value: batch, junk: 1 }] },
      { type: 'promise', from: 'a1', ballot, entries: [{ slot: 0, ballot: { ...ballot, junk: 1 }, value: batch }], trimmed: 0 },
      { type: 'accept', from: 'p1', ballot, entries: [{ slot: 0, value: JSON.stringify([{ clientId: 'c1', seq: 1, op: { f: 'read', key: 'k' }, junk: 'x' }]) }] },
      { type: 'accept', from: 'p1', ballot, entries: [{ slot: 0, value: JSON.stringify([{ clientId: 'c1', seq: 1, op: { f: 'read', key: 'k', value: 'x'.repeat(1000) } }]) }] },
      { type: 'snapshot', from: 'l1', upTo: 1, data: [], sessions: [['c1', { seq: 1, result: { f: 'write', junk: 1 } }]] },
      { type: 'nack', from: 'a1', ballot, promised: { ...ballot, junk: undefined } },
    ];
    for (const m of bad) expect(validateMpMessage(structuredClone(m), kvMachine), JSON.stringify(m)).toMatchObject({ ok: false });
  });

  it('checks every entry of a message and every command of a batch, the last and a hole included, not only the first', () => {
    const good = { clientId: 'c1', seq: 1, op: { f: 'write', key: 'k', value: 1 } };
    const bad = { clientId: 'c1', seq: 2, op: { f: 'write', key: 'k', value: 1 }, junk: 1 };
    const entry = (commands: unknown[]) => ({ slot: 0, value: JSON.stringify(commands) });
    expect(validateMpMessage({ type: 'accept', from: 'p1', ballot, entries: [entry([good, good])] }, kvMachine)).toMatchObject({ ok: true });
    const refused = [
      { type: 'accept', from: 'p1', ballot, entries: [entry([good, bad])] },
      { type: 'accept', from: 'p1', ballot, entries: [entry([good]), { ...entry([good]), slot: 1, junk: 1 }] },
      { type: 'accept', from: 'p1', ballot, entries: [entry([good]), { ...entry([bad]), slot: 1 }] },
      { type: 'commit', from: 'p1', entries: [entry([good]), { slot: -1, value: '[]' }] },
      // A hole (structured clone keeps one) reads as undefined, which is not an entry.
      { type: 'commit', from: 'p1', entries: [entry([good]), , entry([good])] },
    ];
    for (const m of refused) expect(validateMpMessage(structuredClone(m), kvMachine), JSON.stringify(m)).toMatchObject({ ok: false });
  });

  it('judges own fields only: a missing field is missing even when a prototype has it, and an inherited field is not an extra one', () => {
    const inheritsUpTo = Object.assign(Object.create({ upTo: 3 }) as object, { type: 'trim', from: 'p1' });
    expect(validateMpMessage(inheritsUpTo, kvMachine)).toMatchObject({ ok: false, reason: expect.stringContaining('lacks upTo') });
    const inheritsJunk = Object.assign(Object.create({ junk: 1 }) as object, { type: 'trim', from: 'p1', upTo: 3 });
    expect(validateMpMessage(inheritsJunk, kvMachine)).toMatchObject({ ok: true, msg: { type: 'trim', from: 'p1', upTo: 3 } });
    expect(validateMpMessage({ type: 'trim', from: 'p1' }, kvMachine)).toMatchObject({ ok: false, reason: expect.stringContaining('lacks upTo') });
  });
});

describe('what is persisted is checked exactly before it is written', () => {
  it('a ballot with an extra field is not a ballot, so no record holding one is written', () => {
    const junk = { round: 1, proposer: 'p1', junk: undefined };
    expect(isBallot({ round: 1, proposer: 'p1' })).toBe(true);
    expect(isBallot(junk)).toBe(false);
    expect(() => encodeRecord({ role: 'acceptor', promised: junk, accepted: null })).toThrow(/refusing to persist an invalid durable record/);
    expect(() => encodeRecord({ role: 'acceptor', promised: { round: 1, proposer: 'p1' }, accepted: { ballot: junk, value: 'v' } })).toThrow(/refusing to persist/);
    expect(encodeRecord({ role: 'acceptor', promised: { round: 1, proposer: 'p1' }, accepted: null })).toMatch(/^synod:1:/);
  });
});
