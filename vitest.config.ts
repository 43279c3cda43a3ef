import { defineConfig } from 'vitest/config';

// The JSON report is what .ci/run reads to print its "N passed, N failed" line.
// The forks pool keeps lmdb (a native module) and worker threads out of
// vitest's own worker threads.
//
// Two projects: every test file runs in the first group; files named
// `*.alone.test.ts` (the one timing comparison: 2 sweep workers beat 1) run
// in a second group, after the first has finished, one file at a time, so
// nothing else competes for the cores they measure.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: ['test/**/*.alone.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: ['test/**/*.alone.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
