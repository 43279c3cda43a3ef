// The protocol core stays pure: nothing in src/core imports node:*, lmdb,
// worker_threads or the other layers, and nothing reads a clock or draws a
// random number. The same core then runs unchanged in the simulator and in
// the worker-thread runtime.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const coreDir = join(import.meta.dirname, '..', '..', 'src', 'core');
const files = readdirSync(coreDir).filter((f) => f.endsWith('.ts'));

const forbidden: Array<[RegExp, string]> = [
  [/from\s+['"](node:|fs|path|os|worker_threads|crypto|lmdb|comlink|piscina)/, 'an I/O or runtime module'],
  [/from\s+['"]\.\.\//, 'another layer of synod'],
  [/\bimport\s*\(/, 'a dynamic import'],
  [/Date\.now|new Date\(|performance\.now|process\.hrtime/, 'a clock'],
  [/Math\.random|crypto\.getRandomValues/, 'randomness'],
  [/setTimeout|setInterval|setImmediate|queueMicrotask/, 'a timer'],
  [/\bprocess\./, 'the process'],
];

/** Returns the rule a source text breaks, or null. */
function impurity(text: string): string | null {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const [re, what] of forbidden) if (re.test(code)) return what;
  return null;
}

describe('core purity', () => {
  it('has core files to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });
  for (const f of files) {
    it(`${f} uses no I/O, clock, randomness or other layer`, () => {
      expect(impurity(readFileSync(join(coreDir, f), 'utf8'))).toBeNull();
    });
  }
  it('control: the check catches an impure file', () => {
    expect(impurity("import { readFileSync } from 'node:fs';")).toBe('an I/O or runtime module');
    expect(impurity('const t = Date.now();')).toBe('a clock');
    expect(impurity('const r = Math.random();')).toBe('randomness');
    expect(impurity("import { World } from '../sim/world.js';")).toBe('another layer of synod');
  });
});
