// Every ```js code block in README.md and docs/*.md is a program a reader may
// paste: each runs here, written to a module file inside the repository (in
// test-results/, ignored by git) so that its `import ... from 'synod'`
// resolves through the package's own exports map, and must exit 0. (Not
// `node --input-type=module -e`: worker threads inherit that flag and refuse
// to start.) Links between the documents must point at files and headings that
// exist.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const documents = ['README.md', 'examples/README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
const run = promisify(execFile);

function jsBlocks(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)));
}

describe('code in the documentation', () => {
  const blocks = documents.flatMap((file) => jsBlocks(file).map((code, i) => ({ file, i, code })));

  it('has code blocks to run (the check cannot pass by finding none)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(blocks.some((b) => b.file === 'README.md')).toBe(true);
  });

  it.each(blocks)('$file, block $i, runs', async ({ file, i, code }) => {
    const dir = join(root, 'test-results', 'snippets');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${file.replace(/[/.]/g, '-')}-${i}.mjs`);
    writeFileSync(path, code);
    await expect(run(process.execPath, [path], { cwd: root })).resolves.toBeDefined();
  });
});

describe('links in the documentation', () => {
  it('every relative link names an existing file, and every #anchor an existing heading', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of documents) {
      const text = readFileSync(join(root, file), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue;
        checked++;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? join(root, file) : resolve(dirname(join(root, file)), path);
        if (!existsSync(resolved)) broken.push(`${file}: ${target} (no such file)`);
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) broken.push(`${file}: ${target} (no heading ${relative(root, resolved)}#${anchor})`);
      }
    }
    expect(broken).toEqual([]);
    // The control: the scan sees the links, and the anchors it compares with.
    expect(checked).toBeGreaterThan(50);
    expect(anchorsOf(join(root, 'docs', 'runtime.md')).has('message-paths-transports')).toBe(true);
    expect(anchorsOf(join(root, 'docs', 'runtime.md')).has('message-paths')).toBe(false);
  });
});
