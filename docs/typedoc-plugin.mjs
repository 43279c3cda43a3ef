// A TypeDoc plugin for synod's API reference (docs/api, `npm run docs`).
//
// 1. Entry points come from package.json `exports`: every export with a
//    `types` file `./dist/src/X.d.ts` documents its source `src/X.ts`, so a
//    new subpath (`synod/sim`, say) is in the reference as soon as it is in
//    the exports map. Each module is named the way a user imports it
//    (`synod`, `synod/sim`).
// 2. Every property of an exported `...Options` type must have a doc
//    comment, like every exported function, class and method: TypeDoc's own
//    `requiredToBeDocumented` works by kind only, and requiring every
//    property of every message and state type would document field names
//    with themselves.
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Application, Converter, ReflectionKind } from 'typedoc';

/** The `types` file of an export target, whatever its nesting of conditions. */
function typesOf(target) {
  if (target === null || typeof target !== 'object') return undefined;
  if (typeof target.types === 'string') return target.types;
  for (const value of Object.values(target)) {
    const found = typesOf(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * `[{ name: 'synod/sim', source: 'src/sim/index.ts' }, ...]` from the package
 * manifest in `root`, one per export that has type declarations under
 * dist/src.
 */
export function entryPointsFromExports(root = process.cwd()) {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
  const exportsMap = typeof pkg.exports === 'object' && pkg.exports !== null && !Array.isArray(pkg.exports) && Object.keys(pkg.exports).every((k) => k.startsWith('.'))
    ? pkg.exports
    : { '.': pkg.exports };
  const entries = [];
  for (const [subpath, target] of Object.entries(exportsMap)) {
    const types = typeof target === 'string' ? undefined : typesOf(target);
    const match = types === undefined ? null : /^\.\/dist\/(src\/.+)\.d\.ts$/.exec(types);
    if (match === null) continue;
    entries.push({ name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, '')}`, source: `${match[1]}.ts` });
  }
  return entries;
}

/** @param {Application} app */
export function load(app) {
  const names = new Map(entryPointsFromExports().map((e) => [resolve(e.source), e.name]));

  // Name each module after its import path.
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const symbol = context.getSymbolFromReflection(reflection);
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
    const name = file === undefined ? undefined : names.get(resolve(file));
    if (name !== undefined) reflection.name = name;
  });

  // Every option is documented.
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (!app.options.getValue('validation').notDocumented) return;
    for (const owner of project.getReflectionsByKind(ReflectionKind.Interface | ReflectionKind.TypeAlias)) {
      if (!/Options$/.test(owner.name)) continue;
      const members = owner.children ?? owner.type?.declaration?.children ?? [];
      for (const member of members) {
        if (!member.kindOf(ReflectionKind.Property)) continue;
        if (member.hasComment() || member.type?.declaration?.signatures?.some((s) => s.hasComment())) continue;
        const where = member.sources?.[0] ? `, defined in ${relative(process.cwd(), member.sources[0].fullFileName)}` : '';
        app.logger.warn(`option ${owner.getFriendlyFullName()}.${member.name}${where}, does not have any documentation`);
      }
    }
  });
}
