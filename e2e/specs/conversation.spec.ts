// The conversation pane against the real headless server (`keel serve`) and the real built-in
// agent. Every wait is on a UI state (test ids, data-* attributes) or a ledger fact (the run's
// NDJSON log, read-only); no sleeps.
import fs from 'node:fs';
import path from 'node:path';
import { fold } from '@keel/core';
import type { LedgerEvent, RunView } from '@keel/core/contract';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { fileChanges, waitUntil } from '../../packages/core/test/fixtures/wait-kit.js';
import { connectClient } from '../support/client.mjs';
import { keelOverGeneratedRun, runRow, sharedKeel, tempDir, transcriptItem } from '../support/keel-page.js';
import { artifactsDir } from '../support/keel-server.js';
import { countOf, latestAgentPid, ledgerFile, readLedger } from '../support/ledger-file.mjs';
import { runUiBench, summaryLines, TARGETS } from '../support/ui-bench.mjs';

const GREETING = "Hello from Keel's built-in agent.\n";

const keel = sharedKeel();



/**
 * Resolves with what `check` finds in the run's ledger file: read now, then again on every
 * change the kernel reports for it (fs.watch, no polling); the timeout is a failure guard.
 */

/**
 * The run's events once the checkpoint of `turn` is recorded: it follows the turn's end, so the
 * page's transcript (which shows it) and a fold of the ledger are compared at the same point.
 */
async function ledgerAfterCheckpoint(dataDir: string, runId: string, turn: number): Promise<LedgerEvent[]> {
  const checkpointed = (events: LedgerEvent[]) =>
    events.some((event) => (event.type === 'checkpoint.created' || event.type === 'checkpoint.skipped') && (event.payload as { turn: number }).turn === turn);
  await expect.poll(() => checkpointed(readLedger(dataDir, runId)), { timeout: 30_000 }).toBe(true);
  return readLedger(dataDir, runId);
}

function ledgerFact<T>(dataDir: string, runId: string, check: (events: LedgerEvent[]) => T | null | undefined | false, message: string, timeout = 30_000): Promise<T> {
  return waitUntil(() => check(readLedger(dataDir, runId)), timeout, message, fileChanges(ledgerFile(dataDir, runId)));
}

/** Creates a run through the New run dialog (workspace path field, built-in script); returns its id. */
async function createRunInDialog(page: Page, options: { workspace: string; script: string; title: string }): Promise<string> {
  await page.getByTestId('new-run').click();
  const dialog = page.getByTestId('new-run-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('new-run-workspace').fill(options.workspace);
  await dialog.getByTestId('new-run-source-builtin').check();
  // The script list comes from agents.list: wait for the option before choosing it.
  await expect(dialog.locator(`[data-testid="new-run-script"] option[value="${options.script}"]`)).toBeAttached();
  await dialog.getByTestId('new-run-script').selectOption(options.script);
  await dialog.getByTestId('new-run-title').fill(options.title);
  await dialog.getByTestId('new-run-create').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('new-run-error')).toHaveCount(0);
  const conversation = page.locator('[data-testid="conversation"][data-run-id]');
  await expect(conversation).toBeVisible();
  const runId = (await conversation.getAttribute('data-run-id'))!;
  await expect(runRow(page, runId)).toBeVisible();
  await expect(page.getByTestId('run-header')).toContainText(options.title);
  return runId;
}

async function setAutoResume(autoResume: boolean): Promise<void> {
  const { client, close } = connectClient(keel);
  try {
    await client.invoke('settings.update', { patch: { autoResume } });
  } finally {
    close();
  }
}

async function sendPrompt(page: Page, text: string): Promise<void> {
  await expect(page.getByTestId('composer-reason')).toHaveAttribute('data-blocked', 'false');
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-send').click();
  await expect(page.getByTestId('composer-input')).toHaveValue('');
  await expect(page.getByTestId('composer-error')).toHaveCount(0);
}

/** Keyboard shortcuts act only when focus is outside text fields: leave the composer. */
async function blurTextFields(page: Page): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

const turnEnd = (page: Page, stopReason: string): Locator => transcriptItem(page, 'turn_end').locator(`[data-stop-reason="${stopReason}"]`);
const recovery = (page: Page, kind: string): Locator => page.locator(`[data-testid="recovery-card"][data-recovery="${kind}"]`);

