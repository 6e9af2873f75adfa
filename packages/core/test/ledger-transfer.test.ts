// Export and import as a persisted format (issue 10, points 5–7): an export carries a trailer
// with its length and head hash, so a truncated one is refused instead of imported as a whole
// run; a longer export of the same chain extends an earlier import; the source is bounded
// (regular files only, a line and a total limit) and read without ever holding it whole; and a
// data directory on a read-only filesystem can still be verified and exported. Every test ends
// by checking that nothing already stored was lost or changed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../src/contract/schemas/ledger.js';
import { EXPORT_SCHEMA_VERSION, LedgerError, MAX_IMPORT_BYTES, MAX_RECORD_BYTES, openLedger, type Ledger } from '../src/ledger/index.js';
import { checkImportSource, type ImportOptions } from '../src/ledger/import-log.js';
import { chunk, created, logOf, readAll } from './fixtures/ledger-kit.js';
import { mountTmpfs, probeTmpfs, unmountAll } from './fixtures/tmpfs-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-transfer-');
let dirs = 0;
const freshDataDir = () => path.join(root, `data-${++dirs}`);
const opened: Ledger[] = [];

async function ledgerAt(dataDir = freshDataDir(), options: { readOnly?: boolean } = {}): Promise<Ledger> {
  const ledger = await openLedger({ dataDir, ...options });
  opened.push(ledger);
  return ledger;
}

/** A run with `count` events (run.created + chunks "e2".."e<count>"), optionally with a chosen id. */
async function runWith(ledger: Ledger, count: number, runId = ledger.newRunId(), label = 'e'): Promise<string> {
  await ledger.append(runId, created());
  for (let i = 2; i <= count; i += 1) await ledger.append(runId, chunk(`${label}${i}`), { durability: i % 3 ? 'stream' : 'critical' });
  return runId;
}

const file = (name: string) => path.join(root, name);
const lines = (text: string) => text.split('\n').filter(Boolean);

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof LedgerError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

/** What a data directory holds, to prove a refusal changed nothing. */
function snapshot(ledger: Ledger): { runs: unknown; logs: Record<string, string>; events: Record<string, string[]> } {
  const logDir = path.join(ledger.dataDir, 'ledger');
  const logs: Record<string, string> = {};
  for (const name of fs.readdirSync(logDir).sort()) logs[name] = fs.readFileSync(path.join(logDir, name), 'utf8');
  const events: Record<string, string[]> = {};
  for (const run of ledger.runs()) events[run.id] = readAll(ledger, run.id).map((event) => event.hash);
  return { runs: ledger.runs(), logs, events };
}

