// The package as a user gets it: `npm pack`ed, unpacked into a consumer
// project, type-checked there in the strictest setting a user may have
// (strict, moduleResolution nodenext, no skipLibCheck) against the newest
// @types/node and against the project's own (the oldest supported line),
// then run: a cluster started from the packed files, closed by `await using`,
// its temporary directory made under the consumer's tempDirParent; and the
// root and every subpath loaded with require() from a CommonJS file.
//
// Nothing is downloaded: the consumer's node_modules links synod's
// dependencies, TypeScript and both @types/node versions from this
// project's node_modules, so the check runs offline and leaves nothing
// behind but what it removes in afterAll.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; exports: Record<string, unknown> };
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const work = mkdtempSync(join(tmpdir(), 'synod-consumer-'));
const app = join(work, 'app');
const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');

let tarball = '';
let packed: string[] = [];

/** Links `node_modules/<name>` in the consumer to `target`. */
function link(name: string, target: string): void {
  const at = join(app, 'node_modules', name);
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(target, at, 'junction');
}

beforeAll(() => {
  // --ignore-scripts: npm test has built dist already; `prepare` would build it again.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const info = (JSON.parse(out) as { filename: string; files: { path: string }[] }[])[0];
  if (!info) throw new Error(`npm pack said: ${out}`);
  tarball = join(work, info.filename);
  packed = info.files.map((f) => f.path);

  const installed = join(app, 'node_modules', 'synod');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  for (const dep of Object.keys(pkg.dependencies)) link(dep, join(root, 'node_modules', dep));
  link('typescript', join(root, 'node_modules', 'typescript'));

  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  mkdirSync(join(app, 'src'));
  // Uses the root API and one name from each subpath, so every declaration file they reach is checked.
  writeFileSync(
    join(app, 'src', 'main.ts'),
    `import { createCluster, createKvCluster, SynodError, writeTraceFile, type ClusterOptions, type KvClusterOptions, type Trace, type Value } from 'synod';
import { initActor, stepActor } from 'synod/core';
import { initMpActor } from 'synod/core/multipaxos';
import { kvMachine } from 'synod/machines';
import { simulate, sweep } from 'synod/sim';
import { SafetyChecker, checkLinearizable } from 'synod/check';
import { TraceBuilder, toHtml } from 'synod/trace';
import { createTransport, transferListOf } from 'synod/transports';
import { Supervisor } from 'synod/runtime';
import { runSuite } from 'synod/bench';

export const reached = [initActor, stepActor, initMpActor, kvMachine, simulate, sweep, SafetyChecker, checkLinearizable, TraceBuilder, toHtml, createTransport, transferListOf, Supervisor, runSuite, createKvCluster, writeTraceFile];
export const kvOptions: KvClusterOptions = { proposers: 1, acceptors: 3, learners: 1, storage: 'memory' };

/** Decides a value on a cluster that \`await using\` closes; returns it and the cluster's data directory. */
export async function decide(tempDirParent: string): Promise<{ value: Value; dataDir: string | null }> {
  const options: ClusterOptions = { proposers: 1, acceptors: 3, learners: 1, tempDirParent };
  await using cluster = await createCluster(options);
  const trace: Trace | null = null;
  void trace;
  try {
    await cluster.propose('x', { proposer: 'nobody' });
  } catch (err) {
    if (!(err instanceof SynodError) || err.code !== 'SYNOD_INVALID_ARGUMENT') throw err;
  }
  return { value: await cluster.propose('hello'), dataDir: cluster.dataDir };
}
`,
  );
  writeFileSync(
    join(app, 'src', 'run.ts'),
    `import { readdirSync } from 'node:fs';
import { decide } from './main.js';

const parent = process.argv[2] as string;
const { value, dataDir } = await decide(parent);
console.log(JSON.stringify({ value, madeUnderParent: dataDir?.startsWith(parent) === true, leftInParent: readdirSync(parent) }));
`,
  );
  writeFileSync(
    join(app, 'require.cjs'),
    `const subpaths = ${JSON.stringify(subpaths)};
const loaded = {};
for (const p of subpaths) loaded[p] = Object.keys(require(p === '.' ? 'synod' : 'synod/' + p.slice(2))).length;
console.log(JSON.stringify({ loaded, createCluster: typeof require('synod').createCluster }));
`,
  );
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** tsc in the consumer with `@types/node` from `types` (a directory in this project's node_modules); emits to out/ when `emit`. */
function typecheck(types: string, emit: boolean) {
  rmSync(join(app, 'node_modules', '@types'), { recursive: true, force: true });
  link(join('@types', 'node'), join(root, 'node_modules', '@types', types));
  const config = {
    compilerOptions: { target: 'ES2022', lib: ['ES2023'], module: 'nodenext', moduleResolution: 'nodenext', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out', noEmit: !emit },
    include: ['src'],
  };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(config));
  return spawnSync(process.execPath, [tsc, '-p', app], { cwd: app, encoding: 'utf8' });
}

describe('the packed package in a consumer project', () => {
  it('ships the compiled code, the worker entries, the licence and the changelog, and no source maps', () => {
    expect(packed).toContain('dist/src/index.js');
    expect(packed).toContain('dist/src/index.d.ts');
    expect(packed).toContain('dist/workers/actor.js');
    // One worker entry hosts both protocols.
    expect(packed).not.toContain('dist/workers/mp-actor.js');
    expect(packed).toContain('LICENSE');
    expect(packed).toContain('CHANGELOG.md');
    expect(packed.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('type-checks strictly against the newest @types/node, without skipLibCheck', () => {
    const version = (JSON.parse(readFileSync(join(root, 'node_modules', '@types', 'node-latest', 'package.json'), 'utf8')) as { version: string }).version;
    const r = typecheck('node-latest', false);
    expect(r.stdout + r.stderr, `tsc with @types/node ${version}`).toBe('');
    expect(r.status).toBe(0);
  });

  it("type-checks strictly against the project's own @types/node, and runs: a decision, closed by await using, under tempDirParent", () => {
    const r = typecheck('node', true);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    const parent = join(work, 'data');
    mkdirSync(parent);
    const run = spawnSync(process.execPath, [join(app, 'out', 'run.js'), parent], { cwd: app, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    // The cluster's temporary directory was made under the parent and is gone: `await using` closed it.
    expect(JSON.parse(run.stdout)).toEqual({ value: 'hello', madeUnderParent: true, leftInParent: [] });
    expect(readdirSync(parent)).toEqual([]);
  });

  it('loads the root and every subpath with require()', () => {
    const r = spawnSync(process.execPath, [join(app, 'require.cjs')], { cwd: app, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { loaded: Record<string, number>; createCluster: string };
    expect(out.createCluster).toBe('function');
    expect(Object.keys(out.loaded).sort()).toEqual([...subpaths].sort());
    for (const p of subpaths) expect(out.loaded[p], p).toBeGreaterThan(0);
  });
});