async function expectPinnedWrite(page: Page, workspace: string): Promise<Locator> {
  const pinned = page.getByTestId('pinned-approvals').getByTestId('pinned-approval');
  await expect(pinned).toHaveCount(1);
  await expect(pinned).toHaveAttribute('data-status', 'pending');
  // The normalised action: kind write, the title the agent gave, the path resolved in the workspace.
  await expect(pinned.locator('.chip').first()).toHaveText('write');
  await expect(pinned.locator('.approval-title')).toContainText('write files: Write hello.txt');
  await expect(pinned.locator('.approval-path')).toHaveText(path.join(workspace, 'hello.txt'));
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'awaiting_approval');
  return pinned;
}

async function expectPinnedCheck(page: Page): Promise<Locator> {
  const pinned = page.getByTestId('pinned-approvals').getByTestId('pinned-approval');
  await expect(pinned).toHaveCount(1);
  await expect(pinned.locator('.chip').first()).toHaveText('exec');
  await expect(pinned.locator('.approval-title')).toContainText('run a command: Run the check');
  await expect(pinned.locator('.approval-facts')).toContainText("sh -c 'cat hello.txt && echo tests passed'");
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'awaiting_approval');
  return pinned;
}

test('a run on a fresh folder: prompt, approve the write (button) and the check (keyboard), the file on disk, the output, end_turn', async ({ page }) => {
  const workspace = tempDir('keel-e2e-ws-');
  await page.goto(keel.url);
  const runId = await createRunInDialog(page, { workspace, script: 'edit-and-test', title: 'Greeting file' });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'created');

  await sendPrompt(page, 'Write a greeting file and check it.');
  await expect(transcriptItem(page, 'prompt')).toContainText('Write a greeting file and check it.');

  // 1. The write, approved with the button.
  const write = await expectPinnedWrite(page, workspace);
  const writeId = (await write.getAttribute('data-approval-id'))!;
  // In the transcript the same request is a placeholder pointing at the pinned card.
  await expect(page.locator(`[data-testid="approval-card"][data-approval-id="${writeId}"]`)).toHaveAttribute('data-status', 'pending');
  expect(fs.existsSync(path.join(workspace, 'hello.txt')), 'nothing is written before the approval').toBe(false);
  await write.locator('[data-testid="approval-decide"][data-decision="allow_once"]').click();

  // 2. The check, approved with the keyboard (1 = allow once) on the oldest pending card.
  const check = await expectPinnedCheck(page);
  const checkId = (await check.getAttribute('data-approval-id'))!;
  expect(checkId).not.toBe(writeId);
  await blurTextFields(page);
  await page.keyboard.press('1');

  await expect(turnEnd(page, 'end_turn')).toBeVisible();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'idle');
  await expect(page.getByTestId('pinned-approvals')).toHaveCount(0);
  await expect(runRow(page, runId)).toHaveAttribute('data-state', 'idle');

  // Both decisions show as the user's, in the transcript.
  for (const id of [writeId, checkId]) {
    const card = page.locator(`[data-testid="approval-card"][data-approval-id="${id}"]`);
    await expect(card).toHaveAttribute('data-status', 'decided');
    await expect(card.getByTestId('approval-outcome')).toContainText('Allowed once by you');
  }
  // The file Keel wrote, on disk, and the command's output in the transcript.
  expect(fs.readFileSync(path.join(workspace, 'hello.txt'), 'utf8')).toBe(GREETING);
  await expect(transcriptItem(page, 'file_write')).toContainText('hello.txt');
  const command = transcriptItem(page, 'command');
  await expect(command.locator('[data-command-status="exited"]')).toBeVisible();
  await expect(command.getByTestId('command-status')).toHaveText('exit 0');
  // The command's output is shown once: in the agent's tool call that embedded it; the
  // "Keel ran" line points at that call and keeps its own copy behind a closed toggle.
  await expect(command.locator('.command-card.linked')).toContainText('for the tool call above');
  await expect(command.getByTestId('output')).toHaveAttribute('data-open', 'false');
  await expect(command.getByTestId('output')).not.toContainText('tests passed');
  await expect(transcriptItem(page, 'tool').filter({ hasText: 'Run sh' }).getByTestId('output')).toContainText('tests passed');
  await expect(page.getByTestId('run-progress')).toHaveAttribute('aria-valuenow', '100');

  // The ledger agrees: both decided by the user, allow_once, one turn ended end_turn.
  const events = await ledgerAfterCheckpoint(keel.dataDir, runId, 1);
  const decided = events.filter((event) => event.type === 'approval.decided').map((event) => event.payload);
  expect(decided).toEqual([
    expect.objectContaining({ approvalId: writeId, decision: 'allow_once', by: 'user' }),
    expect.objectContaining({ approvalId: checkId, decision: 'allow_once', by: 'user' }),
  ]);
  expect(events.filter((event) => event.type === 'turn.ended').map((event) => event.payload)).toEqual([{ turn: 1, stopReason: 'end_turn' }]);
  await expect(page.getByTestId('transcript')).toHaveAttribute('data-count', String(fold(events, runId).items.length));

  await page.screenshot({ path: path.join(artifactsDir, 'conversation-edit-and-test.png') });
});

