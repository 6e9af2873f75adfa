// A 20,000-file repository stays inside the default checkpoint budget (issue 12 "Tests"): the
// first checkpoint of a big dirty repository and the next one after a turn-sized change are
// created, not skipped, and report their duration. The speed against plain git is measured by
// `keel bench checkpoints` (docs/benchmarks.md); this proves the budget holds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckpoint, DEFAULT_CHECKPOINT_BUDGET } from '../src/workspace/index.js';
import { git } from './fixtures/checkpoint-kit.js';

const made: string[] = [];
const tempDir = (prefix: string) => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(dir);
  return dir;
};
// 20,000 files take a while to remove on a loaded machine; retries ride out a late git child.
afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}, 120_000);

describe('a 20,000-file repository', () => {
  it('checkpoints inside the default budget, first and after a change of 200 files', async () => {
    const repo = tempDir('keel-cp-20k-');
    const data = tempDir('keel-cp-20k-data-');
    git(repo, ['init', '-q', '-b', 'main']);
    for (let dir = 0; dir < 100; dir++) {
      fs.mkdirSync(path.join(repo, `pkg${dir}`));
      for (let file = 0; file < 200; file++) fs.writeFileSync(path.join(repo, `pkg${dir}`, `f${file}.ts`), `export const v${dir}_${file} = ${dir * 1000 + file};\n`);
    }
    // Half committed, half untracked: both walk paths are exercised.
    git(repo, ['add', ...Array.from({ length: 50 }, (_, dir) => `pkg${dir}`)]);
    git(repo, ['-c', 'gc.auto=0', 'commit', '-q', '-m', 'half']); // no detached auto-gc racing the cleanup
    const first = await createCheckpoint(repo, { dataDir: data, runId: 'big', turn: 0 });
    expect(first.kind, first.kind === 'skipped' ? first.detail : '').toBe('created');
    expect(first.durationMs).toBeLessThan(DEFAULT_CHECKPOINT_BUDGET.timeMs);
    for (let file = 0; file < 200; file++) fs.writeFileSync(path.join(repo, 'pkg7', `f${file}.ts`), `export const changed = ${file};\n`);
    const next = await createCheckpoint(repo, { dataDir: data, runId: 'big', turn: 1 });
    expect(next.kind).toBe('created');
    if (next.kind !== 'created') return;
    expect(next.filesChanged).toBe(200);
    expect(next.durationMs).toBeLessThan(DEFAULT_CHECKPOINT_BUDGET.timeMs);
    process.stdout.write(`20,000 files: first checkpoint ${first.durationMs} ms, next (200 changed) ${next.durationMs} ms\n`);
  }, 180_000);
});
