// Runs an example as a user would: `node examples/NAME` from the repository
// root, where `import ... from 'synod'` resolves through the package's own
// exports map to the build in dist/ (npm test builds first).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const root = join(import.meta.dirname, '..', '..');

/** The example's stdout, split into lines; rejects (with its stderr) if it exits non-zero. */
export async function runExample(name: string, args: readonly string[] = []): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'examples', name), ...args], { cwd: root });
  return stdout.trimEnd().split('\n');
}
