// The structured app log (issue 14): JSON lines in <data>/logs/keel.log, secrets in known fields
// never written, rotated by size, and picked up by the diagnostics bundle's app-log sources.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appLog, appLogDir, closeAppLog, openAppLog } from '../src/logging/index.js';
import { tempDir } from './helpers.js';

afterEach(() => closeAppLog());

/** Resolves once `file` exists and `accept` holds for its text (the stream writes asynchronously). */
async function waitForFile(file: string, accept: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (accept(text)) return text;
    if (Date.now() > deadline) throw new Error(`${file} never held the expected text; it holds:\n${text.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('app log', () => {
  it('writes JSON lines with level, time and message, never the value of a secret field', async () => {
    const dataDir = tempDir();
    openAppLog(dataDir);
    appLog().info({ runId: 'r1', password: 'hunter2-secret', request: { token: 'tok-123456' } }, 'started a run');
    const file = path.join(appLogDir(dataDir), 'keel.log');
    const text = await waitForFile(file, (content) => content.includes('started a run'));
    const line = JSON.parse(text.trim().split('\n').pop()!);
    expect(line).toMatchObject({ level: 30, msg: 'started a run', runId: 'r1', password: '[REDACTED]', request: { token: '[REDACTED]' } });
    expect(typeof line.time).toBe('string');
    expect(text).not.toContain('hunter2-secret');
    expect(text).not.toContain('tok-123456');
    expect(fs.statSync(file).mode & 0o077).toBe(0);
  });

  it('rotates by size into keel.log.1, keeping the current file small', async () => {
    const dataDir = tempDir();
    openAppLog(dataDir, { size: '1K', maxFiles: 3 });
    for (let i = 0; i < 60; i++) appLog().info({ i }, `line ${i} ${'x'.repeat(40)}`);
    const rotated = path.join(appLogDir(dataDir), 'keel.log.1');
    await waitForFile(rotated, (content) => content.includes('"msg":"line'));
    // The current file restarts after each rotation (it may not exist until the next line).
    expect(fs.statSync(path.join(appLogDir(dataDir), 'keel.log'), { throwIfNoEntry: false })?.size ?? 0).toBeLessThan(4096);
    expect(fs.statSync(rotated).size).toBeGreaterThanOrEqual(1024);
  });
});
