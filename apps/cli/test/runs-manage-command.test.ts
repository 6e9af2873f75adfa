// `keel runs archive` and `keel runs delete [--files]` end to end: the real CLI process, a real
// data dir with runs of the built-in agent. Archive marks (the listing says so), delete keeps
// the ledger unless --files, bad ids are answered in plain words with exit 1.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '@keel/core';
import { removeTempDirs, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';

let data: string;
const runIdOf = (stdout: string) => /^run (\S+): /m.exec(stdout)?.[1];
const log = (runId: string) => path.join(data, 'ledger', `${runId}.ndjson`);

async function newRun(): Promise<string> {
  const result = await runKeel(['run', '--data', data, '--workspace', fs.realpathSync(tempDir('keel-cli-ws-')), '--script', 'hello']);
  expect(result.code).toBe(0);
  return runIdOf(result.stdout)!;
}

async function listed(): Promise<RunSummary[]> {
  const result = await runKeel(['runs', '--data', data, '--json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as RunSummary[];
}

beforeAll(() => {
  requireBuilt();
  data = tempDir('keel-cli-data-');
});
afterAll(removeTempDirs);

describe('keel runs archive / delete', () => {
  it('archives and unarchives; deletes keeping the files, then another with --files; bad ids in plain words', { timeout: 240_000 }, async () => {
    const kept = await newRun();
    const gone = await newRun();
    const stays = await newRun();

    const archived = await runKeel(['runs', 'archive', kept, '--data', data]);
    expect(archived).toMatchObject({ code: 0, stdout: `archived ${kept}\n` });
    expect((await listed()).find((run) => run.id === kept)?.archived).toBe(true);
    expect((await runKeel(['runs', '--data', data])).stdout).toMatch(new RegExp(`^${kept} .*archived$`, 'm'));
    expect((await runKeel(['runs', 'archive', kept, '--undo', '--data', data])).stdout).toBe(`unarchived ${kept}\n`);
    expect((await listed()).find((run) => run.id === kept)?.archived).toBe(false);

    const before = fs.readFileSync(log(kept));
    const deleted = await runKeel(['runs', 'delete', kept, '--data', data]);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${kept} from the run list; its files are kept (add --files to remove them)\n` });
    expect(fs.readFileSync(log(kept)).equals(before)).toBe(true);

    const withFiles = await runKeel(['runs', 'delete', gone, '--files', '--json', '--data', data]);
    expect(withFiles.code).toBe(0);
    expect(JSON.parse(withFiles.stdout)).toMatchObject({ runId: gone, filesDeleted: true, notes: [] });
    expect(fs.existsSync(log(gone))).toBe(false);
    expect(fs.existsSync(path.join(data, 'runs', gone))).toBe(false);
    expect((await listed()).map((run) => run.id)).toEqual([stays]);
    expect((await runKeel(['ledger', 'verify', '--data', data])).code).toBe(0);

    const bad = await runKeel(['runs', 'delete', '../keel.db', '--data', data]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('keel: "../keel.db" is not a run id: a run id is 1-64 letters, digits, "_" or "-".\n');
    const unknown = await runKeel(['runs', 'archive', kept, '--data', data]);
    expect(unknown).toMatchObject({ code: 1, stderr: `keel: There is no run ${kept} in the run list.\n` });
  });

  it('finishes a deletion a killed Keel left pending before it acts; deletes the files of a run deleted with its files kept', { timeout: 240_000 }, async () => {
    const pending = await newRun();
    const kept = await newRun();
    const stays = await newRun();
    expect((await runKeel(['runs', 'delete', kept, '--data', data])).code).toBe(0);
    // As a Keel killed right after recording the intent would leave it.
    const file = path.join(data, 'run-list.json');
    const marks = JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: Record<string, unknown> };
    marks.runs[pending] = { deletedAt: new Date().toISOString(), files: 'pending' };
    fs.writeFileSync(file, JSON.stringify(marks));

    const archived = await runKeel(['runs', 'archive', stays, '--data', data]);
    expect(archived).toMatchObject({ code: 0, stdout: `archived ${stays}\n`, stderr: `keel: finished deleting the files of run ${pending}\n` });
    expect(fs.existsSync(log(pending))).toBe(false);
    expect(fs.existsSync(path.join(data, 'runs', pending))).toBe(false);
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: Record<string, { files?: string }> }).runs[pending]?.files).toBe('deleted');

    expect(fs.existsSync(log(kept))).toBe(true);
    const later = await runKeel(['runs', 'delete', kept, '--files', '--json', '--data', data]);
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ runId: kept, filesDeleted: true, notes: [] });
    expect(fs.existsSync(log(kept))).toBe(false);
    expect((await listed()).map((run) => run.id)).not.toContain(kept);
    expect((await runKeel(['ledger', 'verify', '--data', data])).code).toBe(0);
  });
});
