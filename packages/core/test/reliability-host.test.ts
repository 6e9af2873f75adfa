// The reliability procedures and stream over the contract (a real Workstation, the in-memory
// transport): no scorecard at first, a harness run started through `reliability.run` streams its
// progress and lands as the latest scorecard; a run's reliability facts come from its ledger.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type HarnessProgress } from '../src/contract/index.js';
import { HarnessJobs, readScorecards } from '../src/reliability/index.js';
import { memoryTransport } from '../src/host/router.js';
import { openWorkstation, type Workstation } from '../src/host/workstation.js';
import { requireBuilt } from './fixtures/runtime-kit.js';
import { tempDir } from './helpers.js';

let workstation: Workstation | null = null;
afterEach(async () => {
  await workstation?.close();
  workstation = null;
});

describe('reliability over the contract', () => {
  it('overview is empty, then a run started by reliability.run streams progress and becomes the latest scorecard; a second start while it runs is refused', { timeout: 120_000 }, async () => {
    requireBuilt();
    workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
    const client = createClient(memoryTransport(workstation.router));
    expect(await client.invoke('reliability.overview', {})).toEqual({ latest: null, history: [], unreadable: [] });

    const seen: HarnessProgress[] = [];
    const finished = new Promise<HarnessProgress>((resolve) => {
      client.subscribe('reliability.progress', {}, {
        onEvent(event) {
          seen.push(event);
          if (event.kind === 'finished' || event.kind === 'failed') resolve(event);
        },
      });
    });
    const started = await client.invoke('reliability.run', { seed: 11, scenarios: ['torn-tail', 'mid-file-damage'] });
    expect(started).toEqual({ started: true, seed: 11 });
    expect(await client.invoke('reliability.run', {})).toMatchObject({ started: false });
    const end = await finished;
    expect(end).toMatchObject({ kind: 'finished', verdict: 'pass' });
    expect(seen[0]).toEqual({ kind: 'idle' });
    expect(seen.some((event) => event.kind === 'running' && event.scenario === 'mid-file-damage' && event.total === 2)).toBe(true);
    const overview = await client.invoke('reliability.overview', {});
    expect(overview.latest).toMatchObject({ seed: 11, verdict: 'pass' });
    expect(overview.history).toHaveLength(1);
    expect(overview.history[0]!.file).toBe((end as { file: string }).file);

    await expect(client.invoke('reliability.run', { scenarios: ['meteor-strike' as never] })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('reliability.runFacts answers from the run\'s ledger, and not_found for a run that does not exist', async () => {
    workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
    const client = createClient(memoryTransport(workstation.router));
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } });
    expect(await client.invoke('reliability.runFacts', { runId: run.id })).toMatchObject({ runId: run.id, restarts: 0, recoveries: [], recovery: null, duplicatedPrompts: 0 });
    await expect(client.invoke('reliability.runFacts', { runId: 'NOPE' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('closing the host stops a running harness at its next fault boundary, writes no scorecard, and starts nothing new', async () => {
    const dataDir = tempDir();
    const jobs = new HarnessJobs(dataDir);
    const ended = new Promise<HarnessProgress>((resolve) => {
      jobs.subscribe((progress) => {
        if (progress.kind === 'failed' || progress.kind === 'finished') resolve(progress);
        // Close as soon as the first fault is done: the next boundary stops it.
        if (progress.kind === 'running' && progress.done === 1) jobs.close();
      });
    });
    expect(jobs.start({ profile: 'quick', seed: 3, scenarios: ['torn-tail', 'mid-file-damage'] }).started).toBe(true);
    expect(await ended).toEqual({ kind: 'failed', message: 'The host closed while the harness ran.' });
    expect(jobs.start({ profile: 'quick' }).started).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'reliability'))).toBe(false);
  });

  it('closing the host after a scenario finished keeps a scorecard of that scenario, marked incomplete', { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    const jobs = new HarnessJobs(dataDir);
    const ended = new Promise<HarnessProgress>((resolve) => {
      jobs.subscribe((progress) => {
        if (progress.kind === 'failed' || progress.kind === 'finished') resolve(progress);
        // The second scenario has begun: the first one's scorecard was written before it.
        if (progress.kind === 'running' && progress.index === 1) jobs.close();
      });
    });
    expect(jobs.start({ profile: 'quick', seed: 5, scenarios: ['torn-tail', 'mid-file-damage'] }).started).toBe(true);
    expect(await ended).toEqual({ kind: 'failed', message: 'The host closed while the harness ran.' });
    const overview = readScorecards(path.join(dataDir, 'reliability'));
    expect(overview.unreadable).toEqual([]);
    expect(overview.history).toHaveLength(1);
    expect(overview.history[0]).toMatchObject({ seed: 5, incomplete: true });
    expect(overview.latest).toMatchObject({ incomplete: { scenariosDone: 1, scenariosPlanned: 2 } });
    expect(overview.latest!.scenarios.map((scenario) => [scenario.name, scenario.verdict])).toEqual([['torn-tail', 'passed']]);
  });
});
