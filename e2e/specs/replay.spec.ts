// The replay viewer and the diagnostics bundle in the app (issue 14, "Done means"): a real run of
// the built-in agent opened in replay mode, scrubbed with the keyboard and by marker, a deep link
// to a seq, "Export diagnostics…" writing a bundle, and a second Keel opening that bundle under
// "Imported" and scrubbing it. Real `keel serve` (two of them), real agent. Light and dark.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { connectClient } from '../support/client.mjs';
import { runRow, sharedKeel } from '../support/keel-page.js';
import { artifactsDir, startKeel } from '../support/keel-server.js';
import { readLedger } from '../support/ledger-file.mjs';

const keel = sharedKeel();
const second = sharedKeel();

const position = (page: Page) => page.getByTestId('replay-position');
const withParams = (url: string, params: Record<string, string>) => {
  const parsed = new URL(url);
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, value);
  return parsed.toString();
};

test('replay a finished run by keyboard, marker and deep link; export diagnostics; a second Keel imports and scrubs it', async ({ browser }) => {
  // Two servers, a real run, an export, an import and four browser contexts: above the default budget on a loaded machine.
  test.setTimeout(180_000);
  const workspace = fs.realpathSync(fs.mkdtempSync(path.join(keel.dataDir, '..', 'keel-e2e-replay-ws-')));
  const { client, close } = connectClient(keel);
  let runId: string;
  try {
    const run = await client.invoke('runs.create', { workspace, agent: { kind: 'builtin', script: 'edit-and-test' }, approvalMode: 'all', title: 'Replay me' });
    runId = run.id;
    await client.invoke('run.prompt', { runId, text: 'Write hello.txt and check it' });
  } finally {
    close();
  }

  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(keel.url);
  await runRow(page, runId).click();
  await expect(page.locator('[data-testid="transcript-item"][data-kind="turn_end"]')).toBeVisible({ timeout: 30_000 });
  // The turn's checkpoint is appended after turn.ended: the run's last event is that one.
  const checkpointed = (event: { type: string; payload: unknown }) =>
    (event.type === 'checkpoint.created' || event.type === 'checkpoint.skipped') && (event.payload as { turn?: number }).turn === 1;
  await expect.poll(() => readLedger(keel.dataDir, runId).some(checkpointed), { timeout: 30_000 }).toBe(true);
  const lastSeq = readLedger(keel.dataDir, runId).length;

  // Replay mode opens at the end; the slider steps one event with the arrow keys.
  await page.getByTestId('open-replay').click();
  const viewer = page.getByTestId('replay-viewer');
  await expect(viewer).toBeVisible();
  await expect(position(page)).toHaveText(`seq ${lastSeq} / ${lastSeq}`);
  await page.getByTestId('replay-slider').focus();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(position(page)).toHaveText(`seq ${lastSeq - 2} / ${lastSeq}`);
  await expect(page.getByTestId('replay-inspector')).toContainText(`seq ${lastSeq - 2}`);
  await expect(page.getByTestId('replay-chain')).toHaveText('chain verifies up to here');

  // Jump to the previous turn marker: the prompt, with the transcript as it stood then.
  await page.getByTestId('replay-marker-kind').selectOption('turn');
  await page.getByTestId('replay-prev-marker').click();
  const prompt = readLedger(keel.dataDir, runId).find((event) => event.type === 'prompt.sent')!;
  await expect(position(page)).toHaveText(`seq ${prompt.seq} / ${lastSeq}`);
  await expect(page.getByTestId('replay-inspector')).toContainText('prompt.sent');
  await expect(page.getByTestId('replay-transcript').locator('[data-kind="turn_end"]')).toHaveCount(0);
  expect(new URL(page.url()).searchParams.get('seq')).toBe(String(prompt.seq));

  // Export diagnostics: the headless host writes under <data>/bundles/ and says where.
  await page.getByTestId('replay-viewer').getByTestId('export-diagnostics').click();
  const result = page.getByTestId('replay-viewer').getByTestId('export-diagnostics-result');
  await expect(result).toContainText('Wrote ');
  const bundle = /Wrote (\S+\.zip)/.exec((await result.textContent()) ?? '')![1]!;
  expect(bundle.startsWith(path.join(keel.dataDir, 'bundles'))).toBe(true);
  expect(fs.existsSync(bundle)).toBe(true);
  await context.close();

  // A deep link opens the same view at that seq, light and dark.
  for (const scheme of ['light', 'dark'] as const) {
    const linked = await browser.newContext({ colorScheme: scheme, viewport: { width: 1400, height: 900 } });
    const linkedPage = await linked.newPage();
    await linkedPage.goto(withParams(keel.url, { run: runId, seq: '8' }));
    await expect(linkedPage.getByTestId('replay-viewer')).toBeVisible();
    await expect(position(linkedPage)).toHaveText(`seq 8 / ${lastSeq}`);
    await expect(linkedPage.getByTestId('replay-inspector')).toContainText('seq 8');
    await expect(linkedPage.getByTestId('replay-transcript')).toBeVisible();
    await linkedPage.screenshot({ path: path.join(artifactsDir, `replay-${scheme}.png`) });
    await linked.close();
  }

  // A second Keel opens the bundle under "Imported" and scrubs it (read-only): typed path first.
  const other = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const otherPage = await other.newPage();
  await otherPage.goto(second.url);
  await otherPage.getByRole('tab', { name: 'Imported' }).click();
  await otherPage.getByTestId('bundle-path').fill(bundle);
  await otherPage.getByTestId('open-bundle').click();
  await expect(otherPage.getByTestId('import-result')).toContainText(`${runId} (${lastSeq} verified)`);
  // An import opens its run in the replay viewer at once.
  await expect(otherPage.getByTestId('replay-viewer')).toContainText('imported · read-only');
  await expect(position(otherPage)).toHaveText(`seq ${lastSeq} / ${lastSeq}`);
  await otherPage.getByTestId('replay-slider').focus();
  await otherPage.keyboard.press('Home');
  await expect(position(otherPage)).toHaveText(`seq 0 / ${lastSeq}`);
  await otherPage.keyboard.press('ArrowRight');
  await expect(otherPage.getByTestId('replay-inspector')).toContainText('run.created');
  await expect(otherPage.getByTestId('export-diagnostics')).toHaveCount(0);
  await otherPage.getByTestId('replay-close').click();
  await expect(otherPage.getByTestId('replay-imported')).toHaveCount(1);
  await otherPage.screenshot({ path: path.join(artifactsDir, 'replay-imported.png') });
  // Never mixed with the second Keel's own runs.
  expect(fs.existsSync(path.join(second.dataDir, 'ledger', `${runId}.ndjson`))).toBe(false);

  // A tampered bundle is refused with a plain error.
  const tampered = path.join(path.dirname(bundle), 'tampered.zip');
  const bytes = fs.readFileSync(bundle);
  const at = Math.floor(bytes.length / 3);
  bytes[at] = bytes[at]! ^ 0xff;
  fs.writeFileSync(tampered, bytes);
  await otherPage.getByTestId('bundle-path').fill(tampered);
  await otherPage.getByTestId('open-bundle').click();
  await expect(otherPage.getByTestId('import-error')).toBeVisible();
  await other.close();
});

