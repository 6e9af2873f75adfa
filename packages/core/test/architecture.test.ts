import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KEEL_VERSION } from '../src/contract/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const coreSrc = path.join(root, 'packages/core/src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|cts|mts)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g)].map((match) => match[1]!);
}

// ---------------------------------------------------------------------------------------------
// Layer rules for packages/core/src (DESIGN §2; issue 8 point 5).
//
// 1. Layer order. A top folder may import only from folders in layers strictly before its own:
//      contract, fsutil  ->  ledger, replay  ->  runtime  ->  workspace  ->  policy  ->  runs  ->  reliability  ->  host
//    `contract` is browser-safe (no Node); `fsutil` is Node helpers with no Keel dependency;
//    `replay` is browser-safe and so may use the contract only (not fsutil); `policy` (the
//    policy engine, pure apart from file reads and realpath/PATH lookups) may use the contract,
//    fsutil and workspace only. Folders in the same
//    layer do not import each other. `src/index.ts` is the package entry and may import anything.
//    A top folder or root file that is not in the list is itself an offence: place it first.
// 2. Index only. A folder reaches another folder only through that folder's `index.ts`
//    (`../ledger/index.js`, never `../ledger/atomic-file.js`). Subfolders count as inside their
//    top folder (runtime/acp, runtime/codex, runtime/builtin are `runtime`), so
//    `../runtime/builtin/index.js` from runs/ is a deep import too.
//    Exception, allowed on purpose: any file under `contract/` may be imported directly. The
//    contract is a set of schema modules (`../contract/schemas/ledger.js`, `../contract/errors.js`,
//    ...) with no internal state to hide, and importing the one schema a file needs is how the
//    code base uses it.
// 3. Nothing relative may leave packages/core/src.
// Only relative specifiers are checked here; packages and Node built-ins are the business of the
// browser-safety tests below.
// ---------------------------------------------------------------------------------------------

const LAYERS: readonly (readonly string[])[] = [
  ['contract', 'fsutil', 'logging'],
  ['ledger', 'replay'],
  ['runtime'],
  ['workspace'],
  ['policy'],
  ['runs'],
  ['reliability'],
  ['diagnostics'],
  ['sinks'],
  ['host'],
];
/** Folders narrower than their layer allows: the only folders they may import. */
const ONLY: Readonly<Record<string, readonly string[]>> = {
  contract: [],
  fsutil: [],
  logging: [],
  replay: ['contract'],
  policy: ['contract', 'fsutil', 'workspace'],
};
/** Folders whose inner files may be imported directly (see rule 2). */
const DEEP_IMPORT_ALLOWED = new Set(['contract']);
const ENTRY = 'index.ts';

const layerOf = new Map(LAYERS.flatMap((folders, rank) => folders.map((folder) => [folder, rank] as const)));

type LayerRule = 'layer-order' | 'index-only' | 'unplaced';
interface LayerViolation {
  rule: LayerRule;
  file: string;
  spec: string;
  reason: string;
}

/**
 * The rule checker. `file` is relative to packages/core/src with `/` separators
 * (`runtime/codex/codex-adapter.ts`), `spec` the import specifier as written.
 */
