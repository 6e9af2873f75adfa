// Agents of runs left idle are stopped (expected: no restart), and the next prompt starts the
// agent again through the normal resume path; a run with an open turn is left alone.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type LedgerEvent } from '../src/contract/index.js';
import { memoryTransport } from '../src/host/router.js';
import { openWorkstation, type Workstation } from '../src/host/workstation.js';
import { IdleStopper } from '../src/runs/idle-stop.js';
import { processAlive } from './fixtures/runtime-kit.js';
import { tempDir } from './helpers.js';

const opened: Workstation[] = [];
afterEach(async () => {
  for (const workstation of opened.splice(0)) await workstation.close();
});

const types = (events: LedgerEvent[]) => events.map((event) => event.type);

describe('idle stop', () => {
  it('stops an idle agent (expected exit, no restart, list time kept); the next prompt resumes the session on a new process', async () => {
    const workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
    opened.push(workstation);
    const client = createClient(memoryTransport(workstation.router));
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } });
    const { turn } = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    const controller = workstation.runs.get(run.id);
    await controller.waitForTurn(turn);
    await controller.waitForState((state) => state === 'idle');
    const pid = controller.agentPid!;
    const before = workstation.ledger.run(run.id)!.updated;

    let idleMs = 0;
    const stopper = new IdleStopper(workstation.runs, { idleMs: () => idleMs, checkEveryMs: 3_600_000 });
    try {
      expect(await stopper.check()).toEqual([]); // 0 = never
      idleMs = 60_000;
      expect(await stopper.check()).toEqual([]); // not idle long enough
      idleMs = 1;
      expect(await stopper.check()).toEqual([run.id]);
    } finally {
      stopper.close();
    }
    expect(processAlive(pid)).toBe(false);
    const events = workstation.runs.events(run.id);
    const exited = events.filter((event) => event.type === 'runtime.exited');
    expect(exited.map((event) => (event.payload as { expected: boolean }).expected)).toEqual([true]);
    expect(types(events)).not.toContain('runtime.restarting');
    expect(workstation.ledger.run(run.id)!.updated).toBe(before);

    const next = await client.invoke('run.prompt', { runId: run.id, text: 'Again' });
    expect(await controller.waitForTurn(next.turn)).toBe('end_turn');
    const bound = workstation.runs.events(run.id).filter((event) => event.type === 'session.bound').at(-1)!;
    expect(bound.payload).toMatchObject({ generation: 2 });
    expect(['restored', 'replayed']).toContain((bound.payload as { outcome: string }).outcome);
  });
});