test('kill -9 of the agent while an approval is pending: recovery cards, the orphaned card decided, carried over on "Continue."', async ({ page }) => {
  const workspace = tempDir('keel-e2e-ws-');
  // The manual path: with auto-resume on (the default, newcomer.spec.ts) Keel would continue the
  // turn itself before the orphaned card is decided; here a person decides, then continues.
  await setAutoResume(false);
  // Tall enough for the orphaned card and every recovery card in one screenshot.
  await page.setViewportSize({ width: 1280, height: 1400 });
  await page.goto(keel.url);
  const runId = await createRunInDialog(page, { workspace, script: 'edit-and-test', title: 'Crash while asking' });
  await sendPrompt(page, 'Write a greeting file and check it.');
  const write = await expectPinnedWrite(page, workspace);
  const orphanId = (await write.getAttribute('data-approval-id'))!;

  // The agent's process group, from the ledger (the server holds the lock: read the NDJSON file).
  const pid = latestAgentPid(keel.dataDir, runId);
  expect(pid, 'runtime.started recorded the agent pid').not.toBeNull();
  const requested = await ledgerFact(keel.dataDir, runId, (events) => events.some((e) => e.type === 'approval.requested'), 'the approval is durable before the kill');
  expect(requested).toBe(true);
  process.kill(-pid!, 'SIGKILL');

  // The recovery, as cards, in order: exit, restart, new generation, session replayed, approvals reset.
  await expect(recovery(page, 'agent_exited')).toContainText('was killed by SIGKILL');
  await expect(recovery(page, 'restarting')).toBeVisible();
  await expect(recovery(page, 'agent_started')).toContainText('Agent process #2 started.');
  await expect(recovery(page, 'session')).toHaveAttribute('data-outcome', 'replayed');
  await expect(recovery(page, 'approvals_reset')).toContainText('1 pending approval was reset');
  const order = await page.getByTestId('recovery-card').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-recovery')));
  expect(order).toEqual(['agent_exited', 'approvals_reset', 'restarting', 'agent_started', 'session'].filter((kind) => order.includes(kind)));
  await expect(page.getByTestId('run-generation')).toHaveText('#2');
  await expect(page.getByTestId('run-restarts')).toHaveText('1');

  // The request is orphaned — not denied — and can still be decided; nothing is pinned.
  const orphan = page.locator(`[data-testid="approval-card"][data-approval-id="${orphanId}"]`);
  await expect(orphan).toHaveAttribute('data-status', 'orphaned');
  await expect(orphan).toContainText('Orphaned request');
  await expect(orphan).not.toContainText('Denied');
  await expect(orphan.getByTestId('approval-outcome')).toContainText('The agent process that asked is gone');
  await expect(page.getByTestId('pinned-approvals')).toHaveCount(0);
  // The interrupted turn ends; the run waits for the next prompt.
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'idle');
  await expect(transcriptItem(page, 'turn_end')).toHaveCount(1);
  await expect(transcriptItem(page, 'turn_end').locator('[data-stop-reason]')).not.toHaveAttribute('data-stop-reason', 'end_turn');
  expect(fs.existsSync(path.join(workspace, 'hello.txt')), 'the orphaned write did not happen').toBe(false);
  // The orphaned card and the recovery cards below it, in one screenshot.
  for (const card of [orphan, recovery(page, 'agent_exited'), recovery(page, 'session')]) await expect(card).toBeInViewport();
  await page.screenshot({ path: path.join(artifactsDir, 'conversation-recovery.png') });

  // Decide the orphaned card: recorded now, applied when the agent asks again.
  await orphan.locator('[data-testid="approval-decide"][data-decision="allow_once"]').click();
  await expect(orphan).toHaveAttribute('data-status', 'decided');
  await expect(orphan.getByTestId('approval-outcome')).toContainText('Allowed once by you');

  // "Continue.": the agent asks for the same write again and gets the earlier decision.
  await sendPrompt(page, 'Continue.');
  const carried = await ledgerFact(
    keel.dataDir,
    runId,
    (events) => events.find((e) => e.type === 'approval.decided' && (e.payload as { by: string }).by === 'carryover')?.payload as { approvalId: string; ref: string } | undefined,
    'the repeated request is decided by carry-over',
  );
  expect(carried.ref).toBe(orphanId);
  const carriedCard = page.locator(`[data-testid="approval-card"][data-approval-id="${carried.approvalId}"]`);
  await expect(carriedCard).toHaveAttribute('data-status', 'decided');
  await expect(carriedCard.getByTestId('approval-outcome')).toContainText('by carry-over from');
  await expect(carriedCard.getByTestId('approval-ref')).toHaveText(`approval ${orphanId}`);

  // The check still needs its own answer (carry-over applies to the same action only).
  const check = await expectPinnedCheck(page);
  await check.locator('[data-testid="approval-decide"][data-decision="allow_once"]').click();
  await expect(turnEnd(page, 'end_turn')).toBeVisible();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'idle');
  expect(fs.readFileSync(path.join(workspace, 'hello.txt'), 'utf8')).toBe(GREETING);
  await expect(transcriptItem(page, 'tool').filter({ hasText: 'Run sh' }).getByTestId('output')).toContainText('tests passed');

  // Sending "Continue." brought the view back to the end (deciding the card above had
  // scrolled it up), and it followed the turn to its end.
  await expect(page.getByTestId('transcript-latest')).toHaveCount(0);

  // The reference leads back to the orphaned card.
  await carriedCard.getByTestId('approval-ref').click();
  await expect(orphan).toBeInViewport();

  const events = await ledgerAfterCheckpoint(keel.dataDir, runId, 2);
  expect(events.filter((e) => e.type === 'turn.ended').map((e) => (e.payload as { turn: number; stopReason: string }).stopReason)).toEqual([expect.not.stringMatching(/^end_turn$/), 'end_turn']);
  expect(countOf(events, 'prompt.sent'), 'no prompt sent twice').toBe(2);
  await expect(page.getByTestId('transcript')).toHaveAttribute('data-count', String(fold(events, runId).items.length));
  await setAutoResume(true);
});

