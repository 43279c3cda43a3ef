// Layers that cannot drift back. Every file the build compiles belongs to
// one layer of the table below, and imports only from its own layer and
// from the layers its row allows. Imports are read with the TypeScript
// parser (static imports, `export ... from`, `import type`, dynamic
// `import('...')`, `import('...')` types and `require`), not with regexes,
// so a comment or a string that looks like an import is not one, and an
// import split over lines is still one. A folder that is in no row fails
// the test, so the table has to be updated, and reviewed, when the layout
// changes. A few files inside one layer are also kept apart (APART), where
// one of them once borrowed from another what both should share. test/core/purity.test.ts holds the core to more than this (no
// I/O, clock or randomness).
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** One layer: its folders (or single files), and the layers it may import besides itself. */
interface Layer {
  /** Extra members: subfolders (files directly in them) or single files that belong to this layer. */
  readonly also?: readonly string[];
  readonly mayImport: readonly string[];
  /** Why the layer sits where it does. */
  readonly why: string;
}

// Every library layer: what the package root may re-export.
const LIBRARY = ['src/errors.ts', 'src/util', 'src/core', 'src/machines', 'src/trace', 'src/check', 'src/host', 'src/sim', 'src/runtime/transports', 'src/runtime/storage', 'src/runtime/client', 'src/runtime', 'src/chaos'];

// The allow-list. A layer is named by its folder (the files directly in it)
// or by a single file; rows go from the bottom of the stack to the top.
const LAYERS: Readonly<Record<string, Layer>> = {
  'src/core': {
    also: ['src/core/multipaxos'],
    mayImport: [],
    why: 'The protocol as pure step functions; every host runs it unchanged, so it depends on nothing else of synod.',
  },
  'src/machines': {
    mayImport: ['src/core'],
    why: 'State machines the replicated log carries (the key-value store, a counter), one folder each: pure like the core, which knows them only through its StateMachine interface, so they sit right above it. Every folder directly under src/machines is in this layer, so adding a machine needs no new row.',
  },
  'src/errors.ts': {
    mayImport: [],
    why: 'SynodError, which any layer above the core may throw or recognise, so it depends on nothing.',
  },
  'src/util': {
    mayImport: ['src/errors.ts'],
    why: 'Helpers that know nothing of Paxos (the seeded PRNG, where the built workers are), usable from any layer.',
  },
  'src/trace': {
    also: ['src/trace/viewer'],
    mayImport: ['src/core', 'src/util', 'src/errors.ts'],
    why: 'The trace format, its builder and its writers (the HTML viewer\'s browser code included): data about a run, whoever produced it, so it knows no producer.',
  },
  'src/check': {
    mayImport: ['src/core', 'src/util', 'src/errors.ts'],
    why: 'Checkers judge the facts and histories any host feeds them, so they know no host.',
  },
  'src/host': {
    mayImport: ['src/core', 'src/util', 'src/errors.ts'],
    why: 'The protocol seam and the turn host, shared by the simulator and the worker entries, so it may know only what both share: the core.',
  },
  'src/sim': {
    mayImport: ['src/core', 'src/machines', 'src/host', 'src/check', 'src/trace', 'src/util', 'src/errors.ts'],
    why: 'The deterministic simulator hosts the core, checks and traces it, and knows nothing of threads, disks or clocks.',
  },
  'src/runtime/transports': {
    mayImport: ['src/util', 'src/errors.ts'],
    why: 'Message pipes between threads, which carry any message and so know nothing of Paxos.',
  },
  'src/runtime/storage': {
    mayImport: ['src/core', 'src/util', 'src/errors.ts'],
    why: "The durable stores of the core's records (LMDB, memory), beneath the runtime that uses them and the worker protocol that travels over them.",
  },
  'src/runtime/client': {
    mayImport: ['src/core', 'src/check', 'src/errors.ts'],
    why: "The replicated log's client (sessions, routing, retries, expiry) and its history recording, generic over the state machine: it is handed the cluster's proposers and a way to post to them, so it knows no worker, supervisor, transport or machine, and its unit tests run without threads.",
  },
  'src/runtime': {
    mayImport: ['src/core', 'src/machines', 'src/host', 'src/check', 'src/trace', 'src/runtime/client', 'src/runtime/storage', 'src/runtime/transports', 'src/util', 'src/errors.ts'],
    why: 'The worker-thread clusters: actors supervised on real storage and transports, checked and traced live; never the simulator.',
  },
  'src/chaos': {
    mayImport: ['src/core', 'src/machines', 'src/check', 'src/trace', 'src/runtime', 'src/util', 'src/errors.ts'],
    why: 'Fault schedules run against live clusters: it drives the runtime and checks it, never the simulator.',
  },
  'src/index.ts': {
    mayImport: LIBRARY,
    why: 'The package root re-exports the library; the command, the worker entries and the benchmarks are not part of it.',
  },
  workers: {
    mayImport: ['src/core', 'src/machines', 'src/host', 'src/trace', 'src/sim', 'src/runtime', 'src/runtime/storage', 'src/runtime/transports', 'src/util', 'src/errors.ts', 'bench'],
    why: 'Thread entry points: thin shells around code that lives elsewhere (actors, sweeps, benchmark roles). Nothing imports them; they are started by file path.',
  },
  bench: {
    also: ['bench/lib', 'bench/paths'],
    mayImport: ['src/core', 'src/machines', 'src/host', 'src/check', 'src/trace', 'src/sim', 'src/runtime', 'src/runtime/storage', 'src/runtime/transports', 'src/util', 'src/errors.ts'],
    why: 'Benchmarks measure the library (mp-core drives the turn host directly, without threads); they start workers by file path (src/util), never import them, and are run by the command, never run it.',
  },
  'src/cli': {
    mayImport: [...LIBRARY, 'bench'],
    why: 'The synod command, the top of the stack: it may use every library layer and the benchmarks, but no worker entry (those start by file path).',
  },
};

