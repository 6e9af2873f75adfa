// `keel run` and `keel runs` end to end: the real CLI process, the real built-in agent, a real
// data dir; exit codes come from the stop-reason registry.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION, SNAPSHOT_EVERY, STOP_REASONS, type RunSummary } from '@keel/core';
import { jsonLines, ofType, removeTempDirs, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';

let data: string;
const workspaces: Record<string, string> = {};
const runIds: Record<string, string> = {};

beforeAll(() => {
  requireBuilt();
  data = tempDir('keel-cli-data-');
});
afterAll(removeTempDirs);

const workspace = (name: string) => (workspaces[name] = fs.realpathSync(tempDir(`keel-cli-ws-${name}-`)));
const runIdOf = (stdout: string) => /^run (\S+): /m.exec(stdout)?.[1];

describe('keel run', () => {
  it('--script edit-and-test --approve all: exits 0 and hello.txt exists', async () => {
    const ws = workspace('edit');
    const result = await runKeel(['run', '--data', data, '--workspace', ws, '--script', 'edit-and-test', '--approve', 'all']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(ws, 'hello.txt'), 'utf8')).toBe("Hello from Keel's built-in agent.\n");
    expect(result.stdout).toContain('turn 1 ended: end_turn');
    expect(result.stdout).toContain('tests passed');
    runIds.edit = runIdOf(result.stdout)!;
    expect(runIds.edit).toBeDefined();
  });

  it('--json prints one JSON ledger event per line: the run in order, each line identical to the ledger\'s record', async () => {
    const ws = workspace('json');
    const result = await runKeel(['run', '--data', data, '--workspace', ws, '--script', 'hello', '--json']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter((line) => line.length > 0);
    const events = jsonLines(result.stdout);
    expect(events).toHaveLength(lines.length);
    const runId = events[0]!.run_id;
    runIds.json = runId;
    expect(events.every((event) => event.run_id === runId)).toBe(true);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]!.type).toBe('run.created');
    expect(ofType(events, 'turn.ended').map((event) => event.payload.stopReason)).toEqual(['end_turn']);
    const ledger = await openLedger({ dataDir: data, readOnly: true });
    try {
      // Everything through the end of the turn; what the closing host records after that may follow.
      expect(ledger.read(runId, { limit: 10_000 }).slice(0, events.length)).toEqual(events);
      expect(events.findIndex((event) => event.type === 'turn.ended')).toBeGreaterThan(0);
    } finally {
      await ledger.close();
    }
  });

  it('--script fault-crash --approve all: the agent dies mid-turn, Keel restarts it and continues; exits 0', async () => {
    const ws = workspace('crash');
    const result = await runKeel(['run', '--data', data, '--workspace', ws, '--script', 'fault-crash', '--approve', 'all', '--json']);
    expect(result.code).toBe(0);
    const events = jsonLines(result.stdout);
    runIds.crash = events[0]!.run_id;
    const deaths = ofType(events, 'runtime.exited').filter((event) => !event.payload.expected);
    expect(deaths.map((event) => [event.payload.generation, event.payload.code])).toEqual([[1, 17]]);
    expect(ofType(events, 'runtime.restarting').map((event) => event.payload.nextGeneration)).toEqual([2]);
    expect(ofType(events, 'session.bound').map((event) => event.payload.outcome)).toEqual(['new', 'replayed']);
    expect(ofType(events, 'turn.ended').map((event) => event.payload.stopReason)).toEqual(['agent_restarted', 'end_turn']);
    expect(ofType(events, 'prompt.sent').map((event) => event.payload.text)).toEqual(['Run your script.', 'Continue where you stopped.']);
    expect(fs.existsSync(path.join(ws, 'hello.txt'))).toBe(true);
  });

  it('--approve none with edit-and-test: the write is denied (the policy\'s unattended_ask), the agent stops, exits 0, no file', async () => {
    const ws = workspace('none');
    const result = await runKeel(['run', '--data', data, '--workspace', ws, '--script', 'edit-and-test', '--approve', 'none', '--json']);
    expect(result.code).toBe(0);
    const events = jsonLines(result.stdout);
    runIds.none = events[0]!.run_id;
    // Nobody can answer: the built-in policy's ask for a write becomes its unattended_ask (deny), with no approval card.
    expect(ofType(events, 'policy.decided').map((event) => [event.payload.action.kind, event.payload.decision, event.payload.unattended])).toEqual([['write', 'deny', true]]);
    expect(ofType(events, 'approval.requested')).toEqual([]);
    expect(ofType(events, 'fs.written')).toEqual([]);
    expect(ofType(events, 'turn.ended').map((event) => event.payload.stopReason)).toEqual(['end_turn']);
    expect(fs.existsSync(path.join(ws, 'hello.txt'))).toBe(false);
  });

  it('--agent acp with a command that does not exist exits with agent_unavailable\'s code', async () => {
    const ws = workspace('missing');
    const result = await runKeel(['run', '--data', data, '--workspace', ws, '--agent', 'acp', '--agent-cmd', 'nonexistent-xyz']);
    expect(result.code).toBe(STOP_REASONS.agent_unavailable.exitCode);
    expect(result.stdout).toContain('agent_unavailable');
    runIds.missing = runIdOf(result.stdout)!;
  });
});