test('reloading the page mid-stream shows every chunk once: nothing lost, nothing doubled', async ({ page }) => {
  // A script streaming 3,000 chunks with 2 ms between them: seconds of streaming to reload in.
  const scriptDir = tempDir('keel-e2e-script-');
  const script = path.join(scriptDir, 'slow-stream.json');
  const lines = 3000;
  fs.writeFileSync(
    script,
    JSON.stringify({
      name: 'slow-stream',
      description: 'One long message streamed slowly, for reload tests.',
      turns: [{ steps: [{ thought: 'A long answer, slowly.' }, { stream: { count: lines, text: 'Streamed line', delayMs: 2 } }, { message: 'Done streaming.' }] }],
    }),
  );
  // The dialog offers the shipped scripts by name; a script file goes through runs.create.
  const { client, close } = connectClient(keel);
  const run = await client.invoke('runs.create', { workspace: tempDir('keel-e2e-ws-'), agent: { kind: 'builtin', script }, title: 'Reload mid-stream' });
  close();

  await page.goto(keel.url);
  await runRow(page, run.id).click();
  await expect(page.locator(`[data-testid="conversation"][data-run-id="${run.id}"]`)).toBeVisible();
  await sendPrompt(page, 'Stream a long answer.');
  await expect(transcriptItem(page, 'message')).toBeVisible();
  const before = await ledgerFact(keel.dataDir, run.id, (events) => countOf(events, 'message.chunk') >= 200 && events, 'the stream is under way');
  expect(countOf(before, 'turn.ended'), 'the turn is still streaming when the page reloads').toBe(0);

  await page.reload();
  // The selection survives the reload; the run opens from run.view and the stream continues from lastSeq + 1.
  await expect(page.locator(`[data-testid="conversation"][data-run-id="${run.id}"]`)).toBeVisible();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  await expect(turnEnd(page, 'end_turn')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'idle');

  const events = await ledgerAfterCheckpoint(keel.dataDir, run.id, 1);
  const chunks = events.filter((event) => event.type === 'message.chunk').map((event) => (event.payload as { text: string }).text);
  expect(chunks.length).toBeGreaterThan(lines);
  const view: RunView = fold(events, run.id);
  const messages = view.items.filter((entry) => entry.kind === 'message');
  expect(messages).toHaveLength(1);
  const message = messages[0] as Extract<RunView['items'][number], { kind: 'message' }>;
  expect(message.chunks).toBe(chunks.length);
  expect(message.text).toBe(chunks.join(''));

  // The page folded the same items: as many as the ledger's fold, and the same message text.
  await expect(page.getByTestId('transcript')).toHaveAttribute('data-count', String(view.items.length));
  const card = transcriptItem(page, 'message');
  await expect(card.locator('.long-text-toggle')).toContainText(`of ${message.text.length.toLocaleString('en-US')} characters`);
  await card.locator('.long-text-toggle').click();
  const shown = await card.locator('.markdown.plain > div').evaluate((element) => element.textContent ?? '');
  expect(shown.length).toBe(message.text.length);
  expect(shown).toBe(message.text);
  // Every streamed line exactly once, in order.
  const streamed = shown.split('\n').filter((line) => line.startsWith('Streamed line'));
  expect(streamed).toEqual(Array.from({ length: lines }, (_, i) => `Streamed line ${i + 1} of ${lines}.`));
  await page.screenshot({ path: path.join(artifactsDir, 'conversation-reload.png') });
});

