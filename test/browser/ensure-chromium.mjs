#!/usr/bin/env node
// Run by `npm test` before the tests: the trace viewer's browser test drives
// Debian's chromium (/usr/bin/chromium) with playwright-core and never
// downloads a browser. On a Debian or Ubuntu machine where we are root (or
// have sudo), install the package if it is missing; anywhere else, say what
// to install and carry on: that one test then fails with the same advice.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';
if (existsSync(CHROMIUM)) process.exit(0);

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const root = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = !root && has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
if (process.platform !== 'linux' || !has('apt-get') || !(root || sudo)) {
  console.warn(`note: ${CHROMIUM} is missing, so the trace viewer's browser test will fail; install Debian's chromium package (apt-get install chromium).`);
  process.exit(0);
}

const apt = (...args) => {
  const cmd = sudo ? ['sudo', '-n', 'apt-get', ...args] : ['apt-get', ...args];
  return spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
};
console.warn(`installing Debian's chromium for the trace viewer's browser test (once; this takes a minute)...`);
const ok = apt('install', '-y', '--no-install-recommends', 'chromium') || (apt('update') && apt('install', '-y', '--no-install-recommends', 'chromium'));
console.warn(ok && existsSync(CHROMIUM) ? `installed ${CHROMIUM}` : `could not install chromium; the browser test will fail until it is installed (apt-get install chromium)`);
