import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './support/chromium.mjs';

export { chromiumPath };

export default defineConfig({
  testDir: './specs',
  outputDir: './test-results',
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'artifacts/playwright-report.json' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: chromiumPath,
      args: chromiumArgs,
    },
  },
});