test('a 100,000-event run written through the ledger opens and scrolls; a ~2,000 events/s stream follows (figures reported, not asserted)', async ({ browser, page }, testInfo) => {
  test.setTimeout(240_000);
  const { own, generated, scratch, dataDir } = await keelOverGeneratedRun('keel-e2e-bench-', 100_000);
  const { client, close } = connectClient(own);
  try {
    const result = await runUiBench({ browser, page, keel: own, client, generatedRunId: generated.runId, scratchDir: scratch, log: (line) => console.log(`ui-bench: ${line}`) });

    // Correctness only (speed is the benchmark's business, `npm run bench -- ui`):
    // the run opened whole — as many items as the ledger's fold — and every scroll stop had rows on screen.
    const events = readLedger(dataDir, generated.runId);
    expect(events).toHaveLength(100_000);
    const items = fold(events, generated.runId).items.length;
    expect(result.generated.items).toBe(items);
    expect(result.scroll.stops.map((stop) => stop.where)).toContain('jump to 0 %');
    expect(result.scroll.stops.find((stop) => stop.where === 'jump to 0 %')?.first).toBe(0);
    const end = result.scroll.stops.at(-1)!;
    expect(end.last).toBe(end.of - 1);
    // The streamed run: all of it folded on the page, as in the ledger.
    const streamed = readLedger(dataDir, result.streaming.runId);
    expect(countOf(streamed, 'message.chunk')).toBeGreaterThanOrEqual(10_000);
    // Reopened last: the streamed run, whole; then the long run again, whole.
    await expect(page.getByTestId('transcript')).toHaveAttribute('data-count', String(fold(streamed, result.streaming.runId).items.length));
    await runRow(page, generated.runId).click();
    await expect(page.getByTestId('transcript')).toHaveAttribute('data-count', String(items));
    await page.screenshot({ path: path.join(artifactsDir, 'conversation-100k.png') });

    const report = { suite: 'ui', source: 'e2e/specs/conversation.spec.ts', targets: TARGETS, events: 100_000, generation_ms: generated.ms, ...result };
    fs.writeFileSync(path.join(artifactsDir, 'ui-bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    await testInfo.attach('ui-bench.json', { body: JSON.stringify(report, null, 2), contentType: 'application/json' });
    for (const line of summaryLines(result)) console.log(`ui-bench: ${line}`);
  } finally {
    close();
    await own.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
