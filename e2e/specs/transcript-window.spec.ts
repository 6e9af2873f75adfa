// Issue 16, item 3: a long run opens on a window of its transcript (the newest 2,000 items,
// `run.viewWindow`), against the real headless server (`keel serve`) over a generated
// 100,000-event run written through the ledger. Scrolling to the top loads earlier pages with
// the row in view staying where it was; search loads them too and says so. Every wait is on a
// UI state; the page-size asks are held at the page's WebSocket (Playwright's routeWebSocket)
// so the "loading" states can be looked at and screenshotted, light and dark.
import fs from 'node:fs';
import { fold } from '@keel/core';
import type { TranscriptItem } from '@keel/core/contract';
import { expect, test, type Page, type WebSocketRoute } from '@playwright/test';
import { findMatches } from '../../apps/renderer/src/components/conversation/search/search-index.js';
import { gotoConnected, keelOverGeneratedRun, openRun, screenshotBoth } from '../support/keel-page.js';
import { readLedger } from '../support/ledger-file.mjs';

test.setTimeout(300_000);

/** The seq a row shows as data-seq (a streamed text item: its first). */
const seqOf = (item: TranscriptItem): number => ('seq' in item ? item.seq : item.firstSeq);

/** Forwards the page's socket to the server, holding `run.viewWindow` asks for an earlier page while `hold` is on. */
async function holdEarlierPages(page: Page) {
  const gate = { hold: false, held: [] as (() => void)[], asked: 0 };
  await page.routeWebSocket(/\/(ws|socket|rpc)?/, (socket: WebSocketRoute) => {
    const server = socket.connectToServer();
    socket.onMessage((message) => {
      const text = typeof message === 'string' ? message : message.toString('utf8');
      const earlierPage = text.includes('"run.viewWindow"') && text.includes('"itemsFrom"');
      if (earlierPage) gate.asked++;
      if (earlierPage && gate.hold) gate.held.push(() => server.send(message));
      else server.send(message);
    });
  });
  return {
    gate,
    release() {
      for (const send of gate.held.splice(0)) send();
    },
  };
}

/** Resolves once the rows have kept their places for three frames (rows are measured as they render; a screenshot waits for that). */
const rowsSettled = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const layout = () =>
          Array.from(document.querySelectorAll<HTMLElement>('[data-testid="transcript-item"]'))
            .map((row) => `${row.dataset.index}:${row.style.transform}:${row.offsetHeight}`)
            .join('|');
        let last = layout();
        let still = 0;
        const check = () => {
          const now = layout();
          still = now === last ? still + 1 : 0;
          last = now;
          if (still >= 3) resolve();
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }),
  );

/** The first row wholly inside the transcript's viewport: its index in the whole run and its top, relative to the viewport. */
const firstRowInView = (page: Page) =>
  page.evaluate(() => {
    const scroller = document.querySelector('[data-testid="transcript"]')!;
    const box = scroller.getBoundingClientRect();
    const row = Array.from(scroller.querySelectorAll<HTMLElement>('[data-testid="transcript-item"]'))
      .map((element) => ({ index: Number(element.dataset.index), top: element.getBoundingClientRect().top - box.top, bottom: element.getBoundingClientRect().bottom - box.top }))
      .filter((entry) => entry.top >= 0 && entry.bottom <= box.height)
      .sort((a, b) => a.top - b.top)[0]!;
    return row;
  });

const rowTop = (page: Page, index: number) =>
  page.evaluate((wanted) => {
    const scroller = document.querySelector('[data-testid="transcript"]')!;
    const row = scroller.querySelector<HTMLElement>(`[data-testid="transcript-item"][data-index="${wanted}"]`);
    return row ? row.getBoundingClientRect().top - scroller.getBoundingClientRect().top : null;
  }, index);