function checkImport(file: string, spec: string): LayerViolation[] {
  if (!spec.startsWith('.')) return [];
  const found = (rule: LayerRule, reason: string): LayerViolation => ({ rule, file, spec, reason });
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
  if (target === '..' || target.startsWith('../')) return [found('unplaced', 'leaves packages/core/src')];
  const [fromFolder, ...fromRest] = file.split('/');
  const [toFolder, ...toRest] = target.split('/');
  if (fromRest.length === 0) {
    if (file === ENTRY) return []; // the package entry may import anything
    return [found('unplaced', `${file} sits at the root of src; only ${ENTRY} may`)];
  }
  if (fromFolder === toFolder) return [];
  const violations: LayerViolation[] = [];
  const fromRank = layerOf.get(fromFolder!);
  const toRank = layerOf.get(toFolder!);
  if (fromRank === undefined) violations.push(found('unplaced', `${fromFolder}/ is not in the layer order`));
  if (toRest.length === 0) violations.push(found('unplaced', `${target} is a root file of src, not a folder`));
  else if (toRank === undefined) violations.push(found('unplaced', `${toFolder}/ is not in the layer order`));
  if (fromRank !== undefined && toRank !== undefined) {
    const only = ONLY[fromFolder!];
    if (only !== undefined && !only.includes(toFolder!)) {
      violations.push(found('layer-order', `${fromFolder}/ may import ${only.length === 0 ? 'no other folder' : `only ${only.map((f) => `${f}/`).join(', ')}`}, not ${toFolder}/`));
    } else if (toRank >= fromRank) {
      violations.push(found('layer-order', `${fromFolder}/ (layer ${fromRank}) imports ${toFolder}/ (layer ${toRank}): only earlier layers are allowed`));
    }
  }
  if (toRest.length > 0 && !DEEP_IMPORT_ALLOWED.has(toFolder!) && toRest.join('/') !== 'index.js') {
    violations.push(found('index-only', `reaches past ${toFolder}/index.ts into ${target}`));
  }
  return violations;
}

function treeViolations(): LayerViolation[] {
  return sourceFiles(coreSrc).flatMap((file) => {
    const relative = path.relative(coreSrc, file).split(path.sep).join('/');
    return importsOf(file).flatMap((spec) => checkImport(relative, spec));
  });
}

function report(violations: LayerViolation[]): string {
  return violations.length === 0
    ? 'none'
    : `${violations.length} import(s) break the layer rules:\n${violations.map((v) => `  packages/core/src/${v.file} -> ${v.spec}  [${v.rule}] ${v.reason}`).join('\n')}`;
}

function expectClean(violations: LayerViolation[]): void {
  const text = report(violations);
  if (violations.length > 0) console.error(text);
  expect(violations.map((v) => `${v.file} -> ${v.spec} [${v.rule}]`), text).toEqual([]);
}

