import { describe, expect, it } from 'vitest';
import { runExample } from './helpers.js';

describe('examples/crash-recovery.mjs', () => {
  it('durable acceptors keep the decision through a restart of all of them; amnesiac ones break it and the checker says so', async () => {
    const lines = await runExample('crash-recovery.mjs');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('durable: p1 was told apple; after every acceptor restarted, p2 was told apple');
    expect(lines[1]).toBe('durable: violations: none');
    // The control: the same script with the durability rule broken.
    expect(lines[2]).toBe('amnesia: p1 was told apple; after every acceptor restarted, p2 was told banana');
    expect(lines[3]).toMatch(/^amnesia: violations: .*promise-regressed/);
    expect(lines[3]).toMatch(/chosen-conflict/);
  });
});
