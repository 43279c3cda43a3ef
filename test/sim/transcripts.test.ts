// Data-driven transcript tests: each file in test/transcripts/ is a sequence of
// commands with the expected output of each. REWRITE=1 regenerates the expected
// outputs (review the diff before committing it).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTranscript } from '../../src/sim/transcript.js';

const dir = join(import.meta.dirname, '..', 'transcripts');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe('transcripts', () => {
  it('has transcript files to run', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });
  for (const file of files) {
    it(file, () => {
      const path = join(dir, file);
      const expected = readFileSync(path, 'utf8');
      const actual = runTranscript(expected);
      if (process.env.REWRITE === '1') writeFileSync(path, actual);
      else expect(actual).toBe(expected);
    });
  }
});
