// kill -9 of the HOST (I4): `keel run` dies mid-turn, its agent's process group outlives it;
// the next start (`keel runs`) reconciles the run by itself — recovery event, interrupted turn,
// orphan killed — and the next prompt resumes the run on a new generation.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, readRunEvents, RunManager, type LedgerEvent, type RunSummary } from '@keel/core';
import {
  FAST_RESTART,
  fromGenerationAfter,
  jsonLines,
  keelBin,
  ofType,
  processAlive,
  removeTempDirs,
  repoRoot,
  requireBuilt,
  runKeel,
  tempDir,
  waitForEvent,
} from '../../../packages/core/test/fixtures/runtime-kit.js';
import { lineLog } from '../../../packages/core/test/fixtures/ledger-kit.js';

beforeAll(requireBuilt);

/** Whether `pid` dies within `ms` (checked every 10 ms): a bounded check for an absence. */
async function diesWithin(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!processAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return !processAlive(pid);
}

/** Resolves once `dir/name` parses to JSON `accept` likes (checked now, then on every change in `dir`). */
function sessionFileShows(dir: string, name: string, accept: (session: Record<string, unknown>) => boolean): Promise<void> {
  const matches = () => {
    try {
      return accept(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Record<string, unknown>);
    } catch {
      return false; // not there yet
    }
  };
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(dir, () => {
      if (!matches()) return;
      clearTimeout(guard);
      watcher.close();
      resolve();
    });
    const guard = setTimeout(() => {
      watcher.close();
      reject(new Error(`${path.join(dir, name)} never matched`));
    }, 20_000);
    if (matches()) {
      clearTimeout(guard);
      watcher.close();
      resolve();
    }
  });
}
afterAll(removeTempDirs);

const GREETING =
  'Hello! I am Keel\'s built-in agent. I follow a script, need no network and no key, and I am here for demos, tests and fault injection.';

describe('kill -9 of the host', () => {
  it('mid-turn: the next start records run.recovered, ends the turn host_interrupted, marks the run interrupted, kills the orphaned agent; the next prompt resumes it', async () => {
    const data = tempDir('keel-cli-crash-data-');
    const ws = fs.realpathSync(tempDir('keel-cli-crash-ws-'));
    // hello streams its greeting at step 3, then hangs before step 4 (once per session): the
    // host is mid-turn, and the agent neither exits nor writes when its host disappears.
    const host = spawn(process.execPath, [keelBin, 'run', '--data', data, '--workspace', ws, '--script', 'hello', '--fault', 'hang-at-step=4', '--json'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    host.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const hostExit = new Promise<NodeJS.Signals | null>((resolve) => host.once('exit', (_code, signal) => resolve(signal)));

    // Wait (on the host's own event stream) until the whole greeting is committed.
    const stdout = lineLog(host.stdout, () => `stderr:\n${stderr}`);
    const greeted = (lines: readonly string[]) =>
      jsonLines(lines.join('\n'))
        .filter((event) => event.type === 'message.chunk')
        .map((event) => (event.payload as { text: string }).text)
        .join('') === GREETING;
    await stdout.until(greeted, 'the host to stream the greeting', 20_000);
    const seen: LedgerEvent[] = jsonLines(stdout.lines.join('\n'));
    const runId = seen[0]!.run_id;
    const started = ofType(seen, 'runtime.started')[0]!;
    const agentPid = started.payload.pid;
    const sessionId = ofType(seen, 'session.bound')[0]!.payload.sessionId!;
    // The agent records a once-per-session fault in its session file just before the fault
    // acts: once the file says so, it is hung (and will not notice its host going away).
    await sessionFileShows(path.join(data, 'runs', runId, 'builtin-agent'), `${sessionId}.json`, (session) =>
      (session.firedFaults as string[]).includes('hang-at-step=4'),
    );
    expect(started.payload.hostPid).toBe(host.pid);
    expect(ofType(seen, 'turn.ended')).toEqual([]);

    host.kill('SIGKILL');
    expect(await hostExit).toBe('SIGKILL');
    // The agent runs in its own process group: the host's death does not take it along, and
    // a hung agent stays (the one timer of this file: a bounded check that a death does NOT come).
    expect(await diesWithin(agentPid, 300)).toBe(false);

    // The next start.
    const listed = await runKeel(['runs', '--data', data, '--json']);
    expect(listed.code).toBe(0);
    const run = (JSON.parse(listed.stdout) as RunSummary[]).find((summary) => summary.id === runId);
    expect(run).toMatchObject({ state: 'interrupted', stopReason: 'host_interrupted', workspace: ws });
    expect(processAlive(agentPid)).toBe(false);

    const ledger = await openLedger({ dataDir: data });
    const manager = await RunManager.open({ ledger, dataDir: data, tuning: { restart: FAST_RESTART } });
    try {
      const events = readRunEvents(ledger, runId);
      const recovered = ofType(events, 'run.recovered');
      expect(recovered.map((event) => event.payload)).toEqual([{ reason: 'host_interrupted', previousState: 'running', hostPid: host.pid }]);
      const ended = ofType(events, 'turn.ended');
      expect(ended.map((event) => event.payload)).toEqual([{ turn: 1, stopReason: 'host_interrupted' }]);
      expect(ended[0]!.seq).toBeGreaterThan(recovered[0]!.seq);
      expect(ofType(events, 'run.state').at(-1)!.payload).toMatchObject({ state: 'interrupted', stopReason: 'host_interrupted' });
      // Reconciled once: this second start found nothing left to do.
      expect(ledger.run(runId)!.lastSeq).toBe(events.at(-1)!.seq);

      // The next prompt resumes the run: generation 2, session replayed, the turn completes.
      const controller = manager.get(runId);
      const mark = events.at(-1)!.seq;
      const { turn } = await controller.prompt('Continue where you stopped');
      expect(turn).toBe(2);
      expect(await controller.waitForTurn(turn)).toBe('end_turn');
      const bound = await waitForEvent(ledger, runId, (event) => event.type === 'session.bound', { after: mark });
      expect(bound.payload).toMatchObject({ generation: 2, outcome: 'replayed', remapped: false });
      const after = readRunEvents(ledger, runId);
      expect(ofType(after, 'runtime.started').map((event) => event.payload.generation)).toEqual([1, 2]);
      expect(ofType(after, 'message.chunk').filter((event) => event.seq > mark).map((event) => event.payload.text).join('')).toContain(
        'Resuming where I stopped (step 4).',
      );
      expect(fromGenerationAfter(after, 1, mark)).toEqual([]);
      expect(ledger.verify().ok).toBe(true);
    } finally {
      await manager.close();
      await ledger.close();
    }
  });
});
