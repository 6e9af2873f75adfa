// `keel ledger export/import/verify` and `--data` end to end (issue 10, points 5–7): the real CLI
// process against real data directories. A truncated export is refused and the full one then
// imports (or extends what an allowed partial import stored); a device or pipe is refused before
// the data directory is created or the writer lock taken; read-only commands never create a data
// directory; and a data directory on a read-only filesystem can still be verified and exported.
// Each test ends by checking that what the source acknowledged is all there, unchanged.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type Ledger, type LedgerEvent } from '@keel/core';
import { removeTempDirs, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';
import { mountTmpfs, probeTmpfs, unmountAll } from '../../../packages/core/test/fixtures/tmpfs-kit.js';

let root: string;
let source: string;
let runId: string;
let acknowledged: LedgerEvent[];

const created = { type: 'run.created', payload: { workspace: '/tmp/keel-cli-ledger-ws', agent: { kind: 'builtin' } } } as const;
const chunk = (text: string) => ({ type: 'message.chunk', payload: { text } }) as const;

function readAll(ledger: Ledger, id: string): LedgerEvent[] {
  return ledger.read(id, { limit: 100_000 });
}

/** A data directory holding one run of `count` events; returns the run id and its events. */
async function dataWithRun(dataDir: string, count: number): Promise<{ runId: string; events: LedgerEvent[] }> {
  const ledger = await openLedger({ dataDir });
  try {
    const id = ledger.newRunId();
    await ledger.append(id, created);
    for (let i = 2; i <= count; i += 1) await ledger.append(id, chunk(`event ${i}`));
    return { runId: id, events: readAll(ledger, id) };
  } finally {
    await ledger.close();
  }
}

/** The events a data directory holds for a run, read-only. */
async function eventsIn(dataDir: string, id: string): Promise<LedgerEvent[]> {
  const ledger = await openLedger({ dataDir, readOnly: true });
  try {
    return readAll(ledger, id);
  } finally {
    await ledger.close();
  }
}

const firstLines = (text: string, count: number) =>
  text
    .split('\n')
    .filter(Boolean)
    .slice(0, count)
    .map((line) => `${line}\n`)
    .join('');

beforeAll(async () => {
  requireBuilt();
  root = tempDir('keel-cli-ledger-');
  source = path.join(root, 'source');
  ({ runId, events: acknowledged } = await dataWithRun(source, 36));
});
afterAll(() => {
  unmountAll();
  removeTempDirs();
});

describe('keel ledger export / import (issue 10.5)', () => {
  it('export (stdout and --out) is the log then a trailer; a truncated copy is refused, the full one imports complete', async () => {
    const toStdout = await runKeel(['ledger', 'export', '--data', source, '--run', runId]);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(toStdout.stderr).toMatch(new RegExp(`^exported ${runId}: 36 events, \\d+ bytes, head ${acknowledged.at(-1)!.hash.slice(0, 12)}\\n$`));
    const out = path.join(root, 'export.ndjson');
    const toFile = await runKeel(['ledger', 'export', '--data', source, '--run', runId, '--out', out]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(toStdout.stdout);
    const lines = toStdout.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(37);
    expect(JSON.parse(lines[36]!)).toEqual({
      keel_export: 'trailer',
      schema_version: 1,
      run_id: runId,
      count: 36,
      last_seq: 36,
      head_hash: acknowledged.at(-1)!.hash,
      log_bytes: Buffer.byteLength(lines.slice(0, 36).join('\n')) + 1,
    });

    const cut = path.join(root, 'first-10.ndjson');
    fs.writeFileSync(cut, firstLines(toStdout.stdout, 10));
    const target = path.join(root, 'target-refused');
    const refused = await runKeel(['ledger', 'import', cut, '--data', target]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/has no export trailer, so whether it holds the whole run is unknown.*--allow-incomplete\. Nothing was imported\./);
    // Refused before the data directory was created or the lock taken.
    expect(fs.existsSync(target)).toBe(false);

    const full = await runKeel(['ledger', 'import', out, '--data', target]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toBe(`imported run ${runId}: 36 events, chain verified, complete (export trailer matched), read-only\n`);
    const verify = await runKeel(['ledger', 'verify', '--data', target]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(await eventsIn(target, runId)).toEqual(acknowledged);
    // Exporting the import again gives the same export, byte for byte.
    const again = await runKeel(['ledger', 'export', '--data', target, '--run', runId]);
    expect(again.stdout).toBe(toStdout.stdout);
  });

  it('--allow-incomplete stores the first 10 lines; the full export then extends that import instead of conflicting', async () => {
    const exported = await runKeel(['ledger', 'export', '--data', source, '--run', runId]);
    const full = path.join(root, 'extend-full.ndjson');
    fs.writeFileSync(full, exported.stdout);
    const cut = path.join(root, 'extend-first-10.ndjson');
    fs.writeFileSync(cut, firstLines(exported.stdout, 10));
    const target = path.join(root, 'target-extended');

    const partial = await runKeel(['ledger', 'import', cut, '--data', target, '--allow-incomplete']);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toBe(`imported run ${runId}: 10 events, chain verified, no export trailer: whether this is the whole run is unknown, read-only\n`);
    const extended = await runKeel(['ledger', 'import', full, '--data', target, '--json']);
    expect(extended.code, extended.stderr).toBe(0);
    expect(JSON.parse(extended.stdout)).toMatchObject({ runId, count: 36, alreadyPresent: false, appended: 26, trailer: { count: 36 } });
    const again = await runKeel(['ledger', 'import', full, '--data', target]);
    expect(again.stdout).toBe(`run ${runId} is already here with all 36 events of this file; nothing to import\n`);
    const verify = await runKeel(['ledger', 'verify', '--data', target, '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, runs: [{ runId, agree: true, ndjson: { count: 36 }, sqlite: { count: 36 } }] });
    expect(await eventsIn(target, runId)).toEqual(acknowledged);
  });
});

describe('keel ledger import of what is not an export (issue 10.6)', () => {
  it('/dev/zero and a pipe are refused at once, before the data directory is created or the writer lock is taken', async () => {
    const target = path.join(root, 'target-device');
    const started = Date.now();
    const zero = await runKeel(['ledger', 'import', '/dev/zero', '--data', target], { guardMs: 10_000 });
    expect(zero.code).toBe(1);
    expect(zero.stderr).toBe('keel: /dev/zero is a device; import reads only a regular file (an export written by `keel ledger export --out FILE`). Nothing was imported.\n');
    expect(fs.existsSync(target)).toBe(false);
    const fifo = path.join(root, 'a-fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const pipe = await runKeel(['ledger', 'import', fifo, '--data', target, '--allow-incomplete'], { guardMs: 10_000 });
    expect(pipe.code).toBe(1);
    expect(pipe.stderr).toMatch(/is a pipe; import reads only a regular file/);
    expect(Date.now() - started).toBeLessThan(8_000);
    // With a live writer holding the data directory, the refusal is still the device one: the
    // lock is never reached (and never held while reading the source).
    const held = await openLedger({ dataDir: source });
    try {
      const locked = await runKeel(['ledger', 'import', '/dev/zero', '--data', source], { guardMs: 10_000 });
      expect(locked.code).toBe(1);
      expect(locked.stderr).toMatch(/\/dev\/zero is a device/);
      expect(readAll(held, runId)).toEqual(acknowledged);
    } finally {
      await held.close();
    }
    expect(await eventsIn(source, runId)).toEqual(acknowledged);
  });
});

describe('--data (issue 10.7)', () => {
  it('read-only commands never create a missing data directory: a plain error and exit 1', async () => {
    const typo = path.join(root, 'no-such-data-dir');
    const commands = [
      ['ledger', 'verify'],
      ['ledger', 'verify', '--read-only'],
      ['ledger', 'export', '--run', runId],
      ['ledger', 'backfill'],
      ['ledger', 'repair', '--from-sqlite', runId],
      ['replay', '--run', runId],
      ['runs'],
      ['info'],
    ];
    for (const command of commands) {
      const result = await runKeel([...command, '--data', typo]);
      expect(result.code, command.join(' ')).toBe(1);
      expect(result.stderr, command.join(' ')).toBe(
        `keel: The data directory ${typo} does not exist. Check --data (or KEEL_DATA_DIR); \`keel run\`, \`keel serve\` and \`keel ledger import\` create one.\n`,
      );
      expect(fs.existsSync(typo), command.join(' ')).toBe(false);
    }
    // An existing directory with no Keel data in it is not turned into one either.
    const empty = path.join(root, 'empty-dir');
    fs.mkdirSync(empty);
    const verify = await runKeel(['ledger', 'verify', '--data', empty]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toBe(`keel: ${empty} holds no Keel data (no keel.db, no ledger/); check --data (or KEEL_DATA_DIR).\n`);
    expect(fs.readdirSync(empty)).toEqual([]);
  });

  it('--data naming a file is a plain error for reading and for creating commands', async () => {
    const notADir = path.join(root, 'a-file');
    fs.writeFileSync(notADir, 'not a directory');
    const message = `keel: The data directory ${notADir} is a file, not a directory; --data (or KEEL_DATA_DIR) must name a directory.\n`;
    for (const command of [['ledger', 'verify'], ['runs'], ['ledger', 'import', path.join(root, 'export.ndjson')]]) {
      const result = await runKeel([...command, '--data', notADir]);
      expect(result.code, command.join(' ')).toBe(1);
      expect(result.stderr, command.join(' ')).toBe(message);
    }
    const beneath = await runKeel(['ledger', 'import', path.join(root, 'export.ndjson'), '--data', path.join(notADir, 'data')]);
    expect(beneath.code).toBe(1);
    expect(beneath.stderr).toMatch(/cannot be created: part of its path is a file, not a directory/);
    expect(fs.readFileSync(notADir, 'utf8')).toBe('not a directory');
  });

  const tmpfs = probeTmpfs(path.join(tempDir('keel-cli-probe-'), 'probe'));
  it.skipIf(!tmpfs.ok)(`on a read-only filesystem, verify, export, runs and replay still work${tmpfs.ok ? '' : ` — skipped: ${tmpfs.reason}`}`, async () => {
    const mount = mountTmpfs(root, 'ro-data', '16m');
    const dataDir = path.join(mount, 'data');
    const { runId: id, events } = await dataWithRun(dataDir, 25);
    const before = await runKeel(['ledger', 'export', '--data', dataDir, '--run', id]);
    expect(before.code, before.stderr).toBe(0);
    const remount = spawnSync('mount', ['-o', 'remount,ro', mount], { encoding: 'utf8' });
    expect(remount.status, remount.stderr).toBe(0);

    const verify = await runKeel(['ledger', 'verify', '--data', dataDir]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).toBe(`The data directory ${dataDir} is on a read-only filesystem. Inspecting read-only, without recovery.\n`);
    expect(verify.stdout).toMatch(new RegExp(`^ok +${id} +ndjson: 25 events, max seq 25 +sqlite: 25 events, max seq 25\\n1 of 1 runs verified\\n$`));
    const readOnly = await runKeel(['ledger', 'verify', '--read-only', '--data', dataDir]);
    expect(readOnly.code, readOnly.stderr).toBe(0);
    const exported = await runKeel(['ledger', 'export', '--data', dataDir, '--run', id]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toBe(before.stdout);
    const runs = await runKeel(['runs', '--data', dataDir, '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout)).toMatchObject([{ id, lastSeq: 25 }]);
    const replay = await runKeel(['replay', '--data', dataDir, '--run', id, '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ runId: id, lastSeq: 25 });
    // Commands that must write there say why, plainly.
    const backfill = await runKeel(['ledger', 'backfill', '--data', dataDir]);
    expect(backfill.code).toBe(1);
    expect(backfill.stderr).toBe(`keel: The data directory ${dataDir} is on a read-only filesystem. This command writes there.\n`);
    expect(await eventsIn(dataDir, id)).toEqual(events);
  });
});