// Files of one layer that must not import one another, so a piece they
// share goes to a module of its own instead of into one of them.
const APART: ReadonlyArray<{ readonly files: readonly string[]; readonly why: string }> = [
  {
    files: ['src/check/safety.ts', 'src/check/log-safety.ts', 'src/check/linearizability.ts'],
    why: 'each checker stands alone; what they report (Violation) is in src/check/types.ts',
  },
  {
    files: ['src/runtime/cluster.ts', 'src/runtime/kv-cluster.ts'],
    why: 'the two clusters share a base (supervised.ts) and their option parsing (options.ts), not each other',
  },
];

/** The layer that `member` (a folder, or a single file) is in, by the table. */
const memberOf = new Map<string, string>();
for (const [name, layer] of Object.entries(LAYERS)) for (const m of [name, ...(layer.also ?? [])]) memberOf.set(m, name);

/** The machine folder (`src/machines/NAME`) that `file` is directly in, or null. */
function machineOf(file: string): string | null {
  const dir = posix.dirname(file);
  return /^src\/machines\/[^/]+$/.test(dir) ? dir : null;
}

/** The layer of `file` (a repository-relative path with `/`), or null if the table has no row for it or its folder. */
function layerOf(file: string): string | null {
  return memberOf.get(file) ?? memberOf.get(posix.dirname(file)) ?? (machineOf(file) === null ? null : 'src/machines');
}

/** One import: `from` imports `to` (repository-relative paths with `/`). */
interface Edge {
  readonly from: string;
  readonly to: string;
}

/** Every import edge that breaks the table or keeps too little APART, as "file → imported file (layer A may not import layer B)". */
function violations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = layerOf(from);
    const b = layerOf(to);
    if (a === null) continue; // reported by unplaced()
    if (b === null) out.push(`${from} → ${to} (${a} may not import ${posix.dirname(to)}, which is in no layer)`);
    else if (a !== b && !(LAYERS[a]?.mayImport ?? []).includes(b)) out.push(`${from} → ${to} (${a} may not import ${b})`);
    else if (machineOf(from) !== null && machineOf(to) !== null && machineOf(from) !== machineOf(to)) out.push(`${from} → ${to} (${machineOf(from)} may not import ${machineOf(to)}: each state machine stands alone)`);
    else {
      const apart = APART.find((g) => g.files.includes(from) && g.files.includes(to) && from !== to);
      if (apart) out.push(`${from} → ${to} (${from} may not import ${to}: ${apart.why})`);
    }
  }
  return out;
}

