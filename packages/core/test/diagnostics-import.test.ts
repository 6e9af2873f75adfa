// Diagnostics bundle import (issue 14): a real run's bundle imports read-only under
// <data>/imported/<bundle-id>/, its chain verified record by record (redacted records reported
// as such), and the replay view at every seq equals the original's. Bundles with a bad
// checksum, a changed record, a path that escapes, a zip bomb or a newer format are refused.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import yazl from 'yazl';
import { describe, expect, it } from 'vitest';
import {
  BundleError,
  importBundle,
  importedDir,
  inspectBundle,
  listImportedRuns,
  readImportedEvents,
  Redactor,
  writeBundle,
} from '../src/diagnostics/index.js';
import { fold, ReplayIndex } from '../src/replay/index.js';
import { createRun, keelBin, runKeel, tempDir, useRuntimeSuite, type RunHarness } from './fixtures/runtime-kit.js';

useRuntimeSuite();

async function finishedRun(script: string, prompt = 'Write hello.txt and check it'): Promise<RunHarness> {
  const harness = await createRun({ script, approvalMode: 'all' });
  const { turn } = await harness.controller.prompt(prompt);
  expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
  await harness.controller.waitForState((state) => state === 'idle');
  return harness;
}

async function bundleOf(harness: RunHarness, redactor = new Redactor({ env: {} })): Promise<string> {
  const out = path.join(tempDir('keel-imp-out-'), 'bundle.zip');
  await writeBundle({ ledger: harness.ledger, dataDir: harness.dataDir, runIds: [harness.runId], out, redactor });
  return out;
}

/** The zip's entries as buffers (read back with yauzl through inspect's reader is tested elsewhere; here a plain copy). */
async function entriesOf(file: string): Promise<Map<string, Buffer>> {
  const { openBundle } = await import('../src/diagnostics/index.js');
  const bundle = await openBundle(file);
  const out = new Map<string, Buffer>();
  try {
    for (const name of bundle.entries.keys()) {
      const chunks: Buffer[] = [];
      const { readEntry } = await import('../src/diagnostics/bundle-reader.js');
      await readEntry(bundle, name, (chunk) => chunks.push(chunk));
      out.set(name, Buffer.concat(chunks));
    }
  } finally {
    bundle.close();
  }
  return out;
}