describe('keel run and keel ledger import leave a long run\'s view snapshot (issue 16)', () => {
  it('a run of more than SNAPSHOT_EVERY events is snapshotted at its last seq before the command exits; a short run is not; an import of it is too', async () => {
    const dataDir = tempDir('keel-cli-long-');
    const ws = workspace('long');
    const script = path.join(tempDir('keel-cli-script-'), 'long.json');
    fs.writeFileSync(script, JSON.stringify({ name: 'long', description: 'streams past a snapshot', turns: [{ steps: [{ stream: { count: SNAPSHOT_EVERY + 100 } }, { message: 'done' }] }] }));
    const long = await runKeel(['run', '--data', dataDir, '--workspace', ws, '--script', script], { guardMs: 120_000 });
    expect(long.code).toBe(0);
    const hello = await runKeel(['run', '--data', dataDir, '--workspace', ws, '--script', 'hello']);
    expect(hello.code).toBe(0);
    const [longId, helloId] = [runIdOf(long.stdout)!, runIdOf(hello.stdout)!];
    const out = path.join(tempDir('keel-cli-export-'), 'long.ndjson');
    expect((await runKeel(['ledger', 'export', '--run', longId, '--out', out, '--data', dataDir])).code).toBe(0);
    const importedInto = tempDir('keel-cli-imported-');
    expect((await runKeel(['ledger', 'import', out, '--data', importedInto], { guardMs: 120_000 })).code).toBe(0);
    for (const [dir, runId, snapshotted] of [[dataDir, longId, true], [dataDir, helloId, false], [importedInto, longId, true]] as const) {
      const ledger = await openLedger({ dataDir: dir });
      try {
        const lastSeq = ledger.run(runId)!.lastSeq;
        expect(ledger.snapshots.seqs(runId, RUN_VIEW_FOLD, RUN_VIEW_FOLD_VERSION)).toEqual(snapshotted ? [lastSeq] : []);
        if (snapshotted) expect(lastSeq).toBeGreaterThan(SNAPSHOT_EVERY);
      } finally {
        await ledger.close();
      }
    }
  });
});

describe('keel runs --json', () => {
  it('lists every run with its agent, workspace, state and stop reason', async () => {
    const result = await runKeel(['runs', '--data', data, '--json']);
    expect(result.code).toBe(0);
    const runs = JSON.parse(result.stdout) as RunSummary[];
    const byId = new Map(runs.map((run) => [run.id, run]));
    expect(runs).toHaveLength(Object.keys(runIds).length);
    expect(byId.get(runIds.edit!)).toMatchObject({
      agent: { kind: 'builtin', script: 'edit-and-test' },
      workspace: workspaces.edit,
      state: expect.any(String),
      stopReason: expect.any(String),
      quarantined: false,
    });
    // (What state a cleanly finished run lists with is the next test's subject.)
    expect(byId.get(runIds.crash!)).toMatchObject({ agent: { kind: 'builtin', script: 'fault-crash' }, workspace: workspaces.crash });
    expect(byId.get(runIds.none!)).toMatchObject({ workspace: workspaces.none });
    expect(byId.get(runIds.missing!)).toMatchObject({
      agent: { kind: 'acp', command: ['nonexistent-xyz'] },
      workspace: workspaces.missing,
      state: 'stopped',
      stopReason: 'agent_unavailable',
    });
    for (const run of runs) expect(Object.keys(run)).toEqual(expect.arrayContaining(['id', 'agent', 'workspace', 'state', 'stopReason']));
  });

  it('a run that `keel run` finished and closed cleanly is not reported as interrupted by the next start', async () => {
    // `keel runs` above was the next start after every `keel run` of this file.
    const ledger = await openLedger({ dataDir: data, readOnly: true });
    try {
      const events = ledger.read(runIds.edit!, { limit: 10_000 });
      const summary = ledger.run(runIds.edit!)!;
      const started = ofType(events, 'runtime.started').map((event) => event.payload.generation);
      const exited = ofType(events, 'runtime.exited').map((event) => event.payload.generation);
      expect({
        state: summary.state,
        stopReason: summary.stopReason,
        recovered: ofType(events, 'run.recovered').map((event) => event.payload.reason),
        generationsWithoutExit: started.filter((generation) => !exited.includes(generation)),
      }).toEqual({ state: expect.not.stringMatching(/^interrupted$/), stopReason: 'end_turn', recovered: [], generationsWithoutExit: [] });
    } finally {
      await ledger.close();
    }
  });
});
