// After an auto-resumable stop (the agent died mid-turn and was restarted), the run continues by
// itself: a note says so, then "Continue where you stopped." goes through the normal prompt path
// and the turn finishes. Off in the settings, the run waits for a person, as before. Settings
// are stored atomically with their schema_version; bad values are refused in plain words.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type LedgerEvent } from '../src/contract/index.js';
import { memoryTransport } from '../src/host/router.js';
import { openWorkstation, type Workstation } from '../src/host/workstation.js';
import { CONTINUE_PROMPT } from '../src/runs/auto-resume.js';
import { tempDir } from './helpers.js';

const opened: Workstation[] = [];
afterEach(async () => {
  for (const workstation of opened.splice(0)) await workstation.close();
});

async function start(dataDir = tempDir()) {
  const workstation = await openWorkstation({ dataDir, mode: 'headless', heartbeatMs: 60_000, runtime: { restart: { baseMs: 10, capMs: 50, maxAttempts: 3 } } });
  opened.push(workstation);
  return { workstation, client: createClient(memoryTransport(workstation.router)), dataDir };
}

/** Resolves with the run's events once `done` accepts them (checked after every commit of the run). */
function until(workstation: Workstation, runId: string, done: (events: LedgerEvent[]) => boolean, timeoutMs = 30_000): Promise<LedgerEvent[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const events = workstation.runs.events(runId);
      if (!done(events)) return false;
      stop();
      clearTimeout(timer);
      resolve(events);
      return true;
    };
    const stop = workstation.ledger.onCommit((event) => {
      if (event.run_id === runId) setTimeout(check, 0);
    });
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out; events: ${workstation.runs.events(runId).map((e) => e.type).join(', ')}`));
    }, timeoutMs);
    check();
  });
}

const ended = (events: LedgerEvent[]) => events.filter((e) => e.type === 'turn.ended').map((e) => (e.payload as { stopReason: string }).stopReason);
const prompts = (events: LedgerEvent[]) => events.filter((e) => e.type === 'prompt.sent').map((e) => (e.payload as { text: string }).text);

describe('auto-resume', () => {
  it('a turn cut by an agent crash continues by itself, says so, and finishes', async () => {
    const { workstation, client } = await start();
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello', faults: ['exit-at-step=3'] } });
    await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    const events = await until(workstation, run.id, (all) => ended(all).includes('end_turn'));
    expect(ended(events)).toEqual(['agent_restarted', 'end_turn']);
    expect(prompts(events)).toEqual(['Say hello', CONTINUE_PROMPT]);
    const note = events.find((e) => e.type === 'note' && (e.payload as { text: string }).text.startsWith('Keel continued the run by itself'));
    expect((note?.payload as { text: string }).text).toBe('Keel continued the run by itself after agent_restarted (1 of 3 in a row; turn this off in Settings).');
    expect(note!.seq).toBeLessThan(events.findLast((e) => e.type === 'prompt.sent')!.seq);
  });

  it('with auto-resume off, the run waits for a person after the same crash', async () => {
    const { workstation, client } = await start();
    await client.invoke('settings.update', { patch: { autoResume: false } });
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello', faults: ['exit-at-step=3'] } });
    await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    await until(workstation, run.id, (all) => all.some((e) => e.type === 'run.state' && (e.payload as { state: string }).state === 'idle' && ended(all).length === 1));
    // Give a would-be auto-resume every chance: a later prompt of ours is the next one recorded.
    await client.invoke('run.prompt', { runId: run.id, text: 'Go on' });
    const events = await until(workstation, run.id, (all) => ended(all).length === 2);
    expect(prompts(events)).toEqual(['Say hello', 'Go on']);
  });
});

describe('settings', () => {
  it('are the defaults without a file, stored atomically with schema_version, and survive a restart', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const view = await first.client.invoke('settings.get', {});
    expect(view.settings).toMatchObject({ schema_version: 1, autoResume: true, autoResumeLimit: 3, idleStopMinutes: 30, theme: 'system' });
    expect(view.dataDir).toBe(dataDir);
    await first.client.invoke('settings.update', { patch: { theme: 'dark', idleStopMinutes: 5 } });
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8'));
    expect(stored).toMatchObject({ schema_version: 1, theme: 'dark', idleStopMinutes: 5 });
    await first.workstation.close();
    opened.splice(opened.indexOf(first.workstation), 1);
    const second = await start(dataDir);
    expect((await second.client.invoke('settings.get', {})).settings).toMatchObject({ theme: 'dark', idleStopMinutes: 5 });
  });

  it('refuses a bad value in plain words, and a damaged file is kept aside, not lost', async () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'settings.json'), '{ broken');
    const { client } = await start(dataDir);
    expect(fs.readFileSync(path.join(dataDir, 'settings.json.broken'), 'utf8')).toBe('{ broken');
    expect((await client.invoke('settings.get', {})).settings.autoResume).toBe(true);
    await expect(client.invoke('settings.update', { patch: { idleStopMinutes: -1 } as never })).rejects.toMatchObject({ code: 'invalid_input' });
  });
});
