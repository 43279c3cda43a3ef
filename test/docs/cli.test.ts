// docs/cli.md is generated from the built CLI's --help (docs/cli-reference.mjs):
// a flag added, renamed or re-defaulted in the code without regenerating the
// reference fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, without type declarations
import { cliReference } from '../../docs/cli-reference.mjs';

const root = join(import.meta.dirname, '..', '..');

describe('CLI reference', () => {
  it('docs/cli.md is the current --help of every command (regenerate: node docs/cli-reference.mjs --write)', () => {
    const generated = cliReference() as string;
    for (const command of ['run', 'sim', 'trace', 'kv', 'kv-sim', 'chaos', 'bench']) expect(generated).toContain(`## synod ${command}\n`);
    expect(generated).toContain('--crash-how <mode>');
    expect(readFileSync(join(root, 'docs', 'cli.md'), 'utf8')).toBe(generated);
  });
});