afterAll(async () => {
  for (const ledger of opened) await ledger.close();
  unmountAll();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the export trailer', () => {
  it('an export is the log byte for byte, then one canonical trailer line (schema_version, count, last_seq, head_hash, log_bytes)', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 12);
    const out = file('trailer.ndjson');
    const result = source.export(runId, out, { trailer: true });
    const log = fs.readFileSync(logOf(source.dataDir, runId));
    const exported = fs.readFileSync(out);
    expect(exported.subarray(0, log.length).equals(log)).toBe(true);
    const trailerLine = exported.subarray(log.length).toString('utf8');
    const head = readAll(source, runId).at(-1)!.hash;
    expect(trailerLine).toBe(
      `{"count":12,"head_hash":"${head}","keel_export":"trailer","last_seq":12,"log_bytes":${log.length},"run_id":"${runId}","schema_version":${EXPORT_SCHEMA_VERSION}}\n`,
    );
    expect(result).toMatchObject({ bytes: exported.length, trailer: { count: 12, head_hash: head, log_bytes: log.length } });
    // Streaming gives the same bytes; exporting twice gives the same file (nothing time-dependent).
    const chunks = source.exportChunks(runId, { trailer: true });
    const parts: Buffer[] = [];
    for (let next = chunks.next(); !next.done; next = chunks.next()) parts.push(next.value);
    expect(Buffer.concat(parts).equals(exported)).toBe(true);
    source.export(runId, file('trailer-again.ndjson'), { trailer: true });
    expect(fs.readFileSync(file('trailer-again.ndjson')).equals(exported)).toBe(true);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
  });

  it('an incomplete last record (a write in flight, or a torn tail not yet cut) is left out and said; the rest exports and imports whole', async () => {
    const dataDir = freshDataDir();
    const writer = await ledgerAt(dataDir);
    const runId = await runWith(writer, 8);
    const before = readAll(writer, runId);
    fs.appendFileSync(logOf(dataDir, runId), '{"seq":9,"half a rec');
    const reader = await ledgerAt(dataDir, { readOnly: true });
    const out = file('tail.ndjson');
    const result = reader.export(runId, out, { trailer: true });
    expect(result.omittedTailBytes).toBe('{"seq":9,"half a rec'.length);
    expect(result.trailer?.count).toBe(8);
    const target = await ledgerAt();
    expect(target.import(out, { requireTrailer: true })).toMatchObject({ runId, count: 8, alreadyPresent: false, trailer: { count: 8 } });
    expect(readAll(target, runId)).toEqual(before);
  });

  it('a log damaged in the middle exports whole, as it is, without a trailer (for inspection); it does not import', async () => {
    const dataDir = freshDataDir();
    const writer = await ledgerAt(dataDir);
    const runId = await runWith(writer, 6);
    const log = logOf(dataDir, runId);
    const text = fs.readFileSync(log, 'utf8');
    fs.writeFileSync(log, text.replace('"text":"e3"', '"text":"eX"'));
    const reader = await ledgerAt(dataDir, { readOnly: true });
    const out = file('damaged.ndjson');
    const result = reader.export(runId, out, { trailer: true });
    expect(result).toMatchObject({ bytes: text.length, damage: { seq: 3 } });
    expect(result.trailer).toBeUndefined();
    expect(fs.readFileSync(out, 'utf8')).toBe(text.replace('"text":"e3"', '"text":"eX"'));
    const target = await ledgerAt();
    expect(codeOf(() => target.import(out))).toMatch(/^import_invalid: .*record 3 .*invalid/);
    expect(target.runs()).toEqual([]);
  });
});

