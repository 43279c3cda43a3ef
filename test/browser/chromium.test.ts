// How the browser tests find a browser (./chromium.ts): an environment
// variable first, and one that points nowhere is an error rather than a
// reason to look elsewhere; then the usual names on the PATH.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium, NO_BROWSER } from './chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'synod-find-chromium-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in executable called `name` in `dir`. */
function fake(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('finding a browser for the browser tests', () => {
  it('takes SYNOD_CHROMIUM, then CHROME_PATH, before the PATH', () => {
    const a = fake('my-chromium');
    const b = fake('my-chrome');
    const onPath = fake('chromium');
    expect(findChromium({ SYNOD_CHROMIUM: a, CHROME_PATH: b, PATH: dir })).toEqual({ path: a });
    expect(findChromium({ CHROME_PATH: b, PATH: dir })).toEqual({ path: b });
    expect(findChromium({ PATH: dir })).toEqual({ path: onPath });
  });

  it('reports a variable that points at nothing, with how to provide a browser', () => {
    const r = findChromium({ SYNOD_CHROMIUM: join(dir, 'nothing-here'), PATH: dir });
    expect(r).toEqual({ error: expect.stringContaining(`SYNOD_CHROMIUM=${join(dir, 'nothing-here')} is not an executable file`) });
    expect('error' in r && r.error.endsWith(NO_BROWSER)).toBe(true);
  });

  it('finds the usual names on the PATH, skipping files that are not executable', () => {
    const other = mkdtempSync(join(dir, 'path-'));
    writeFileSync(join(other, 'chromium'), 'not executable');
    const chrome = join(other, 'google-chrome');
    writeFileSync(chrome, '#!/bin/sh\n');
    chmodSync(chrome, 0o755);
    expect(findChromium({ PATH: other })).toEqual({ path: chrome });
  });
});
