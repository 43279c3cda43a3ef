// What the trace viewer shows, checked without a browser: times read as time
// since the start with a unit, and each event's glyph (an injected crash is
// not drawn as a partition).
import { describe, expect, it } from 'vitest';
import { crashTarget, formatDuration, glyphOf, timeOrigin } from '../../src/trace/viewer/model.js';

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [0.25, '0.25 ms'],
    [1.125, '1.13 ms'],
    [7.5, '7.5 ms'],
    [12, '12 ms'],
    [42.25, '42.3 ms'],
    [312.4, '312 ms'],
    [999.6, '1000 ms'],
    [1000, '1 s'],
    [1250.5, '1.25 s'],
    [42_100, '42.1 s'],
    [187_000, '3 min 7 s'],
    [-2.5, '-2.5 ms'],
  ])('%s ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('never prints a cluster clock’s three decimals, and always names a unit', () => {
    for (const ms of [0.001, 3.456, 123.456, 1234.567, 98_765.432]) {
      const text = formatDuration(ms);
      expect(text).toMatch(/^-?\d+(\.\d{1,2})? (ms|s)$|^\d+ min \d+ s$/);
    }
  });
});

describe('timeOrigin', () => {
  it('is the earliest event time, whatever the order, and 0 for no events', () => {
    expect(timeOrigin([{ time: 1502.5 }, { time: 1500.25 }, { time: 1601 }])).toBe(1500.25);
    expect(timeOrigin([{ time: 0 }, { time: 7 }])).toBe(0);
    expect(timeOrigin([])).toBe(0);
  });
});

describe('glyphOf', () => {
  it('gives a crash injected on the env lane (the texts a live cluster writes) a glyph of its own', () => {
    expect(glyphOf({ kind: 'fault', text: 'crash a1 (exception)' })).toBe('injected-crash');
    expect(glyphOf({ kind: 'fault', text: 'crash p2 (terminate)' })).toBe('injected-crash');
    expect(glyphOf({ kind: 'fault', text: 'arm crash point after-persist in a3' })).toBe('injected-crash');
  });

  it('keeps the partition/heal glyph for partitions, heals and link faults, and the kind for everything else', () => {
    for (const text of ['partition {p1} | {a1,a2}', 'partition healed', 'heal every partition', 'link p1 -> a1: {"drop":0.5}']) expect(glyphOf({ kind: 'fault', text })).toBe('fault');
    expect(glyphOf({ kind: 'crash', text: 'crash' })).toBe('crash');
    expect(glyphOf({ kind: 'drop', text: 'drop p1->a1 prepare 1.p1 (lost by the network)' })).toBe('drop');
    expect(glyphOf({ kind: 'note', text: 'crash course' })).toBe('note');
  });
});

describe('crashTarget', () => {
  it('names the actor an injected crash strikes, and nothing for other events', () => {
    expect(crashTarget({ kind: 'fault', text: 'crash a1 (exception)' })).toBe('a1');
    expect(crashTarget({ kind: 'fault', text: 'arm crash point after-receive in p2' })).toBe('p2');
    expect(crashTarget({ kind: 'fault', text: 'partition {p1} | {a1}' })).toBeNull();
    expect(crashTarget({ kind: 'crash', text: 'crash' })).toBeNull();
  });
});
