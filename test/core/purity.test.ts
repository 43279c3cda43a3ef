// The protocol core stays pure: nothing in src/core imports node:*, lmdb,
// worker_threads or the other layers, and nothing reads a clock or draws a
// random number. The same core then runs unchanged in the simulator and in
// the worker-thread runtime.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const coreDir = join(import.meta.dirname, '..', '..', 'src', 'core');
const files = (readdirSync(coreDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));

const forbidden: Array<[RegExp, string]> = [
  [/from\s+['"](node:|fs|path|os|worker_threads|crypto|lmdb|comlink|piscina)/, 'an I/O or runtime module'],
  [/\bimport\s*\(/, 'a dynamic import'],
  [/Date\.now|new Date\(|performance\.now|process\.hrtime/, 'a clock'],
  [/Math\.random|crypto\.getRandomValues/, 'randomness'],
  [/setTimeout|setInterval|setImmediate|queueMicrotask/, 'a timer'],
  [/\bprocess\./, 'the process'],
];

/** Returns the rule the source of `file` (a path inside src/core) breaks, or null. */
function impurity(text: string, file: string): string | null {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const [re, what] of forbidden) if (re.test(code)) return what;
  for (const m of code.matchAll(/from\s+['"](\.[^'"]+)['"]/g)) {
    const target = resolve(dirname(join(coreDir, file)), m[1] as string);
    if (!target.startsWith(coreDir + sep)) return 'another layer of synod';
  }
  return null;
}

describe('core purity', () => {
  it('has core files to check, the Multi-Paxos core among them', () => {
    expect(files.length).toBeGreaterThan(5);
    expect(files.some((f) => f.startsWith(`multipaxos${sep}`))).toBe(true);
  });
  for (const f of files) {
    it(`${f} uses no I/O, clock, randomness or other layer`, () => {
      expect(impurity(readFileSync(join(coreDir, f), 'utf8'), f)).toBeNull();
    });
  }
  it('control: the check catches an impure file', () => {
    expect(impurity("import { readFileSync } from 'node:fs';", 'x.ts')).toBe('an I/O or runtime module');
    expect(impurity('const t = Date.now();', 'x.ts')).toBe('a clock');
    expect(impurity('const r = Math.random();', 'x.ts')).toBe('randomness');
    expect(impurity("import { World } from '../sim/world.js';", 'x.ts')).toBe('another layer of synod');
    expect(impurity("import { World } from '../../sim/world.js';", `multipaxos${sep}x.ts`)).toBe('another layer of synod');
    expect(impurity("import { assert } from '../assert.js';", `multipaxos${sep}x.ts`)).toBeNull();
  });
});
