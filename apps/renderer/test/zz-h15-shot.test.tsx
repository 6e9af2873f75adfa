// @vitest-environment jsdom
// TEMPORARY (helper 15): screenshots of run rows with usage; deleted after use.
import { emptyRunUsage } from '@keel/core/contract';
import { renderToStaticMarkup } from 'react-dom/server';
import fs from 'node:fs';
import { it } from 'vitest';
import { RunRow } from '../src/components/runs/list/RunRow.js';
import { ShowChangesButton } from '../src/components/changes/ShowChangesButton.js';
import { runSummary } from './helpers.js';
import { ClientProvider } from '../src/lib/client-context.js';

it('shots', async () => {
  const { chromium } = await import('playwright');
  const now = Date.parse('2025-01-01T00:05:00.000Z');
  const runs = [
    runSummary('run-a', { title: 'Fix login', state: 'idle', usage: { ...emptyRunUsage(), tokens: { input: 12_000, output: 345, total: 12_345 }, cost: [{ amount: 0.42, currency: 'USD' }], costBySession: {}, toolCalls: 3, durationMs: 45_000 } }),
    runSummary('run-b', { title: 'Write docs', state: 'running', usage: { ...emptyRunUsage(), toolCalls: 1, durationMs: 2_500, turnSince: '2025-01-01T00:04:40.000Z' } }),
    runSummary('run-c', { title: null, state: 'created' }),
  ];
  const client = { invoke: async () => ({}), subscribe: () => () => {} } as never;
  const html = renderToStaticMarkup(
    <ClientProvider connection={{ client, mode: 'socket', reconnectNow: () => {}, checkToken: async () => 'valid' }}>
      <div className="run-list-column" style={{ width: 300, padding: 8 }}>
        <ul className="run-list">{runs.map((run, i) => <RunRow key={run.id} run={run} selected={i === 0} now={now} onSelect={() => {}} />)}</ul>
        <div className="run-header-top"><ShowChangesButton /></div>
      </div>
    </ClientProvider>,
  );
  const css = fs.readFileSync('apps/renderer/src/styles.css', 'utf8') + fs.readFileSync('apps/renderer/src/conversation.css', 'utf8');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  for (const theme of ['light', 'dark']) {
    const page = await browser.newPage({ viewport: { width: 340, height: 360 } });
    await page.setContent(`<!doctype html><html data-theme="${theme}"><head><style>${css}</style></head><body>${html}</body></html>`);
    await page.screenshot({ path: `/tmp/h15/shots/run-rows-${theme}.png` });
    await page.close();
  }
  await browser.close();
}, 60_000);
