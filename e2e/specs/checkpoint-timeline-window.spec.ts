// Issue 16 / ADR 0023: the checkpoint timeline of a long run, whose transcript opens on a window
// of its newest items, shows every checkpoint of the run (the earlier ones from the host's
// `checkpoints.list`), and choosing one whose checkpoint is not loaded loads earlier pages
// before the confirm box lists the files a restore puts back. Against the real headless server
// (`keel serve`) over a run written through the ledger with real checkpoints (core's
// createCheckpoint on a real workspace: hidden refs, sidecars), screenshotted light and dark.
// The page's socket is routed (Playwright's routeWebSocket) so a `checkpoints.list` can be
// answered with a failure and the earlier-page asks held, to look at those states.
import fs from 'node:fs';
import path from 'node:path';
import { createCheckpoint, openLedger } from '@keel/core';
import { expect, test, type Page, type WebSocketRoute } from '@playwright/test';
import { gotoConnected, openRun, screenshotBoth, tempDir } from '../support/keel-page.js';
import { startKeel } from '../support/keel-server.js';

test.setTimeout(300_000);

const TURNS = 8;
/** Notes per turn (one transcript item each): 8 x 700 items, so the newest 2,000 hold turns 6 to 8. */
const NOTES = 700;

/** The files turn N writes: one of its own, and from turn 2 on a shared one. */
const filesOf = (turn: number): string[] => [`turn-${turn}.txt`, ...(turn > 1 ? ['shared.txt'] : [])];

/**
 * Writes a run of TURNS turns into `dataDir`'s ledger before the server opens it (it holds the
 * ledger lock): each turn writes its files into the workspace, adds NOTES notes, ends, and takes
 * a real checkpoint whose `checkpoint.created` event is appended as the run core does.
 */
async function writeRunWithCheckpoints(dataDir: string, workspace: string): Promise<string> {
  const ledger = await openLedger({ dataDir, streamWindowMs: 2 });
  const runId = ledger.newRunId();
  try {
    await ledger.append(runId, { type: 'run.created', payload: { workspace, agent: { kind: 'builtin', script: 'edit-and-test' }, title: 'Long run with checkpoints', approvalMode: 'interactive' } });
    const checkpoint = async (turn: number) => {
      const result = await createCheckpoint(workspace, { dataDir, runId, turn });
      if (result.kind !== 'created') throw new Error(`checkpoint of turn ${turn} skipped: ${result.detail}`);
      const { kind: _kind, repoInfo: _repo, ...payload } = result;
      await ledger.append(runId, { type: 'checkpoint.created', payload });
    };
    fs.writeFileSync(path.join(workspace, 'README.md'), 'A workspace.\n');
    await checkpoint(0);
    for (let turn = 1; turn <= TURNS; turn++) {
      await ledger.append(runId, { type: 'prompt.sent', payload: { turn, text: `Task ${turn}: write ${filesOf(turn).join(' and ')}.`, ik: `ik:${turn}` } });
      for (const file of filesOf(turn)) fs.writeFileSync(path.join(workspace, file), `written in turn ${turn}\n`);
      const notes = Array.from({ length: NOTES }, (_, i) => ledger.append(runId, { type: 'note', payload: { text: `Turn ${turn}, note ${i + 1}.` } }, { durability: 'stream' }));
      await Promise.all(notes);
      await ledger.append(runId, { type: 'turn.ended', payload: { turn, stopReason: 'end_turn' } });
      await checkpoint(turn);
    }
  } finally {
    await ledger.close();
  }
  return runId;
}

/**
 * Forwards the page's socket to the server, except: `checkpoints.list` calls are answered with a
 * failure while `failListing` is on, and asks for an earlier page are held while `holdPages` is.
 */
async function routeSocket(page: Page) {
  const gate = { failListing: false, holdPages: false, held: [] as (() => void)[], listed: 0 };
  await page.routeWebSocket(/\/(ws|socket|rpc)?/, (socket: WebSocketRoute) => {
    const server = socket.connectToServer();
    socket.onMessage((message) => {
      const text = typeof message === 'string' ? message : message.toString('utf8');
      const call = JSON.parse(text) as { t: string; id: number; method?: string; input?: { itemsFrom?: number } };
      if (call.t === 'call' && call.method === 'checkpoints.list') {
        gate.listed++;
        if (gate.failListing) return socket.send(JSON.stringify({ t: 'result', id: call.id, ok: false, error: { code: 'internal', message: 'The checkpoint repository could not be read.' } }));
      }
      if (call.t === 'call' && call.method === 'run.viewWindow' && call.input?.itemsFrom !== undefined && gate.holdPages) return void gate.held.push(() => server.send(message));
      server.send(message);
    });
  });
  return {
    gate,
    release() {
      gate.holdPages = false;
      for (const send of gate.held.splice(0)) send();
    },
  };
}

