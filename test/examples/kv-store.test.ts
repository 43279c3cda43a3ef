import { describe, expect, it } from 'vitest';
import { runExample } from './helpers.js';

describe('examples/kv-store.mjs', () => {
  it('put, cas and get through the log, and the state survives a leader kill', async () => {
    const lines = await runExample('kv-store.mjs');
    expect(lines).toEqual([
      'cas x 1 -> 2: true',
      'cas x 1 -> 3: false',
      'get x: 2',
      expect.stringMatching(/^leader p[123] killed; p[123] elected at ballot \d+\.p[123]$/),
      'get x after the failover: 2',
      'get y: hello',
      'operations recorded: 7',
      'log safety violations: 0',
    ]);
  });
});
