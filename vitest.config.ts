import { defineConfig } from 'vitest/config';

// The JSON report is what .ci/run reads to print its "N passed, N failed" line.
// The forks pool keeps lmdb (a native module) and worker threads out of
// vitest's own worker threads.
//
// No test measures speed (that is bench/'s job), so every file may run
// alongside the others. expect.poll waits up to a minute instead of vitest's
// default second: a poll waits for something to happen, and on a busy
// machine it may take longer than a second without anything being wrong.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 60_000 } },
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