test('a windowed run shows every checkpoint; choosing an unloaded one loads earlier items, then lists the exact files a restore puts back', async ({ page }) => {
  const scratch = tempDir('keel-e2e-cp-window-');
  const dataDir = path.join(scratch, 'data');
  const workspace = path.join(scratch, 'ws');
  fs.mkdirSync(workspace);
  const runId = await writeRunWithCheckpoints(dataDir, workspace);
  const own = await startKeel({ dataDir });
  try {
    const socket = await routeSocket(page);
    socket.gate.failListing = true;
    await page.setViewportSize({ width: 1280, height: 800 });
    await gotoConnected(page, own.url);
    await openRun(page, runId, { timeout: 60_000 });
    const transcript = page.getByTestId('transcript');
    await expect(transcript).not.toHaveAttribute('data-from', '0', { timeout: 60_000 });
    const from = Number(await transcript.getAttribute('data-from'));
    expect(from).toBeGreaterThan(2_000); // more than one page back

    // The listing fails: said in plain words; the loaded marks stay, and the "…" loads earlier items.
    const dots = page.getByTestId('checkpoint-dot');
    const failed = page.getByTestId('checkpoint-listing-failed');
    await expect(failed).toContainText("Could not list this run's earlier checkpoints: The checkpoint repository could not be read. The marks shown still work.");
    await expect(dots).toHaveText(['6', '7', '8']);
    await expect(page.getByTestId('checkpoint-earlier')).toBeVisible();
    await screenshotBoth(page, 'checkpoint-timeline-window-list-failed');

    // Asked again: every checkpoint has a mark, the baseline and turns 1 to 5 from the host's listing, 6 to 8 loaded.
    socket.gate.failListing = false;
    await page.getByTestId('checkpoint-listing-retry').click();
    await expect(failed).toHaveCount(0);
    await expect(dots).toHaveText(['B', ...Array.from({ length: TURNS }, (_, i) => String(i + 1))]);
    const loaded = await dots.evaluateAll((nodes) => nodes.map((node) => (node as HTMLElement).dataset.loaded));
    expect(loaded).toEqual(['false', 'false', 'false', 'false', 'false', 'false', 'true', 'true', 'true']);
    await expect(page.getByTestId('checkpoint-earlier')).toHaveCount(0);
    await expect(dots.nth(2)).toHaveAttribute('title', 'Checkpoint of turn 2: 2 files changed (+2 −0).');
    await dots.nth(2).hover();
    await screenshotBoth(page, 'checkpoint-timeline-window');

    // Turn 1's checkpoint is not loaded: earlier pages load until it is (shown as loading),
    // then the confirm box lists the files of turns 2 to 8.
    socket.gate.holdPages = true;
    await dots.nth(1).click();
    const preparing = page.getByTestId('checkpoint-restore-preparing');
    await expect(preparing).toHaveAttribute('data-state', 'loading');
    await expect(preparing).toContainText(`Loading earlier transcript items (${from.toLocaleString('en-US')} not loaded yet) to list the files a restore to turn 1 puts back…`);
    await expect.poll(() => socket.gate.held.length).toBe(1);
    await screenshotBoth(page, 'checkpoint-timeline-window-loading');
    socket.release();
    const confirm = page.getByTestId('checkpoint-restore-confirm');
    await expect(confirm).toBeVisible({ timeout: 60_000 });
    const expected = [...new Set(Array.from({ length: TURNS - 1 }, (_, i) => filesOf(i + 2)).flat())].sort();
    await expect(confirm.locator('li code')).toHaveText(expected);
    await expect(confirm).toContainText('These files go back, and any change made since the last checkpoint');
    await expect(page.getByTestId('checkpoint-restore-preparing')).toHaveCount(0);
    await expect(transcript).toHaveAttribute('data-from', '0');
    await expect(dots.nth(1)).toHaveAttribute('data-loaded', 'true');
    await screenshotBoth(page, 'checkpoint-timeline-window-confirm');
    // Asked twice in all (the failure, the retry): loading earlier items brings no new checkpoint, so no new ask.
    expect(socket.gate.listed).toBe(2);
  } finally {
    await own.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