/** Drops `file` (bytes read here, in the test) on the page's window as a user dragging it from the desktop would. */
async function dropFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ name: fileName, base64 }) => {
      const binary = atob(base64);
      const data = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) data[i] = binary.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([data], fileName, { type: 'application/zip' }));
      return dt;
    },
    { name, base64: bytes.toString('base64') },
  );
  await page.dispatchEvent('body', 'dragenter', { dataTransfer: transfer });
  await expect(page.getByTestId('bundle-drop')).toBeVisible();
  await page.dispatchEvent('body', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('body', 'drop', { dataTransfer: transfer });
}

test('a bundle dropped on the window or picked with "Import bundle…" uploads and opens under Imported; files that are not bundles are refused, light and dark', async ({ browser }) => {
  test.setTimeout(180_000);
  const workspace = fs.realpathSync(fs.mkdtempSync(path.join(keel.dataDir, '..', 'keel-e2e-drop-ws-')));
  const { client, close } = connectClient(keel);
  let runId: string;
  let bundle: string;
  try {
    const run = await client.invoke('runs.create', { workspace, agent: { kind: 'builtin', script: 'hello' }, approvalMode: 'all', title: 'Drop me' });
    runId = run.id;
    await client.invoke('run.prompt', { runId, text: 'Say hello' });
    // Wait on the ledger, not a clock: the turn is over once its checkpoint (which follows turn.ended) is recorded.
    const settled = () => {
      const events = readLedger(keel.dataDir, runId);
      const ended = events.findIndex((event) => event.type === 'turn.ended');
      return ended >= 0 && events.slice(ended).some((event) => event.type === 'checkpoint.created' || event.type === 'checkpoint.skipped');
    };
    await expect.poll(settled, { timeout: 60_000 }).toBe(true);
    bundle = (await client.invoke('diagnostics.export', { runIds: [runId] })).file!;
  } finally {
    close();
  }
  const manifest = JSON.parse(execFileSync('unzip', ['-p', bundle, 'manifest.json'], { encoding: 'utf8' })) as { runs: Array<{ run_id: string; last_seq: number }> };
  const lastSeq = manifest.runs.find((each) => each.run_id === runId)!.last_seq;
  const bytes = fs.readFileSync(bundle);

  for (const scheme of ['light', 'dark'] as const) {
    const fresh = await startKeel();
    try {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(fresh.url);
      await page.getByRole('tab', { name: 'Imported' }).click();

      // Not a bundle: refused in plain words, nothing imported.
      await dropFile(page, 'notes.zip', Buffer.from('just some text, not a zip at all\n'.repeat(10)));
      await expect(page.getByTestId('import-error')).toContainText('not a zip, so not a diagnostics bundle');
      await dropFile(page, 'notes.txt', Buffer.from('hello'));
      await expect(page.getByTestId('import-error')).toContainText('notes.txt is not a diagnostics bundle');
      await page.screenshot({ path: path.join(artifactsDir, `replay-drop-refused-${scheme}.png`) });
      expect(fs.existsSync(path.join(fresh.dataDir, 'imported')) ? fs.readdirSync(path.join(fresh.dataDir, 'imported')).filter((name) => !name.startsWith('.')) : []).toEqual([]);

      if (scheme === 'light') {
        // Dropped: uploaded over the page's connection, imported, opened in the replay viewer.
        await dropFile(page, path.basename(bundle), bytes);
      } else {
        // Picked with "Import bundle…".
        await page.getByTestId('bundle-file').setInputFiles(bundle);
      }
      await expect(page.getByTestId('import-result')).toContainText(`${runId} (${lastSeq} verified)`);
      await expect(page.getByTestId('replay-viewer')).toContainText('imported · read-only');
      await expect(position(page)).toHaveText(`seq ${lastSeq} / ${lastSeq}`);
      await page.getByTestId('replay-slider').focus();
      await page.keyboard.press('Home');
      await page.keyboard.press('ArrowRight');
      await expect(page.getByTestId('replay-inspector')).toContainText('run.created');
      await page.screenshot({ path: path.join(artifactsDir, `replay-drop-imported-${scheme}.png`) });
      await page.getByTestId('replay-close').click();
      await expect(page.getByTestId('replay-imported')).toHaveCount(1);
      expect(fs.existsSync(path.join(fresh.dataDir, 'ledger', `${runId}.ndjson`))).toBe(false);
      // The uploaded copy is gone once imported.
      expect(fs.readdirSync(path.join(fresh.dataDir, 'imported', '.uploads'))).toEqual([]);
      await context.close();
    } finally {
      await fresh.stop();
    }
  }
});