describe('a truncated export (issue 10.5)', () => {
  it('the first 10 of 36 lines are refused as incomplete, and the full export then imports whole', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 36);
    const full = file('full-36.ndjson');
    source.export(runId, full, { trailer: true });
    const all = lines(fs.readFileSync(full, 'utf8'));
    expect(all).toHaveLength(37);
    const cut = file('first-10.ndjson');
    fs.writeFileSync(cut, all.slice(0, 10).map((line) => `${line}\n`).join(''));

    const target = await ledgerAt();
    expect(codeOf(() => target.import(cut, { requireTrailer: true }))).toMatch(/^import_incomplete: .*no export trailer.*--allow-incomplete/);
    expect(fs.readdirSync(path.join(target.dataDir, 'ledger'))).toEqual([]);
    expect(target.runs()).toEqual([]);

    expect(target.import(full, { requireTrailer: true })).toMatchObject({ runId, count: 36, alreadyPresent: false, trailer: { count: 36 } });
    expect(readAll(target, runId)).toEqual(readAll(source, runId));
    expect(fs.readFileSync(logOf(target.dataDir, runId)).equals(fs.readFileSync(logOf(source.dataDir, runId)))).toBe(true);
    expect(target.verify().ok).toBe(true);
  });

  it('a truncated export imported anyway (--allow-incomplete) is extended by the full one instead of conflicting forever', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 36);
    const full = file('extend-full.ndjson');
    source.export(runId, full, { trailer: true });
    const all = lines(fs.readFileSync(full, 'utf8'));
    const cut = file('extend-first-10.ndjson');
    fs.writeFileSync(cut, all.slice(0, 10).map((line) => `${line}\n`).join(''));
    const twenty = file('extend-first-20.ndjson');
    fs.writeFileSync(twenty, all.slice(0, 20).map((line) => `${line}\n`).join(''));

    const dataDir = freshDataDir();
    const target = await ledgerAt(dataDir);
    const first = target.import(cut);
    expect(first).toEqual({ runId, count: 10, alreadyPresent: false });
    expect(target.runs()).toMatchObject([{ id: runId, lastSeq: 10, readOnly: true, origin: 'imported' }]);
    const afterTen = readAll(target, runId);

    expect(target.import(twenty)).toEqual({ runId, count: 20, alreadyPresent: false, appended: 10 });
    const extended = target.import(full, { requireTrailer: true });
    expect(extended).toMatchObject({ runId, count: 36, alreadyPresent: false, appended: 16, trailer: { count: 36 } });
    // Nothing stored before was lost or changed; the run is now the whole chain, still read-only.
    const events = readAll(target, runId);
    expect(events.slice(0, 10)).toEqual(afterTen);
    expect(events).toEqual(readAll(source, runId));
    expect(fs.readFileSync(logOf(dataDir, runId)).equals(fs.readFileSync(logOf(source.dataDir, runId)))).toBe(true);
    expect(target.runs()).toMatchObject([{ id: runId, lastSeq: 36, readOnly: true, origin: 'imported' }]);
    expect(target.verify().ok).toBe(true);
    expect((await target.append(runId, chunk('no')).catch((error: LedgerError) => error.code))).toBe('run_read_only');

    // A shorter export of a chain held whole changes nothing.
    expect(target.import(cut)).toEqual({ runId, count: 10, alreadyPresent: true });
    expect(target.import(full, { requireTrailer: true })).toMatchObject({ runId, count: 36, alreadyPresent: true });
    await target.close();
    const reopened = await ledgerAt(dataDir);
    expect(reopened.recovery.repaired).toEqual([]);
    expect(reopened.runs()).toMatchObject([{ id: runId, lastSeq: 36, readOnly: true, origin: 'imported', quarantined: false }]);
    expect(readAll(reopened, runId)).toEqual(readAll(source, runId));
    expect(reopened.verify().ok).toBe(true);
  });

  it('a crash after the longer log is placed but before SQLite is backfilled on the next open', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 15);
    const full = file('crash-full.ndjson');
    source.export(runId, full, { trailer: true });
    const cut = file('crash-first-5.ndjson');
    fs.writeFileSync(cut, lines(fs.readFileSync(full, 'utf8')).slice(0, 5).map((line) => `${line}\n`).join(''));
    const dataDir = freshDataDir();
    const target = await ledgerAt(dataDir);
    target.import(cut);
    await target.close();
    // The state a crash leaves between the rename and the SQLite transaction.
    fs.copyFileSync(logOf(source.dataDir, runId), logOf(dataDir, runId));
    const reopened = await ledgerAt(dataDir);
    expect(reopened.runs()).toMatchObject([{ id: runId, lastSeq: 15, readOnly: true, origin: 'imported' }]);
    expect(readAll(reopened, runId)).toEqual(readAll(source, runId));
    expect(reopened.verify().ok).toBe(true);
  });

  it('refuses what does not match its trailer, a trailer from a newer Keel, data after the trailer and a line cut short; nothing changes', async () => {
    const source = await ledgerAt();
    const runId = await runWith(source, 10);
    const good = file('refusals-good.ndjson');
    source.export(runId, good, { trailer: true });
    const text = fs.readFileSync(good, 'utf8');
    const all = lines(text);
    const trailer = JSON.parse(all.at(-1)!) as Record<string, unknown>;
    const withTrailer = (records: string[], fields: Record<string, unknown>) =>
      [...records, JSON.stringify({ ...trailer, ...fields })].map((line) => `${line}\n`).join('');
    const bad: Record<string, [string, RegExp]> = {
      'trailer count larger than the records': [withTrailer(all.slice(0, 10), { count: 11, last_seq: 11 }), /^import_invalid: .*trailer describes 11 records/],
      'records cut, trailer kept': [withTrailer(all.slice(0, 7), {}), /^import_invalid: .*trailer describes 10 records .* holds 7/],
      'trailer of another head': [withTrailer(all.slice(0, 10), { head_hash: '0'.repeat(64) }), /^import_invalid: .*records are missing or altered/],
      'trailer from a newer Keel': [withTrailer(all.slice(0, 10), { schema_version: EXPORT_SCHEMA_VERSION + 1 }), /^import_invalid: .*newer Keel \(export format 2/],
      'malformed trailer': [withTrailer(all.slice(0, 10), { count: 'ten' }), /^import_invalid: .*trailer is malformed/],
      'data after the trailer': [`${text}${all[0]}\n`, /^import_invalid: .*data follows the export trailer/],
      'trailer without its newline': [text.slice(0, -1), /^import_invalid: .*ends in the middle of a line/],
      'cut in the middle of a record': [text.slice(0, text.indexOf('\n', 200) - 30), /^import_invalid: .*ends in the middle of a line/],
      'only a trailer': [`${all.at(-1)}\n`, /^import_invalid: .*holds no records/],
    };
    const target = await ledgerAt();
    const other = await runWith(target, 4);
    const before = snapshot(target);
    for (const [label, [content, expected]] of Object.entries(bad)) {
      const path_ = file(`refusal-${label.replace(/\W+/g, '-')}.ndjson`);
      fs.writeFileSync(path_, content);
      expect(codeOf(() => target.import(path_)), label).toMatch(expected);
      expect(snapshot(target), label).toEqual(before);
    }
    expect(target.import(good, { requireTrailer: true }).count).toBe(10);
    expect(readAll(target, other)).toHaveLength(4);
    expect(target.verify().ok).toBe(true);
  });

  it('a different chain under the same run id conflicts and names the first differing record (1: its own run.created); a local run is never extended', async () => {
    const runId = 'same-run-id-in-two-places';
    const a = await ledgerAt();
    await runWith(a, 12, runId, 'a');
    const fromA = file('conflict-a.ndjson');
    a.export(runId, fromA, { trailer: true });
    const b = await ledgerAt();
    await runWith(b, 5, runId, 'b');
    const before = snapshot(b);
    expect(codeOf(() => b.import(fromA, { requireTrailer: true }))).toMatch(/^import_conflict: Run same-run-id-in-two-places already exists here and differs from this file from record 1 on/);
    expect(snapshot(b)).toEqual(before);

    // The same chain, but the shorter copy is the local run itself (a data directory copied at
    // seq 5): a run created here is never extended by an import.
    const dataDir = freshDataDir();
    const local = await ledgerAt(dataDir);
    const localRun = await runWith(local, 5);
    await local.close();
    const copy = freshDataDir();
    fs.cpSync(dataDir, copy, { recursive: true });
    const grown = await ledgerAt(dataDir);
    for (let i = 6; i <= 9; i += 1) await grown.append(localRun, chunk(`e${i}`));
    const longer = file('local-longer.ndjson');
    grown.export(localRun, longer, { trailer: true });
    const copied = await ledgerAt(copy);
    const copiedBefore = snapshot(copied);
    expect(codeOf(() => copied.import(longer))).toMatch(/^import_conflict: .*created here, not imported/);
    expect(snapshot(copied)).toEqual(copiedBefore);
  });
});

