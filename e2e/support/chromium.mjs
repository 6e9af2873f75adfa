// Debian's Chromium and its flags (DESIGN §7): Playwright cannot download its own browsers
// here. Shared by playwright.config.ts and scripts/bench-ui.mjs.
export const chromiumPath = process.env.KEEL_CHROMIUM ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
