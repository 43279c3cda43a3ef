// Key-value client ids cannot repeat an earlier client's of the same data
// directory: each client takes the next number from a durable count in the
// directory before it sends a command, and its ids start with it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENTS_FILE, nextClientNumber } from '../../src/runtime/storage/registry.js';
import { StorageError } from '../../src/runtime/storage/types.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-clients-test-'));
  dirs.push(dir);
  return dir;
}

describe('client numbers of a data directory', () => {
  it('counts up from 0, one number per client, kept in the directory', async () => {
    const dir = await tempDir();
    expect([nextClientNumber(dir), nextClientNumber(dir), nextClientNumber(dir)]).toEqual([0, 1, 2]);
    const other = await tempDir();
    expect(nextClientNumber(other)).toBe(0);
    expect(nextClientNumber(dir)).toBe(3);
  });

  it('creates a data directory that does not exist yet', async () => {
    const dir = join(await tempDir(), 'not', 'yet');
    expect(nextClientNumber(dir)).toBe(0);
    expect(nextClientNumber(dir)).toBe(1);
  });

  it('refuses a count it cannot read, rather than start again at 0', async () => {
    const dir = await tempDir();
    nextClientNumber(dir);
    await writeFile(join(dir, CLIENTS_FILE), '{"next": -1}');
    expect(() => nextClientNumber(dir)).toThrow(StorageError);
    await writeFile(join(dir, CLIENTS_FILE), 'not json');
    expect(() => nextClientNumber(dir)).toThrow(/cannot read/);
  });
});
