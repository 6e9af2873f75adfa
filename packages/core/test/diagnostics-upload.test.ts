// The diagnostics bundle from the app's side (issue 14): the export's progress advances on the
// `diagnostics.progress` stream up to the bundle written; the native menu's commands reach the
// renderer on `app.menu`; a browser uploads a bundle in chunks (size cap before any byte, not a
// zip refused at the first chunk, chunks in order) and it opens under "Imported".
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_UPLOAD_CHUNK_BYTES, MAX_BUNDLE_UPLOAD_BYTES, type AppMenuCommand, type BundleExportProgress } from '../src/contract/index.js';
import type { Workstation } from '../src/host/workstation.js';
import { BundleUploads } from '../src/host/bundle-upload.js';
import { fileChanges, waitUntil } from './fixtures/wait-kit.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { tempDir } from './helpers.js';

const { start } = useWorkstations();

async function seedRun(workstation: Workstation, chunks: number): Promise<string> {
  const { ledger } = workstation;
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } } });
  await ledger.append(runId, { type: 'prompt.sent', payload: { turn: 1, text: 'a long answer, please', ik: `ik:${'c'.repeat(64)}` } });
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < chunks; i++) pending.push(ledger.append(runId, { type: 'message.chunk', payload: { turn: 1, text: `line ${i}: ${'lorem ipsum '.repeat(20)}\n` } }, { durability: 'stream' }));
  await Promise.all(pending);
  await ledger.append(runId, { type: 'turn.ended', payload: { turn: 1, stopReason: 'end_turn' } });
  return runId;
}