describe('the layer rule checker (proved on known cases)', () => {
  const rulesOf = (file: string, spec: string) => checkImport(file, spec).map((v) => v.rule).sort();

  it('reports each wrong-way import named in issue 8', () => {
    // A runtime adapter reaching up into host/ (and past its index).
    expect(rulesOf('runtime/codex/codex-adapter.ts', '../../host/version.js')).toEqual(['index-only', 'layer-order']);
    expect(rulesOf('runtime/acp/acp-adapter.ts', '../../host/version.js')).toEqual(['index-only', 'layer-order']);
    // The built-in agent reaching sideways-up into the ledger, past its index.
    expect(rulesOf('runtime/builtin/session-store.ts', '../../ledger/atomic-file.js')).toEqual(['index-only']);
    // runs/ reaching past runtime/index.ts, including into a subfolder's index.
    expect(rulesOf('runs/x.ts', '../runtime/agent-process.js')).toEqual(['index-only']);
    expect(rulesOf('runs/x.ts', '../runtime/builtin/index.js')).toEqual(['index-only']);
    expect(rulesOf('runs/x.ts', '../ledger/canonical-json.js')).toEqual(['index-only']);
    // An upward import, even through the index.
    expect(rulesOf('ledger/x.ts', '../runs/index.js')).toEqual(['layer-order']);
  });

  it('reports the layer order in every direction it can be broken', () => {
    expect(rulesOf('ledger/x.ts', '../replay/index.js')).toEqual(['layer-order']); // same layer
    expect(rulesOf('replay/x.ts', '../ledger/index.js')).toEqual(['layer-order']);
    expect(rulesOf('replay/x.ts', '../fsutil/index.js')).toEqual(['layer-order']); // browser-safe: contract only
    expect(rulesOf('contract/x.ts', '../fsutil/index.js')).toEqual(['layer-order']);
    expect(rulesOf('contract/schemas/x.ts', '../../host/index.js')).toEqual(['layer-order']);
    expect(rulesOf('fsutil/x.ts', '../contract/index.js')).toEqual(['layer-order']); // no Keel dependency
    expect(rulesOf('runtime/x.ts', '../workspace/index.js')).toEqual(['layer-order']);
    expect(rulesOf('runtime/x.ts', '../runs/index.js')).toEqual(['layer-order']);
    expect(rulesOf('workspace/x.ts', '../runs/index.js')).toEqual(['layer-order']);
    expect(rulesOf('runs/x.ts', '../host/index.js')).toEqual(['layer-order']);
    expect(rulesOf('runs/x.ts', '../host/workstation.js')).toEqual(['index-only', 'layer-order']);
  });

  it('places policy/ between workspace/ and runs/, reaching only contract, fsutil and workspace', () => {
    expect(rulesOf('policy/x.ts', '../contract/index.js')).toEqual([]);
    expect(rulesOf('policy/x.ts', '../contract/schemas/policy.js')).toEqual([]);
    expect(rulesOf('policy/x.ts', '../workspace/index.js')).toEqual([]);
    expect(rulesOf('policy/x.ts', '../fsutil/index.js')).toEqual([]);
    expect(rulesOf('runs/x.ts', '../policy/index.js')).toEqual([]);
    expect(rulesOf('host/x.ts', '../policy/index.js')).toEqual([]);
    expect(rulesOf('policy/x.ts', '../ledger/index.js')).toEqual(['layer-order']);
    expect(rulesOf('policy/x.ts', '../runtime/index.js')).toEqual(['layer-order']);
    expect(rulesOf('policy/x.ts', '../runs/index.js')).toEqual(['layer-order']);
    expect(rulesOf('workspace/x.ts', '../policy/index.js')).toEqual(['layer-order']);
    expect(rulesOf('runs/x.ts', '../policy/match.js')).toEqual(['index-only']);
    expect(rulesOf('policy/x.ts', '../workspace/paths.js')).toEqual(['index-only']);
  });

  it('reports folders and files outside the layer order, and paths leaving src', () => {
    expect(rulesOf('plugins/x.ts', '../contract/index.js')).toEqual(['unplaced']);
    expect(rulesOf('runs/x.ts', '../plugins/index.js')).toEqual(['unplaced']);
    expect(rulesOf('helpers.ts', './contract/index.js')).toEqual(['unplaced']);
    expect(rulesOf('runs/x.ts', '../index.js')).toEqual(['unplaced']);
    expect(rulesOf('host/x.ts', '../../package.json')).toEqual(['unplaced']);
  });

  it('allows what the rules allow', () => {
    const allowed: [string, string][] = [
      ['runtime/builtin/session-store.ts', '../../fsutil/index.js'],
      ['runtime/codex/codex-adapter.ts', '../../contract/version.js'],
      ['runtime/acp/acp-adapter.ts', '../../contract/schemas/ledger.js'], // deep contract import
      ['ledger/ledger.ts', '../fsutil/index.js'],
      ['ledger/ledger.ts', '../contract/schemas/ledger.js'],
      ['replay/fold.ts', '../contract/index.js'],
      ['runtime/adapter.ts', '../ledger/index.js'],
      ['runtime/adapter.ts', '../replay/index.js'],
      ['workspace/files.ts', '../runtime/index.js'],
      ['runs/run-manager.ts', '../workspace/index.js'],
      ['runs/run-manager.ts', '../runtime/index.js'],
      ['runs/run-manager.ts', '../ledger/index.js'],
      ['host/workstation.ts', '../runs/index.js'],
      ['host/workstation.ts', '../fsutil/index.js'],
      ['runtime/codex/codex-adapter.ts', '../agent-process.js'], // inside runtime/
      ['runtime/builtin/main.ts', './agent.js'],
      ['index.ts', './runs/index.js'], // the package entry
      ['index.ts', './ledger/atomic-anything.js'],
      ['runs/x.ts', 'node:fs'], // packages and built-ins are checked elsewhere
      ['runs/x.ts', 'zod'],
    ];
    expect(allowed.flatMap(([file, spec]) => checkImport(file, spec))).toEqual([]);
  });
});

