/**
 * Where synod's compiled files are. Worker threads must be started from
 * JavaScript, so code that runs from TypeScript sources (under vitest) still
 * points its workers at the build in `dist/` (npm test builds first).
 */
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: two levels above `src/util`, three above `dist/src/util`. */
export const packageRoot = here.includes(`${sep}dist${sep}src${sep}`) ? join(here, '..', '..', '..') : join(here, '..', '..');

/** Where the compiled worker entry point `workers/<name>.js` is (whether or not it was built). */
export function workerPath(name: string): string {
  return join(packageRoot, 'dist', 'workers', `${name}.js`);
}

/** The compiled worker entry point `workers/<name>.js`; throws a clear error if it was never built. */
export function workerFile(name: string): string {
  const file = workerPath(name);
  if (!existsSync(file)) throw new Error(`worker ${file} is missing: run \`npm run build\` first`);
  return file;
}
