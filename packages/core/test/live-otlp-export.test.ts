// The live OTLP exporter (issue 17, the opt-in setting): with `liveOtlpExport` on, the host runs
// the exporter in its own process, which follows the ledger read-only and sends each turn's spans
// to a real loopback collector as the turn closes; killed -9 it is started again and resumes from
// its position (nothing sent twice); off, its process is gone; with no endpoint it says so in
// plain words and the app keeps working. Waits on the collector and the ledger, never on sleeps.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { traceIdOf } from '../src/sinks/index.js';
import { startOtlpReceiver, type OtlpReceiver } from './fixtures/otlp-receiver.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { Changes, fileChanges, waitUntil } from './fixtures/wait-kit.js';
import { requireBuilt } from './fixtures/runtime-kit.js';
import { tempDir } from './helpers.js';
import type { LiveExportStatus } from '../src/contract/index.js';
import type { Workstation } from '../src/host/workstation.js';
import { LIVE_EXPORT_STATUS_EVERY_MS } from '../src/host/live-export-status.js';

const { start } = useWorkstations();
let receiver: OtlpReceiver | null = null;
afterEach(async () => {
  await receiver?.close();
  receiver = null;
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

/** The live exporter child of this data directory, found by its command line. */
function exporterPids(dataDir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv.some((arg) => arg.endsWith('live-main.js')) && argv.includes(dataDir);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(alive);
}

/** Resolves once the exporter's status holds `check` (re-checked on every status change). */
const statusUntil = (workstation: Workstation, check: (status: LiveExportStatus) => boolean, what: string) =>
  waitUntil(() => check(workstation.liveExport.current()), 60_000, what, (onChange) => workstation.liveExport.onStatus(onChange));

/** The export position of `runId` (the last seq the collector acknowledged), from the position file. */
function exportedThrough(dataDir: string, runId: string): number {
  const dir = path.join(dataDir, 'sinks');
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!/^otlp-.*\.json$/.test(name)) continue;
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { runs: Record<string, number> }).runs[runId] ?? 0;
    } catch {
      return 0; // being replaced
    }
  }
  return 0;
}

function configure(dataDir: string, endpoint: string) {
  fs.mkdirSync(path.join(dataDir, 'sinks'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'sinks', 'settings.json'), JSON.stringify({ schema_version: 1, otlp: { endpoint } }));
}