describe('bounded sources (issue 10.6)', () => {
  it('refuses /dev/zero, a pipe and a directory at once, before reading, and imports nothing', async () => {
    const target = await ledgerAt();
    const kept = await runWith(target, 3);
    const before = snapshot(target);
    const fifo = file('a-fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const started = Date.now();
    expect(codeOf(() => target.import('/dev/zero'))).toMatch(/^import_invalid: \/dev\/zero is a device; import reads only a regular file/);
    expect(codeOf(() => checkImportSource('/dev/zero'))).toMatch(/is a device/);
    expect(codeOf(() => target.import(fifo))).toMatch(/is a pipe/);
    expect(codeOf(() => target.import(root))).toMatch(/is a directory/);
    expect(codeOf(() => target.import(file('does-not-exist')))).toMatch(/does not exist/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(snapshot(target)).toEqual(before);
    expect(readAll(target, kept)).toHaveLength(3);
  });

  it('refuses a file over the total bound from its size alone (a sparse 1 GiB + 1 file), and one that grows past it', async () => {
    const huge = file('sparse-huge.ndjson');
    const fd = fs.openSync(huge, 'w');
    fs.ftruncateSync(fd, MAX_IMPORT_BYTES + 1);
    fs.closeSync(fd);
    const target = await ledgerAt();
    const before = snapshot(target);
    const started = Date.now();
    expect(codeOf(() => target.import(huge))).toMatch(/^import_too_large: .* is 1024 MiB; an import reads at most 1024 MiB/);
    expect(Date.now() - started).toBeLessThan(1_000);
    fs.rmSync(huge);
    // Lowered bounds (the same code path): the total, and one line.
    const source = await ledgerAt();
    const runId = await runWith(source, 30);
    const out = file('bounded.ndjson');
    source.export(runId, out, { trailer: true });
    const size = fs.statSync(out).size;
    const tight = (options: ImportOptions) => codeOf(() => target.import(out, options));
    expect(tight({ maxBytes: size - 1 })).toMatch(/^import_too_large/);
    expect(tight({ maxLineBytes: 64 })).toMatch(/^import_invalid: .*line at byte 0 is longer than 64 bytes/);
    expect(snapshot(target)).toEqual(before);
    expect(target.import(out, { maxBytes: size }).count).toBe(30);
  });

  it('a line longer than a ledger record (no newline in 17 MiB) is refused without reading it whole', async () => {
    const long = file('one-long-line.ndjson');
    fs.writeFileSync(long, Buffer.alloc(MAX_RECORD_BYTES + 1024 * 1024, 0x61));
    const target = await ledgerAt();
    const before = snapshot(target);
    expect(codeOf(() => target.import(long))).toMatch(/^import_invalid: .*line at byte 0 is longer than 16 MiB, the largest record a ledger holds/);
    expect(snapshot(target)).toEqual(before);
    fs.rmSync(long);
  });
});

describe('a read-only filesystem (issue 10.7)', () => {
  const tmpfs = probeTmpfs(path.join(root, 'probe'));
  it.skipIf(!tmpfs.ok)(`verify, export, runs and read work on a read-only mount (SQLite immutable)${tmpfs.ok ? '' : ` — skipped: ${tmpfs.reason}`}`, async () => {
    const mount = mountTmpfs(root, 'ro-mount', '16m');
    const dataDir = path.join(mount, 'data');
    const writer = await openLedger({ dataDir });
    const runId = await runWith(writer, 20);
    const events = readAll(writer, runId);
    const expected = file('ro-expected.ndjson');
    writer.export(runId, expected, { trailer: true });
    await writer.close();
    const remount = spawnSync('mount', ['-o', 'remount,ro', mount], { encoding: 'utf8' });
    expect(remount.status, remount.stderr).toBe(0);
    expect(() => fs.writeFileSync(path.join(mount, 'probe'), 'x')).toThrow(/EROFS/);
    const reader = await ledgerAt(dataDir, { readOnly: true });
    expect(reader.verify()).toMatchObject({ ok: true, runs: [{ runId, agree: true }] });
    expect(reader.runs()).toMatchObject([{ id: runId, lastSeq: 20 }]);
    expect(readAll(reader, runId) as LedgerEvent[]).toEqual(events);
    const out = file('ro-export.ndjson');
    reader.export(runId, out, { trailer: true });
    expect(fs.readFileSync(out).equals(fs.readFileSync(expected))).toBe(true);
    // A writable open still fails loudly there (nothing is silently skipped).
    await expect(openLedger({ dataDir })).rejects.toThrow(/EROFS|read-only/);
  });
});