/** The folders (or root files) of `files` that are in no layer of the table, one message each. */
function unplaced(files: readonly string[]): string[] {
  const missing = new Set<string>();
  for (const f of files) if (layerOf(f) === null) missing.add(posix.dirname(f) === 'src' ? f : posix.dirname(f));
  return [...missing].map((m) => `${m} is in no layer; add it to the table in test/layers.test.ts, with why`);
}

/** The module specifiers `source` imports, in order; a dynamic import of a computed name is `<computed>`. */
function specifiers(source: string): string[] {
  const sf = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const literal = (n: ts.Node | undefined) => (n !== undefined && ts.isStringLiteralLike(n) ? n.text : '<computed>');
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier !== undefined) out.push(literal(n.moduleSpecifier));
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) out.push(literal(n.moduleReference.expression));
    else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) out.push(literal(n.arguments[0]));
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) out.push(literal(n.argument.literal));
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const root = resolve(import.meta.dirname, '..');
/** Repository-relative, with `/` on every platform. */
const rel = (abs: string) => relative(root, abs).split(sep).join('/');

// The files the build compiles, straight from tsconfig.json, so a new
// top-level folder added to the build is checked too.
const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
const files = (config?.fileNames ?? []).map(rel).sort();

/** The edges of the real sources, and every import that names its module by a computed expression. */
function importGraph(): { edges: Edge[]; computed: string[] } {
  const edges: Edge[] = [];
  const computed: string[] = [];
  for (const f of files) {
    for (const s of specifiers(ts.sys.readFile(join(root, f)) ?? '')) {
      if (s === '<computed>') computed.push(f);
      // Packages and node: builtins are not layers (purity.test.ts keeps them out of the core).
      else if (s.startsWith('.')) edges.push({ from: f, to: rel(resolve(root, dirname(f), s)).replace(/\.js$/, '.ts') });
    }
  }
  return { edges, computed };
}