describe('the live OTLP exporter setting', () => {
  it('sends each turn as it closes, survives kill -9 of its process without sending a span twice, and stops when switched off', { timeout: 120_000 }, async () => {
    requireBuilt();
    receiver = await startOtlpReceiver();
    const dataDir = tempDir();
    configure(dataDir, receiver.url);
    const { workstation, client } = await start({ dataDir });
    expect(await client.invoke('sinks.liveExport', {})).toMatchObject({ state: 'off', spansSent: 0 });

    const view = await client.invoke('settings.update', { patch: { liveOtlpExport: true } });
    expect(view.settings.liveOtlpExport).toBe(true);
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } });
    const trace = traceIdOf(run.id);
    const turnSpans = () => receiver!.received.filter((span) => span.traceId === trace && span.attributes['keel.turn'] !== undefined);

    const first = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    await workstation.runs.get(run.id).waitForTurn(first.turn);
    await receiver.until(() => turnSpans().some((span) => span.attributes['keel.turn'] === first.turn), 'turn 1 span at the collector');
    await statusUntil(workstation, (status) => status.spansSent > 0, 'the status to count the sent spans');
    const running = await client.invoke('sinks.liveExport', {});
    expect(running).toMatchObject({ state: 'running', endpoint: receiver.url, problem: null, restarts: 0 });

    // kill -9 of the exporter once everything of turn 1 (its checkpoint included) is acknowledged
    // and its position recorded: the host starts it again, and it resumes from that position.
    const checkpointed = () => workstation.ledger.read(run.id, { fromSeq: 1, limit: 10_000 }).some((event) => event.type.startsWith('checkpoint.') && (event.payload as { turn?: number }).turn === first.turn);
    await waitUntil(
      () => checkpointed() && exportedThrough(dataDir, run.id) === workstation.ledger.run(run.id)!.lastSeq,
      60_000,
      'turn 1 exported through its last seq',
      fileChanges(path.join(dataDir, 'sinks', 'position')),
    );
    const [pid] = exporterPids(dataDir);
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await statusUntil(workstation, (status) => status.restarts === 1 && status.state === 'running', 'the exporter to be restarted');
    const second = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello again' });
    await workstation.runs.get(run.id).waitForTurn(second.turn);
    await receiver.until(() => turnSpans().some((span) => span.attributes['keel.turn'] === second.turn), 'turn 2 span after the restart');
    const ids = receiver.received.map((span) => span.spanId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(await client.invoke('sinks.liveExport', {})).toMatchObject({ state: 'running', restarts: 1 });

    // Off and on again at once: the new exporter starts as soon as the old one has stopped (not a crash).
    const before = exporterPids(dataDir);
    await Promise.all([client.invoke('settings.update', { patch: { liveOtlpExport: false } }), client.invoke('settings.update', { patch: { liveOtlpExport: true } })]);
    await statusUntil(workstation, (status) => status.state === 'running' && exporterPids(dataDir).some((p) => !before.includes(p)), 'a new exporter after off-and-on');
    expect(workstation.liveExport.current().restarts).toBe(1);

    // Off: the process is gone and the status says so.
    await client.invoke('settings.update', { patch: { liveOtlpExport: false } });
    expect(await client.invoke('sinks.liveExport', {})).toMatchObject({ state: 'off' });
    expect(exporterPids(dataDir)).toEqual([]);
  });

  it('with no collector configured it says how to configure one, runs go on, and switched off it says only that', { timeout: 60_000 }, async () => {
    requireBuilt();
    const dataDir = tempDir();
    const { workstation, client } = await start({ dataDir });
    const saved = { ...process.env };
    for (const key of Object.keys(process.env)) if (key.startsWith('OTEL_EXPORTER_OTLP')) delete process.env[key];
    // What the Settings dialog hears: the status first, then its changes, at most one per window, the last one the current status.
    const heard: Array<{ status: LiveExportStatus; at: number }> = [];
    const hearing = new Changes();
    const stopHearing = client.subscribe('sinks.liveExportStatus', {}, {
      onEvent: (status) => {
        heard.push({ status, at: performance.now() });
        hearing.notify();
      },
    });
    try {
      await waitUntil(() => heard.length > 0, 10_000, 'the status as it stands', hearing.subscribe);
      expect(heard[0]!.status).toMatchObject({ state: 'off', spansSent: 0 });
      await client.invoke('settings.update', { patch: { liveOtlpExport: true } });
      // A configuration problem is said once and not retried in a loop: the child exits and stays down.
      await statusUntil(workstation, (status) => status.state === 'failed' && (status.problem ?? '').includes('switch the live export off and on'), 'the exporter to report its problem');
      await waitUntil(() => JSON.stringify(heard.at(-1)!.status) === JSON.stringify(workstation.liveExport.current()), 10_000, 'the stream to say the final status', hearing.subscribe);
      for (let i = 1; i < heard.length; i++) expect(heard[i]!.at - heard[i - 1]!.at).toBeGreaterThanOrEqual(LIVE_EXPORT_STATUS_EVERY_MS - 5);
      expect(await client.invoke('sinks.liveExport', {})).toMatchObject({ state: 'failed', restarts: 0, problem: expect.stringContaining('No OTLP endpoint') });
      expect(exporterPids(dataDir)).toEqual([]);
      const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } });
      const turn = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
      expect(await workstation.runs.get(run.id).waitForTurn(turn.turn)).toBe('end_turn');
      // Switched off, the problem (and its "switch off and on") is no longer said.
      await client.invoke('settings.update', { patch: { liveOtlpExport: false } });
      expect(await client.invoke('sinks.liveExport', {})).toMatchObject({ state: 'off', problem: null });
      await waitUntil(() => heard.at(-1)!.status.state === 'off', 10_000, 'the stream to say it is off', hearing.subscribe);
      expect(heard.at(-1)!.status.problem).toBeNull();
    } finally {
      stopHearing();
      process.env = saved;
    }
  });
});
