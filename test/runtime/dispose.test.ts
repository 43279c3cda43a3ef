/**
 * Closing without calling close(): `await using` closes both kinds of
 * cluster when the block is left, even by a throw; `tempDirParent` places the
 * temporary data directory; a program that exits without closing its
 * cluster does not leave that directory behind; and one that closes its
 * clusters ends by itself (no worker thread, spare or actor, outlives close()).
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

  it('a process whose clusters are closed ends by itself: close() stops the spare workers too, also one still booting', () => {
    const entry = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'src', 'index.js')).href;
    // Each cluster restarts a crashed acceptor (which takes a spare; the spare is then booted again) and is closed at once.
    const script = `import { createCluster, createKvCluster } from ${JSON.stringify(entry)};
const supervisor = { backoffBaseMs: 0, backoffMaxMs: 0, spares: 2 };
const restarted = (cluster) => new Promise((resolve) => cluster.once('restart', resolve));
const one = await createCluster({ proposers: 1, acceptors: 3, learners: 1, tempDirParent: process.argv[2], supervisor });
await one.propose('x');
let back = restarted(one);
await one.crash('a1', 'terminate');
await back;
await one.close();
const kv = await createKvCluster({ proposers: 1, acceptors: 3, learners: 1, tempDirParent: process.argv[2], supervisor });
await kv.put('k', 1);
back = restarted(kv);
await kv.crash('a1', 'terminate');
await back;
await kv.close();
process.stdout.write('closed');`;
    const file = join(scripts, 'close-ends-process.mjs');
    writeFileSync(file, script);
    // No process.exit in the script: a worker thread left alive would keep it running until this bound kills it.
    const r = spawnSync(process.execPath, [file, parent], { encoding: 'utf8', timeout: 100_000 });
    expect(r.signal, `still running after its clusters were closed; stderr: ${r.stderr}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('closed');
    expect(readdirSync(parent)).toEqual([]);
  });
});
