// The published shape of the package: the root export, its type declarations
// and the `synod` bin all exist after the build (npm test builds first).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; import: string }>;
  engines: { node: string };
};

describe('package', () => {
  it('is named synod, declares Node 20 and a synod bin', () => {
    expect(pkg.name).toBe('synod');
    expect(pkg.engines.node).toMatch(/>=20/);
    expect(existsSync(join(root, pkg.bin.synod as string))).toBe(true);
  });

  it('the root export loads and has types', async () => {
    const entry = pkg.exports['.'];
    expect(entry).toBeDefined();
    expect(existsSync(join(root, entry?.types as string))).toBe(true);
    const mod = (await import(pathToFileURL(join(root, entry?.import as string)).href)) as Record<string, unknown>;
    for (const name of ['stepActor', 'initActor', 'simulate', 'sweep', 'SafetyChecker', 'describeState']) expect(typeof mod[name]).toBe('function');
  });
});
