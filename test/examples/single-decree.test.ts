import { describe, expect, it } from 'vitest';
import { runExample } from './helpers.js';

describe('examples/single-decree.mjs', () => {
  it('both contending proposers are told one decided value, which survives an acceptor crash', async () => {
    const lines = await runExample('single-decree.mjs');
    const told = lines.map((l) => /was told: (\w+)$/.exec(l)?.[1]).filter((v) => v !== undefined);
    expect(told).toHaveLength(3);
    expect(['apple', 'banana']).toContain(told[0]);
    expect(new Set(told).size).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(/^a1 crashed and came back: incarnation 2, state a1 acceptor promised=\d+\.p\d/));
    expect(lines.at(-1)).toBe('safety violations: 0');
  });
});