/** Writes a zip of `entries` (name -> bytes) with yazl. */
function writeZip(file: string, entries: Map<string, Buffer>): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    const out = fs.createWriteStream(file);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.outputStream.pipe(out);
    for (const [name, bytes] of entries) zip.addBuffer(bytes, name);
    zip.end();
  });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('diagnostics bundle import', () => {
  it('imports a run read-only under Imported, verifies every record, and replays to the same view at every seq', async () => {
    const harness = await finishedRun('edit-and-test');
    const original = harness.events();
    const out = await bundleOf(harness);

    const elsewhere = tempDir('keel-imp-second-');
    const result = await importBundle(out, elsewhere);
    expect(result.already).toBe(false);
    expect(result.dir).toBe(path.join(importedDir(elsewhere), result.bundle_id));
    expect(result.runs).toEqual([{ run_id: harness.runId, events: original.length, last_seq: original.length, verified: original.length, redacted: [], problems: [] }]);
    // Never mixed with the user's own runs: nothing in the second data dir's ledger.
    expect(fs.existsSync(path.join(elsewhere, 'ledger'))).toBe(false);
    expect(listImportedRuns(elsewhere).map((run) => [run.bundleId, run.runId])).toEqual([[result.bundle_id, harness.runId]]);
    // Read-only files.
    const slice = path.join(result.dir, 'runs', harness.runId, 'ledger.ndjson');
    expect(fs.statSync(slice).mode & 0o222).toBe(0);

    const imported = readImportedEvents(elsewhere, result.bundle_id, harness.runId);
    expect(imported).toEqual(original);
    const index = ReplayIndex.build(imported, { every: 4, runId: harness.runId });
    for (let seq = 0; seq <= original.length; seq++) {
      expect(index.stateAt(seq), `seq ${seq}`).toEqual(fold(original.slice(0, seq), harness.runId));
    }
    // A second import of the same bundle writes nothing and says so.
    expect((await importBundle(out, elsewhere)).already).toBe(true);
  });

  it('keeps redacted records in place: the chain verifies through them, they are reported as redacted, and the view differs only in their text', async () => {
    const script = path.join(tempDir('keel-imp-script-'), 'secrets.json');
    fs.writeFileSync(
      script,
      JSON.stringify({
        name: 'secrets',
        description: 'two secrets',
        turns: [{ steps: [{ message: 'first ghp_q8W2e4R6t8Y0u2I4o6P8a0S2d4F6g8H0j2K4' }, { message: 'plain' }, { thought: 'DB_PASSWORD=s3cr3tPassw0rd' }, { message: 'end' }] }],
      }),
    );
    const harness = await finishedRun(script, 'hello');
    const original = harness.events();
    const out = await bundleOf(harness);
    const manifest = (await inspectBundle(out)).manifest!;
    const redacted = manifest.runs[0]!.redacted_seqs;
    expect(redacted.length).toBeGreaterThanOrEqual(2);

    const elsewhere = tempDir('keel-imp-second-');
    const [run] = (await importBundle(out, elsewhere)).runs;
    expect(run!.problems).toEqual([]);
    expect(run!.redacted).toEqual(redacted);
    expect(run!.verified + redacted.length).toBe(original.length);

    const imported = readImportedEvents(elsewhere, manifest.bundle_id, harness.runId);
    const index = ReplayIndex.build(imported, { every: 3, runId: harness.runId });
    const shape = (view: ReturnType<typeof fold>) => ({ ...view, items: view.items.map((item) => ({ kind: item.kind, seq: 'seq' in item ? item.seq : item.firstSeq })) });
    for (let seq = 0; seq <= original.length; seq++) {
      expect(shape(index.stateAt(seq)), `seq ${seq}`).toEqual(shape(fold(original.slice(0, seq), harness.runId)));
    }
    expect(JSON.stringify(index.current())).not.toContain('s3cr3tPassw0rd');
  });

  it('refuses a bundle whose entry does not match its checksum, and imports nothing', async () => {
    const harness = await finishedRun('hello', 'hi');
    const out = await bundleOf(harness);
    const entries = await entriesOf(out);
    const name = `runs/${harness.runId}/ledger.ndjson`;
    entries.set(name, Buffer.concat([entries.get(name)!, Buffer.from('\n')]));
    const tampered = path.join(tempDir('keel-imp-bad-'), 'tampered.zip');
    await writeZip(tampered, entries);

    const inspection = await inspectBundle(tampered);
    expect(inspection.ok).toBe(false);
    expect(inspection.problems.join('\n')).toContain(`${name}: checksum mismatch`);
    const elsewhere = tempDir('keel-imp-second-');
    await expect(importBundle(tampered, elsewhere)).rejects.toThrow(/failed its checks, nothing was imported/);
    expect(fs.existsSync(importedDir(elsewhere)) ? fs.readdirSync(importedDir(elsewhere)) : []).toEqual([]);

    // `keel bundle inspect` exits 1 on the mismatch, 0 on the original.
    expect((await runKeel(['bundle', 'inspect', tampered])).code).toBe(1);
    const good = await runKeel(['bundle', 'inspect', out]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('all checksums match');
    expect(fs.existsSync(keelBin)).toBe(true);
  });

  it('reports a record changed after bundling (manifest checksums recomputed) as a chain problem', async () => {
    const harness = await finishedRun('hello', 'hi');
    const out = await bundleOf(harness);
    const entries = await entriesOf(out);
    const name = `runs/${harness.runId}/ledger.ndjson`;
    const lines = entries.get(name)!.toString('utf8').split('\n');
    const record = JSON.parse(lines[2]!);
    record.ts = '2000-01-01T00:00:00.000Z';
    lines[2] = JSON.stringify(record);
    const forged = Buffer.from(lines.join('\n'));
    entries.set(name, forged);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    const entry = manifest.entries.find((each: { path: string }) => each.path === name);
    entry.size = forged.length;
    entry.sha256 = sha256(forged);
    entries.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
    const file = path.join(tempDir('keel-imp-forged-'), 'forged.zip');
    await writeZip(file, entries);

    expect((await inspectBundle(file)).ok).toBe(true);
    const [run] = (await importBundle(file, tempDir('keel-imp-second-'))).runs;
    expect(run!.problems).toEqual([`seq 3 does not match its hash and is not listed as redacted: it was changed`]);
  });

  it('refuses a path that escapes, a zip bomb and a newer bundle format, with plain errors', async () => {
    const harness = await finishedRun('hello', 'hi');
    const out = await bundleOf(harness);
    const entries = await entriesOf(out);
    const dir = tempDir('keel-imp-evil-');

    // An entry named ../xx/evil.txt: written as aa/xx/evil.txt, then its name patched in both headers.
    const escaping = path.join(dir, 'escape.zip');
    await writeZip(escaping, new Map([...entries, ['aa/xx/evil.txt', Buffer.from('evil')]]));
    const bytes = fs.readFileSync(escaping);
    let patched = 0;
    for (let at = bytes.indexOf('aa/xx/evil.txt'); at !== -1; at = bytes.indexOf('aa/xx/evil.txt', at + 1)) {
      bytes.write('..', at, 'latin1');
      patched += 1;
    }
    expect(patched).toBe(2);
    fs.writeFileSync(escaping, bytes);
    await expect(inspectBundle(escaping)).rejects.toThrow(/path escapes the bundle/);
    await expect(importBundle(escaping, tempDir('keel-imp-second-'))).rejects.toBeInstanceOf(BundleError);
    expect(fs.existsSync(path.join(dir, 'xx', 'evil.txt'))).toBe(false);

    // 64 MiB of zeros: compresses about 1000:1.
    const bomb = path.join(dir, 'bomb.zip');
    await writeZip(bomb, new Map([...entries, ['logs/huge.log', Buffer.alloc(64 * 1024 * 1024)]]));
    await expect(inspectBundle(bomb)).rejects.toThrow(/compresses \d+:1 \(the limit is 200:1\); refused as a possible zip bomb/);

    const newer = path.join(dir, 'newer.zip');
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
    await writeZip(newer, new Map([...entries, ['manifest.json', Buffer.from(JSON.stringify({ ...manifest, schema_version: 99 }))]]));
    await expect(importBundle(newer, tempDir('keel-imp-second-'))).rejects.toThrow(/written by a newer Keel \(bundle format 99; this one reads up to 1\)/);
  });
});
