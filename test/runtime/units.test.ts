/**
 * Unit tests of the runtime's small parts that need no threads: the mailbox's
 * overflow policy and the link fault rules.
 */
import { describe, expect, it } from 'vitest';
import { LinkTable, linkDelays } from '../../src/runtime/links.js';
import { Mailbox } from '../../src/host/mailbox.js';

describe('mailbox', () => {
  it('keeps FIFO order and, when full, drops the newest message and counts it', () => {
    const box = new Mailbox<number>(3);
    expect([1, 2, 3, 4, 5].map((n) => box.push(n))).toEqual([true, true, true, false, false]);
    expect(box.overflowed).toBe(2);
    expect(box.push(6, false)).toBe(true); // local inputs (timers, client requests) bypass the bound
    expect(box.takeAll()).toEqual([1, 2, 3, 6]);
    expect(box.length).toBe(0);
    expect(box.push(7)).toBe(true);
  });
});

describe('link rules', () => {
  it('cuts both directions between partition groups until heal, and keeps faults across heal', () => {
    const links = new LinkTable();
    links.partition(['p1', 'a1'], ['a2']);
    links.setFaults('p1', 'a3', { drop: 0.5 });
    expect(links.outgoing('p1')['a2']?.partitioned).toBe(true);
    expect(links.outgoing('a2')['p1']?.partitioned).toBe(true);
    expect(links.outgoing('a2')['a1']?.partitioned).toBe(true);
    expect(links.outgoing('p1')['a3']).toMatchObject({ partitioned: false, drop: 0.5 });
    links.heal();
    expect(links.outgoing('a2')).toEqual({});
    expect(Object.keys(links.outgoing('p1'))).toEqual(['a3']);
    links.setFaults('p1', 'a3', { drop: 0 });
    expect(links.outgoing('p1')).toEqual({});
  });

  it('drops, duplicates and delays by its probabilities', () => {
    const draws = (values: number[]) => () => values.shift() ?? 0.99;
    const rule = { partitioned: false, drop: 0.1, dup: 0.2, delay: 0.3, delayMs: 10 };
    expect(linkDelays(undefined, Math.random)).toEqual([0]);
    expect(linkDelays({ ...rule, partitioned: true }, Math.random)).toEqual([]);
    expect(linkDelays(rule, draws([0.05]))).toEqual([]); // dropped
    expect(linkDelays(rule, draws([0.5, 0.1, 0.9, 0.9]))).toEqual([0, 0]); // duplicated
    expect(linkDelays(rule, draws([0.5, 0.5, 0.2, 0.5]))).toEqual([6]); // delayed 1 + floor(0.5 * 10)
  });
});
