import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|cts|mts)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((match) => match[1]!);
}

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
