/**
 * Closing without calling close(): `await using` closes both kinds of
 * cluster when the block is left, even by a throw; `tempDirParent` places the
 * temporary data directory; and a program that exits without closing its
 * cluster does not leave that directory behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCluster, type Cluster } from '../../src/runtime/cluster.js';
import { createKvCluster, type KvCluster } from '../../src/runtime/kv-cluster.js';

const parent = mkdtempSync(join(tmpdir(), 'synod-dispose-test-'));
const scripts = mkdtempSync(join(tmpdir(), 'synod-dispose-script-'));
afterAll(() => {
  rmSync(parent, { recursive: true, force: true });
  rmSync(scripts, { recursive: true, force: true });
});

describe('await using and tempDirParent', () => {
  it('closes a single-decree cluster at the end of the block, and its temporary directory was under tempDirParent', async () => {
    let kept: Cluster | undefined;
    {
      await using cluster = await createCluster({ proposers: 1, acceptors: 3, learners: 1, tempDirParent: parent });
      kept = cluster;
      expect(dirname(cluster.dataDir as string)).toBe(parent);
      expect(existsSync(cluster.dataDir as string)).toBe(true);
      expect(await cluster.propose('x')).toBe('x');
    }
    expect(existsSync(kept.dataDir as string)).toBe(false);
    await expect(kept.propose('y')).rejects.toMatchObject({ code: 'SYNOD_CLOSED' });
    expect(readdirSync(parent)).toEqual([]);
  });

  it('closes a key-value cluster when the block is left by a throw', async () => {
    let kept: KvCluster | undefined;
    const body = async () => {
      await using kv = await createKvCluster({ proposers: 1, acceptors: 3, learners: 1, tempDirParent: parent });
      kept = kv;
      expect(dirname(kv.dataDir as string)).toBe(parent);
      await kv.put('k', 1);
      throw new Error('left by a throw');
    };
    await expect(body()).rejects.toThrow('left by a throw');
    expect(existsSync(kept?.dataDir as string)).toBe(false);
    await expect((kept as KvCluster).get('k')).rejects.toMatchObject({ code: 'SYNOD_CLOSED' });
  });

  it('refuses tempDirParent with dataDir, and a parent that is not a directory', async () => {
    await expect(createCluster({ proposers: 1, acceptors: 1, learners: 0, dataDir: parent, tempDirParent: parent })).rejects.toMatchObject({ code: 'SYNOD_INVALID_OPTIONS', message: expect.stringContaining('give one of them') });
    await expect(createKvCluster({ proposers: 1, acceptors: 1, learners: 1, tempDirParent: join(parent, 'missing') })).rejects.toMatchObject({
      code: 'SYNOD_INVALID_OPTIONS',
      message: expect.stringContaining('is not an existing directory'),
    });
    expect(readdirSync(parent)).toEqual([]);
  });

  it('removes the temporary directory when the process exits without close()', () => {
    const entry = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'src', 'index.js')).href;
    const script = `import { createCluster } from ${JSON.stringify(entry)};
const cluster = await createCluster({ proposers: 1, acceptors: 3, learners: 1, tempDirParent: process.argv[2] });
await cluster.propose('x');
process.stdout.write(cluster.dataDir);
process.exit(0);`;
    // A file, not --input-type=module -e: worker threads inherit the process's execArgv, and that flag stops them from starting.
    const file = join(scripts, 'exit-without-close.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file, parent], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(dirname(r.stdout)).toBe(parent);
    expect(existsSync(r.stdout)).toBe(false);
  });
});
