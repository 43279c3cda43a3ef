import { describe, expect, it } from 'vitest';
import { runExample } from './helpers.js';

describe('examples/bench-paths.mjs', () => {
  it('measures round trips over port, hub and ring, every echo back in order (figures reported, not asserted)', async () => {
    const lines = await runExample('bench-paths.mjs', ['300']);
    expect(lines).toHaveLength(3);
    ['port', 'hub', 'ring'].forEach((kind, i) => {
      expect(lines[i]).toMatch(new RegExp(`^${kind}: 300 round trips, every echo in order, p50 \\d+\\.\\d µs, p99 \\d+\\.\\d µs$`));
    });
  });
});
