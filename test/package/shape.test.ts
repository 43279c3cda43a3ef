// The published shape of the package: the root export, its type declarations
// and the `synod` bin all exist after the build (npm test builds first); the
// root holds the application API and the rest lives on subpaths.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; import: string; default: string }>;
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
    for (const name of ['createCluster', 'createKvCluster', 'SynodError', 'writeTraceFile', 'toHtml', 'toShiViz']) expect(typeof mod[name]).toBe('function');
    // Internals are not on the root: they are on their subpaths.
    for (const name of ['stepActor', 'simulate', 'Supervisor', 'Mailbox', 'openLmdbStore']) expect(mod[name]).toBeUndefined();
  });

  it('every subpath has types, an import and a default (for require) that exist, and loads', async () => {
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');
    expect(subpaths).toEqual(expect.arrayContaining(['.', './core', './sim', './check', './trace', './transports', './runtime', './bench']));
    const wanted: Record<string, string> = { './core': 'stepActor', './sim': 'simulate', './check': 'checkLinearizable', './trace': 'TraceBuilder', './transports': 'createTransport', './runtime': 'Supervisor', './bench': 'runSuite' };
    for (const p of subpaths) {
      const entry = pkg.exports[p];
      for (const file of [entry?.types, entry?.import, entry?.default]) expect(existsSync(join(root, file as string)), `${p}: ${file}`).toBe(true);
      const mod = (await import(pathToFileURL(join(root, entry?.import as string)).href)) as Record<string, unknown>;
      const name = wanted[p];
      if (name !== undefined) expect(typeof mod[name], `${name} from synod${p.slice(1)}`).toBe('function');
    }
  });
});