const uploadIds = (dataDir: string) => {
  const dir = path.join(dataDir, 'imported', '.uploads');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

describe('diagnostics from the app', () => {
  it('the export progress advances on diagnostics.progress from idle through running to finished with the file', async () => {
    const { workstation, client } = await start();
    const runId = await seedRun(workstation, 3_000);
    const seen: BundleExportProgress[] = [];
    const ended = new Promise<BundleExportProgress>((resolve) => {
      client.subscribe('diagnostics.progress', {}, {
        onEvent(event) {
          seen.push(event);
          if (event.state === 'finished' || event.state === 'failed') resolve(event);
        },
      });
    });
    const written = await client.invoke('diagnostics.export', { runIds: [runId] });
    const end = await ended;
    expect(end).toEqual({ state: 'finished', runIds: [runId], file: written.file });
    expect(seen[0]).toEqual({ state: 'idle' });
    const running = seen.filter((event): event is Extract<BundleExportProgress, { state: 'running' }> => event.state === 'running' && event.total > 0);
    expect(running.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < running.length; i++) expect(running[i]!.done, `message ${i}`).toBeGreaterThanOrEqual(running[i - 1]!.done);
    expect(running[0]!.done).toBeLessThan(running.at(-1)!.done);
    expect(running.at(-1)!.done).toBe(running.at(-1)!.total);
  });

  it('a failed export is reported as failed on the stream and the next one may start', async () => {
    const { client } = await start();
    const seen: BundleExportProgress[] = [];
    client.subscribe('diagnostics.progress', {}, { onEvent: (event) => void seen.push(event) });
    await expect(client.invoke('diagnostics.export', { runIds: ['01NOSUCHRUN00000000000000'] })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(seen.at(-1)).toMatchObject({ state: 'failed', runIds: ['01NOSUCHRUN00000000000000'] });
  });

  it('menu commands reach every renderer listening on app.menu; with none listening the door is told so', async () => {
    const { workstation, client } = await start();
    expect(workstation.menuCommand('export-diagnostics')).toBe(false);
    const got: AppMenuCommand[] = [];
    const stop = client.subscribe('app.menu', {}, { onEvent: (event) => void got.push(event) });
    expect(workstation.menuCommand('export-diagnostics')).toBe(true);
    expect(workstation.menuCommand('open-bundle')).toBe(true);
    await expect.poll(() => got).toEqual([{ command: 'export-diagnostics' }, { command: 'open-bundle' }]);
    stop();
    await expect.poll(() => workstation.menuCommand('open-bundle')).toBe(false);
  });

  it('a bundle uploaded in chunks opens under Imported; the uploaded file is deleted', async () => {
    const source = await start();
    const runId = await seedRun(source.workstation, 50);
    const exported = await source.client.invoke('diagnostics.export', { runIds: [runId] });
    const bytes = fs.readFileSync(exported.file!);

    const { workstation, client } = await start();
    const { uploadId } = await client.invoke('diagnostics.uploadStart', { name: 'keel-diagnostics.zip', size: bytes.length });
    const chunk = Math.ceil(bytes.length / 3);
    expect(chunk).toBeLessThanOrEqual(BUNDLE_UPLOAD_CHUNK_BYTES);
    for (let offset = 0; offset < bytes.length; offset += chunk) {
      const received = await client.invoke('diagnostics.uploadChunk', { uploadId, offset, data: bytes.subarray(offset, offset + chunk).toString('base64') });
      expect(received.received).toBe(Math.min(bytes.length, offset + chunk));
    }
    const imported = await client.invoke('diagnostics.uploadFinish', { uploadId });
    expect(imported).toMatchObject({ bundle_id: exported.bundle_id, already: false, runs: [{ run_id: runId, problems: [] }] });
    expect(uploadIds(workstation.dataDir)).toEqual([]);
    expect((await client.invoke('diagnostics.imported', {})).map((run) => run.runId)).toEqual([runId]);
    expect(await client.invoke('runs.list', {})).toEqual([]);
    const timeline = await client.invoke('replay.open', { runId, bundleId: exported.bundle_id });
    expect(timeline).toMatchObject({ readOnly: true, lastSeq: source.workstation.ledger.run(runId)!.lastSeq });
  });

  it('refuses a file over the cap before any byte, a file that is not a zip at its first chunk, and chunks out of order, in plain words', async () => {
    const { workstation, client } = await start();
    await expect(client.invoke('diagnostics.uploadStart', { name: 'huge.zip', size: MAX_BUNDLE_UPLOAD_BYTES + 1 })).rejects.toThrow(
      /huge\.zip is 256 MiB; the largest bundle that can be uploaded is 256 MiB\. Import it with: keel bundle import FILE/,
    );
    await expect(client.invoke('diagnostics.uploadStart', { name: 'notes.txt', size: 100 })).rejects.toThrow(/notes\.txt is not a diagnostics bundle/);
    expect(uploadIds(workstation.dataDir)).toEqual([]);

    const text = Buffer.from('this is a plain text file pretending to be a bundle\n'.repeat(4));
    const fake = await client.invoke('diagnostics.uploadStart', { name: 'fake.zip', size: text.length });
    expect(uploadIds(workstation.dataDir)).toHaveLength(1);
    await expect(client.invoke('diagnostics.uploadChunk', { uploadId: fake.uploadId, offset: 0, data: text.toString('base64') })).rejects.toThrow(
      /not a zip, so not a diagnostics bundle; nothing was imported/,
    );
    expect(uploadIds(workstation.dataDir)).toEqual([]);
    await expect(client.invoke('diagnostics.uploadFinish', { uploadId: fake.uploadId })).rejects.toMatchObject({ code: 'not_found' });

    const zipHead = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(60)]);
    const gap = await client.invoke('diagnostics.uploadStart', { name: 'gap.zip', size: zipHead.length * 2 });
    await client.invoke('diagnostics.uploadChunk', { uploadId: gap.uploadId, offset: 0, data: zipHead.toString('base64') });
    await expect(client.invoke('diagnostics.uploadChunk', { uploadId: gap.uploadId, offset: zipHead.length + 5, data: zipHead.toString('base64') })).rejects.toThrow(
      /byte 69 arrived, byte 64 was expected/,
    );
    const short = await client.invoke('diagnostics.uploadStart', { name: 'short.zip', size: zipHead.length * 2 });
    await client.invoke('diagnostics.uploadChunk', { uploadId: short.uploadId, offset: 0, data: zipHead.toString('base64') });
    await expect(client.invoke('diagnostics.uploadFinish', { uploadId: short.uploadId })).rejects.toThrow(/only 64 of 128 bytes arrived/);
    const broken = await client.invoke('diagnostics.uploadStart', { name: 'broken.zip', size: zipHead.length });
    await client.invoke('diagnostics.uploadChunk', { uploadId: broken.uploadId, offset: 0, data: zipHead.toString('base64') });
    await expect(client.invoke('diagnostics.uploadFinish', { uploadId: broken.uploadId })).rejects.toThrow(/is not a readable zip/);
    expect(uploadIds(workstation.dataDir)).toEqual([]);
    expect(await client.invoke('diagnostics.imported', {})).toEqual([]);
  });
});

describe('bundle uploads left behind', () => {
  it('what a killed host left half-uploaded is removed when the next host opens', () => {
    const dataDir = tempDir();
    const leftover = path.join(dataDir, 'imported', '.uploads', 'deadbeef.zip');
    fs.mkdirSync(path.dirname(leftover), { recursive: true });
    fs.writeFileSync(leftover, 'PK\x03\x04 half a bundle');
    const uploads = new BundleUploads(dataDir);
    try {
      expect(fs.existsSync(leftover)).toBe(false);
    } finally {
      uploads.close();
    }
  });

  it('an upload nobody finishes is dropped by its idle timer (file and descriptor), without another upload starting', async () => {
    const dataDir = tempDir();
    const uploads = new BundleUploads(dataDir, MAX_BUNDLE_UPLOAD_BYTES, 1000);
    try {
      const { uploadId } = uploads.start('left.zip', 100);
      uploads.chunk(uploadId, 0, Buffer.from('PK\x03\x04 the first bytes', 'latin1').toString('base64'));
      const file = path.join(dataDir, 'imported', '.uploads', `${uploadId}.zip`);
      expect(fs.existsSync(file)).toBe(true);
      await waitUntil(() => !fs.existsSync(file), 20_000, 'the idle upload to be dropped', fileChanges(file));
      expect(() => uploads.chunk(uploadId, 21, 'AA==')).toThrow('No such bundle upload');
    } finally {
      uploads.close();
    }
  });
});
