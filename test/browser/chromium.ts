/**
 * Finds the Chromium or Chrome the browser tests drive with playwright-core,
 * the way other tools look for one. The tests never download a browser and
 * never install one (a test command must not change the machine); without
 * one they fail with {@link NO_BROWSER}, which says how to provide it.
 *
 * Looked for, in order:
 * 1. `SYNOD_CHROMIUM`, then `CHROME_PATH`: the executable to use. One that is
 *    set must exist; a wrong path is reported, not silently passed over.
 * 2. The usual names on the PATH: chromium, chromium-browser, google-chrome,
 *    google-chrome-stable, chrome.
 * 3. The usual install locations on macOS and Windows.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

const INSTALLED = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  ...['PROGRAMFILES', 'PROGRAMFILES(X86)', 'LOCALAPPDATA'].flatMap((v) => {
    const base = process.env[v];
    return base ? [join(base, 'Google', 'Chrome', 'Application', 'chrome.exe'), join(base, 'Chromium', 'Application', 'chrome.exe')] : [];
  }),
];

/** What to do without a browser: the message a browser test fails with. */
export const NO_BROWSER =
  'no Chromium or Chrome found for the browser tests (they never download or install one). Install one so that it is on the PATH ' +
  '(Debian/Ubuntu: apt-get install chromium; Fedora: dnf install chromium; macOS: brew install --cask chromium, or Google Chrome), ' +
  'or point SYNOD_CHROMIUM (or CHROME_PATH) at a Chromium or Chrome executable.';

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The browser to use, or why there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { path: string } | { error: string } {
  for (const name of ['SYNOD_CHROMIUM', 'CHROME_PATH']) {
    const set = env[name];
    if (set === undefined || set === '') continue;
    return executable(set) ? { path: set } : { error: `${name}=${set} is not an executable file. ${NO_BROWSER}` };
  }
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const name of NAMES) {
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir === '') continue;
      for (const ext of exts) if (executable(join(dir, name + ext))) return { path: join(dir, name + ext) };
    }
  }
  for (const path of INSTALLED) if (executable(path)) return { path };
  return { error: NO_BROWSER };
}
