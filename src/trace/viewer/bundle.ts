/**
 * Bundles the trace viewer (`app.ts`, browser code) into the one classic
 * script `html.ts` inlines into each page. `npm run build` runs this file to
 * write {@link BUNDLE_FILE} into dist; code running from the TypeScript
 * sources (the tests) calls {@link bundleViewer} instead, so both get the
 * same script from the same options.
 *
 * esbuild is a devDependency: it is loaded only when a bundle is made, never
 * by a published package, which carries the built script.
 */
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The name of the built script, next to this module in dist. */
export const BUNDLE_FILE = 'app.bundle.js';

const here = dirname(fileURLToPath(import.meta.url));
// Compiled, this module sits in dist/src/trace/viewer/ (the outDir mirrors the
// tree), and the viewer's sources stay in src/trace/viewer/.
const sourceDir = existsSync(join(here, 'app.ts')) ? here : join(here, '..', '..', '..', '..', 'src', 'trace', 'viewer');

/** The minimal slice of esbuild's API used here (its types stay out of the published declarations). */
interface Esbuild {
  buildSync(options: Record<string, unknown>): { outputFiles?: { text: string }[] };
}

/** The viewer as one script for a <script> element: an IIFE, no imports, nothing that could close the element. */
export function bundleViewer(): string {
  const esbuild = createRequire(import.meta.url)('esbuild') as Esbuild;
  const out = esbuild.buildSync({
    entryPoints: [join(sourceDir, 'app.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    // Browsers from 2020 on; the page has no polyfills.
    target: 'es2020',
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'warning',
  });
  const text = out.outputFiles?.[0]?.text;
  if (text === undefined) throw new Error('esbuild produced no viewer script');
  return text;
}

// `node dist/src/trace/viewer/bundle.js` (the build) writes the script next to
// itself. Real paths on both sides, so a checkout under a symlink still builds it.
const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  writeFileSync(join(here, BUNDLE_FILE), bundleViewer());
}