describe('layers', () => {
  const { edges, computed } = importGraph();

  it('reads the real import graph, dynamic imports included', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files).toContain('src/cli/main.ts');
    expect(edges).toContainEqual({ from: 'src/cli/bench.ts', to: 'bench/suite.ts' });
    // Dynamic imports are edges too: the worker side loads lmdb only once the worker listens for 'halt'.
    expect(edges).toContainEqual({ from: 'src/runtime/worker-side.ts', to: 'src/runtime/storage/lmdb.ts' });
  });

  it('every folder of the build is a layer, or part of one, in the table', () => {
    expect(unplaced(files)).toEqual([]);
  });

  it('every layer says why it sits where it does, and allows only layers of the table', () => {
    for (const [name, layer] of Object.entries(LAYERS)) {
      expect(layer.why.length, name).toBeGreaterThan(20);
      for (const b of layer.mayImport) expect(Object.keys(LAYERS), `${name} allows ${b}`).toContain(b);
    }
  });

  it('the files kept apart exist, so a rename cannot quietly retire the rule', () => {
    for (const g of APART) for (const f of g.files) expect(files).toContain(f);
  });

  it('every import runs the way the table allows', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('every import names its module literally, so it can be checked', () => {
    expect(computed).toEqual([]);
  });

  it('control: a forbidden edge in a synthetic graph is reported, an allowed one is not', () => {
    // One edge per line, written the way a violation is reported.
    const graph: Edge[] = [
      'src/check/history.ts → src/sim/prng.ts',
      'src/check/history.ts → src/util/prng.ts',
      'src/trace/sim.ts → src/sim/simulator.ts',
      'bench/paths.ts → workers/transport-bench.ts',
      'src/core/multipaxos/machine.ts → src/core/value.ts',
      'src/machines/kv/machine.ts → src/core/value.ts',
      'src/machines/counter/machine.ts → src/machines/kv/machine.ts',
      'src/core/multipaxos/learner.ts → src/machines/kv/machine.ts',
      'src/core/ballot.ts → src/errors.ts',
      'src/host/turn.ts → src/runtime/wire.ts',
      'src/sim/world.ts → src/host/turn.ts',
      'src/runtime/kv-cluster.ts → test/helpers.ts',
      'src/runtime/kv-cluster.ts → src/runtime/cluster.ts',
      'src/runtime/kv-cluster.ts → src/runtime/options.ts',
      'src/runtime/kv-cluster.ts → src/runtime/client/log-client.ts',
      'src/runtime/client/log-client.ts → src/runtime/supervisor.ts',
      'src/runtime/client/log-client.ts → src/machines/kv/machine.ts',
      'src/check/log-safety.ts → src/check/safety.ts',
      'src/check/log-safety.ts → src/check/types.ts',
    ].map((line) => {
      const [from = '', to = ''] = line.split(' → ');
      return { from, to };
    });
    expect(violations(graph)).toEqual([
      'src/check/history.ts → src/sim/prng.ts (src/check may not import src/sim)',
      'src/trace/sim.ts → src/sim/simulator.ts (src/trace may not import src/sim)',
      'bench/paths.ts → workers/transport-bench.ts (bench may not import workers)',
      'src/machines/counter/machine.ts → src/machines/kv/machine.ts (src/machines/counter may not import src/machines/kv: each state machine stands alone)',
      'src/core/multipaxos/learner.ts → src/machines/kv/machine.ts (src/core may not import src/machines)',
      'src/core/ballot.ts → src/errors.ts (src/core may not import src/errors.ts)',
      'src/host/turn.ts → src/runtime/wire.ts (src/host may not import src/runtime)',
      'src/runtime/kv-cluster.ts → test/helpers.ts (src/runtime may not import test, which is in no layer)',
      'src/runtime/kv-cluster.ts → src/runtime/cluster.ts (src/runtime/kv-cluster.ts may not import src/runtime/cluster.ts: the two clusters share a base (supervised.ts) and their option parsing (options.ts), not each other)',
      'src/runtime/client/log-client.ts → src/runtime/supervisor.ts (src/runtime/client may not import src/runtime)',
      'src/runtime/client/log-client.ts → src/machines/kv/machine.ts (src/runtime/client may not import src/machines)',
      'src/check/log-safety.ts → src/check/safety.ts (src/check/log-safety.ts may not import src/check/safety.ts: each checker stands alone; what they report (Violation) is in src/check/types.ts)',
    ]);
  });

  it('control: a folder or a root file missing from the table is reported', () => {
    expect(unplaced(['src/core/ballot.ts', 'src/newlayer/a.ts', 'src/newlayer/b.ts', 'src/core/fast/x.ts', 'src/extra.ts', 'tools/gen.ts'])).toEqual([
      'src/newlayer is in no layer; add it to the table in test/layers.test.ts, with why',
      'src/core/fast is in no layer; add it to the table in test/layers.test.ts, with why',
      'src/extra.ts is in no layer; add it to the table in test/layers.test.ts, with why',
      'tools is in no layer; add it to the table in test/layers.test.ts, with why',
    ]);
  });

  it('control: the parser finds every kind of import and nothing in comments or strings', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "import './side-effect.js';",
      'import {',
      '  e,',
      "} from './split.js';",
      "const f = await import('./dynamic.js');",
      'const g = await import(name);',
      "type H = typeof import('./type-only.js');",
      "import i = require('./cjs.js');",
      "// import { x } from './commented.js';",
      "const s = \"import { y } from './in-a-string.js'\";",
    ].join('\n');
    expect(specifiers(source)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './side-effect.js', './split.js', './dynamic.js', '<computed>', './type-only.js', './cjs.js']);
  });
});