test('a 100,000-event run opens on its newest 2,000 items; scrolling to the top loads the earlier ones in place, search loads them too', async ({ page }) => {
  const { own, generated, scratch, dataDir } = await keelOverGeneratedRun('keel-e2e-window-', 100_000);
  try {
    const whole = fold(readLedger(dataDir, generated.runId), generated.runId);
    const items = whole.items.length;
    expect(items).toBeGreaterThan(4_000); // two earlier pages
    const from = items - 2_000;
    const socket = await holdEarlierPages(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    await gotoConnected(page, own.url);
    await openRun(page, generated.runId, { timeout: 60_000 });

    // Opened at the bottom, on the window: the count is the whole run's, the first loaded item is `from`.
    const transcript = page.getByTestId('transcript');
    await expect(transcript).toHaveAttribute('data-from', String(from), { timeout: 60_000 });
    await expect(transcript).toHaveAttribute('data-count', String(items));
    const last = page.locator(`[data-testid="transcript-item"][data-index="${items - 1}"]`);
    await expect(last).toBeInViewport();
    await expect(last).toHaveAttribute('data-seq', String(seqOf(whole.items[items - 1]!)));
    expect(socket.gate.asked).toBe(0);

    // To the top (once the opening scroll to the end is done): the line says how many earlier items there are, loading.
    await rowsSettled(page);
    socket.gate.hold = true;
    await transcript.evaluate((element) => (element.scrollTop = 0));
    const line = page.getByTestId('transcript-earlier');
    await expect(line).toHaveAttribute('data-state', 'loading');
    await expect(line).toHaveText(`${from.toLocaleString('en-US')} earlier items — loading…`);
    await expect(line).toBeInViewport();
    await expect.poll(() => socket.gate.held.length).toBe(1);
    await rowsSettled(page);
    await screenshotBoth(page, 'transcript-window-loading');

    // The page arrives above: the row in view stays where it was.
    const anchor = await firstRowInView(page);
    expect(anchor.index).toBe(from);
    socket.release();
    await expect(transcript).toHaveAttribute('data-from', String(from - 2_000));
    await expect.poll(() => rowTop(page, anchor.index)).toBeCloseTo(anchor.top, -1);
    await expect(line).toHaveAttribute('data-state', 'idle');
    await expect(line).not.toBeInViewport();

    // Up again, to the first item: the last page, then no line.
    socket.gate.hold = false;
    await transcript.evaluate((element) => (element.scrollTop = 0));
    await expect(transcript).toHaveAttribute('data-from', '0');
    await expect(line).toHaveCount(0);
    await transcript.evaluate((element) => (element.scrollTop = 0));
    const first = page.locator('[data-testid="transcript-item"][data-index="0"]');
    await expect(first).toBeInViewport();
    // In order and once each: the rows at the top are the fold's first items.
    const top = await page.locator('[data-testid="transcript-item"]').evaluateAll((rows) =>
      rows.map((row) => [Number((row as HTMLElement).dataset.index), (row as HTMLElement).dataset.kind, Number((row as HTMLElement).dataset.seq)]),
    );
    const sorted = [...top].sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(sorted.length).toBeGreaterThan(3);
    expect(sorted.map(([index]) => index)).toEqual(sorted.map((_, i) => i));
    expect(sorted).toEqual(sorted.map(([index]) => [index, whole.items[index as number]!.kind, seqOf(whole.items[index as number]!)]));
    expect(socket.gate.asked).toBe(2);
    await rowsSettled(page);
    await screenshotBoth(page, 'transcript-window-top');

    // Search on a fresh window: the earlier items load to be searched too, and the bar says so.
    await page.reload();
    await openRun(page, generated.runId, { timeout: 60_000 });
    await expect(transcript).toHaveAttribute('data-from', String(from), { timeout: 60_000 });
    socket.gate.hold = true;
    await page.keyboard.press('Control+f');
    await page.getByTestId('transcript-search-input').fill('tests');
    const note = page.getByTestId('transcript-search-earlier');
    await expect(note).toHaveText(`Loading ${from.toLocaleString('en-US')} earlier items to search them too…`);
    await expect.poll(() => socket.gate.held.length).toBe(1);
    await rowsSettled(page);
    await screenshotBoth(page, 'transcript-window-search');
    // Closing the search stops the loading: the page asked for arrives, no other is asked for.
    await page.keyboard.press('Escape');
    const asked = socket.gate.asked;
    socket.release();
    await expect(transcript).toHaveAttribute('data-from', String(from - 2_000));
    await page.getByTestId('composer-input').click();
    expect(socket.gate.asked).toBe(asked);
    // Opened again, it goes on to the first item and counts every match in the run.
    socket.gate.hold = false;
    await page.keyboard.press('Control+f');
    await expect(transcript).toHaveAttribute('data-from', '0');
    await expect(note).toHaveCount(0);
    const matches = findMatches(whole.items, 'tests');
    expect(matches.total).toBeGreaterThan(0);
    await expect(page.getByTestId('transcript-search-count')).toHaveText(new RegExp(` of ${matches.total.toLocaleString('en-US')}$`));
  } finally {
    await own.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
