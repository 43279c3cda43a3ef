// TypeDoc: the API reference in docs/api (`npm run docs`), generated from the
// doc comments of everything the package exports. test/docs/api.test.ts runs
// the same configuration with validation, so an undocumented export fails the
// tests. See docs/typedoc-plugin.mjs for the entry points and the options rule.
import { resolve } from 'node:path';
import { entryPointsFromExports } from './docs/typedoc-plugin.mjs';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  entryPoints: entryPointsFromExports().map((e) => resolve(e.source)),
  entryPointStrategy: 'resolve',
  // The package in the current directory (the repository root for `npm run docs`).
  tsconfig: resolve('tsconfig.json'),
  out: 'docs/api',
  name: 'synod',
  readme: 'none',
  plugin: ['./docs/typedoc-plugin.mjs'],
  // tsc type-checks the code (npm run build, npm test); TypeDoc need not again.
  skipErrorChecking: true,
  excludePrivate: true,
  excludeInternal: true,
  sort: ['source-order'],
  // No links to source files: they would depend on the clone's git remote, which differs between machines and CI.
  disableSources: true,
  validation: { notExported: true, invalidLink: true, invalidPath: true, rewrittenLink: true, notDocumented: true, unusedMergeModuleWith: true },
  // Properties are checked by the plugin for `...Options` types only.
  requiredToBeDocumented: ['Enum', 'EnumMember', 'Variable', 'Function', 'Class', 'Interface', 'TypeAlias', 'Method', 'Accessor'],
  // Types that exported declarations mention but the package does not export
  // (yet). TypeDoc fails when a name here is no longer needed, so this list
  // can only shrink: remove a name once the exports expose it.
  intentionallyNotExported: [
    'Batch',
    'HistoryEvent',
    'KvSimOptions',
    'KvSimResult',
    'LogSafetyChecker',
    'MpConfig',
    'MpMessage',
    'MpRecord',
    'ParallelSweepOptions',
    'TraceCollector',
  ],
  treatWarningsAsErrors: true,
};