describe('layer rules over packages/core/src (DESIGN §2)', () => {
  it('layer order: contract, fsutil -> ledger, replay -> runtime -> workspace -> policy -> runs -> host; every folder placed in it', () => {
    expectClean(treeViolations().filter((v) => v.rule !== 'index-only'));
  });

  it('folders reach each other only through their index.ts (deep contract imports allowed)', () => {
    expectClean(treeViolations().filter((v) => v.rule === 'index-only'));
  });

  it('the built-in agent child process loads neither the ledger nor better-sqlite3', () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) bare.add(spec);
        else visit(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
      }
    };
    visit(path.join(coreSrc, 'runtime/builtin/main.ts'));
    const loaded = [...seen].map((file) => path.relative(coreSrc, file).split(path.sep).join('/'));
    expect(loaded.filter((file) => !/^(runtime\/builtin|fsutil|contract)\//.test(file))).toEqual([]);
    expect([...bare].filter((spec) => spec === 'better-sqlite3')).toEqual([]);
  });

  it('the version constant lives in the contract and equals the core manifest version', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'packages/core/package.json'), 'utf8')) as { version: string };
    expect(KEEL_VERSION).toBe(manifest.version);
    expect(fs.existsSync(path.join(coreSrc, 'host/version.ts'))).toBe(false);
  });
});

describe('dependency direction (DESIGN §2)', () => {
  it('the renderer imports from core only the contract and the replay fold, and no Node or Electron module (ADR 0003)', () => {
    const allowed = new Set(['@keel/core/contract', '@keel/core/replay']);
    const offenders = sourceFiles(path.join(root, 'apps/renderer/src')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => (spec.startsWith('@keel/') && !allowed.has(spec)) || spec.startsWith('node:') || spec === 'electron' || spec.includes('packages/core'))
        .map((spec) => `${path.relative(root, file)} -> ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the replay fold is browser-safe: no Node built-ins and no package, nothing outside replay/ but ../contract', () => {
    const replayDir = path.join(root, 'packages/core/src/replay');
    const contractDir = path.join(root, 'packages/core/src/contract');
    const inside = (dir: string, target: string) => target === dir || target.startsWith(dir + path.sep);
    const offenders = sourceFiles(replayDir).flatMap((file) =>
      importsOf(file)
        .filter((spec) => {
          // No Node built-in and no package: what the fold needs comes through the contract.
          if (!spec.startsWith('.')) return true;
          const target = path.resolve(path.dirname(file), spec);
          return !inside(replayDir, target) && !inside(contractDir, target);
        })
        .map((spec) => `${path.relative(root, file)} -> ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the CLI and the main process reach @keel/* packages only through their package.json exports', () => {
    const exportsOf = (name: string): Set<string> | undefined => {
      const dir = { '@keel/core': 'packages/core', '@keel/main': 'apps/main', '@keel/renderer': 'apps/renderer', '@keel/cli': 'apps/cli' }[name];
      if (dir === undefined) return new Set();
      const manifest = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
      return manifest.exports === undefined ? undefined : new Set(Object.keys(manifest.exports));
    };
    const offenders = ['apps/cli/src', 'apps/main/src'].flatMap((dir) =>
      sourceFiles(path.join(root, dir)).flatMap((file) =>
        importsOf(file)
          .filter((spec) => {
            if (spec.startsWith('.')) return !path.resolve(path.dirname(file), spec).startsWith(path.join(root, dir));
            const match = /^(@keel\/[^/]+)(\/.*)?$/.exec(spec);
            if (!match) return false;
            const keys = exportsOf(match[1]!);
            return keys !== undefined && !keys.has(`.${match[2] ?? ''}`);
          })
          .map((spec) => `${path.relative(root, file)} -> ${spec}`),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('core imports neither Electron nor any app', () => {
    const offenders = sourceFiles(path.join(root, 'packages/core/src')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec === 'electron' || spec.startsWith('@keel/') || spec.includes('/apps/'))
        .map((spec) => `${path.relative(root, file)} -> ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the contract is browser-safe: no Node built-ins and no other core folder', () => {
    const offenders = sourceFiles(path.join(root, 'packages/core/src/contract')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('node:') || (spec.startsWith('.') && path.resolve(path.dirname(file), spec).split(path.sep).includes('host')))
        .map((spec) => `${path.relative(root, file)} -> ${spec}`),
    );
    expect(offenders).toEqual([]);
  });
});
