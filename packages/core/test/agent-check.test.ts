// Issue 15 point 5: a custom agent is checked when a run is created (on PATH, answers the ACP
// `initialize` handshake in time), with the problem in plain words; a run's agent can be changed.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAgent } from '../src/runs/index.js';
import { resolveAgentCommand } from '../src/runtime/index.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { tempDir } from './helpers.js';

const { start } = useWorkstations();

/** The built-in agent's real command line, used as a custom ACP command: a real ACP agent. */
const realAcpCommand = (script = 'hello') => resolveAgentCommand({ kind: 'builtin', script }, { runDir: tempDir() });

describe('checking an agent before use', () => {
  it('a real ACP agent passes: it is found and answers initialize', async () => {
    const check = await checkAgent({ kind: 'acp', command: realAcpCommand() }, tempDir());
    expect(check).toEqual({ ok: true, path: process.execPath });
  });

  it('a program that is not on PATH is named in plain words', async () => {
    const check = await checkAgent({ kind: 'acp', command: ['keel-no-such-agent-xyz', '--acp'] }, tempDir());
    expect(check).toEqual({ ok: false, problem: '“keel-no-such-agent-xyz” was not found on PATH. Install it, or type its full path.' });
    expect(await checkAgent({ kind: 'acp', command: ['/nowhere/agent'] }, tempDir())).toEqual({ ok: false, problem: 'There is no program at /nowhere/agent.' });
    expect(await checkAgent({ kind: 'acp', command: [] }, tempDir())).toMatchObject({ ok: false, problem: expect.stringContaining('empty') });
  });

  it('a program that never answers fails after the timeout, and is killed', async () => {
    const started = Date.now();
    const check = await checkAgent({ kind: 'acp', command: ['sh', '-c', 'sleep 30'] }, tempDir(), 400);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(check).toMatchObject({ ok: false, problem: expect.stringContaining('did not answer the ACP handshake (initialize) within') });
  });

  it('a program that exits, or answers with something not ACP, says so', async () => {
    expect(await checkAgent({ kind: 'acp', command: ['sh', '-c', 'echo broken >&2; exit 3'] }, tempDir())).toEqual({
      ok: false,
      problem: 'It exited (code 3) before answering the ACP handshake: broken',
    });
    expect(await checkAgent({ kind: 'acp', command: ['sh', '-c', 'echo hello; sleep 5'] }, tempDir())).toMatchObject({ ok: false, problem: expect.stringContaining('not ACP') });
    // `cat` echoes the request back: a request is not an answer.
    expect(await checkAgent({ kind: 'acp', command: ['cat'] }, tempDir(), 2_000)).toMatchObject({ ok: false, problem: expect.stringContaining('refused the ACP handshake') });
  });
});

describe('runs.create and run.setAgent', () => {
  it('runs.create refuses a custom agent that fails the check, before any run exists', async () => {
    const { workstation, client } = await start();
    await expect(client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'acp', command: ['keel-no-such-agent-xyz'] } })).rejects.toMatchObject({
      code: 'invalid_input',
      message: 'The agent cannot be used: “keel-no-such-agent-xyz” was not found on PATH. Install it, or type its full path.',
    });
    expect(workstation.ledger.runs()).toHaveLength(0);
  });

  it('the agent of an existing run is changed: recorded, listed, and the next turn runs on it', async () => {
    const { workstation, client } = await start();
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } });
    const first = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    await workstation.runs.get(run.id).waitForTurn(first.turn);

    // A broken agent is refused and nothing is recorded.
    await expect(client.invoke('run.setAgent', { runId: run.id, agent: { kind: 'acp', command: ['sh', '-c', 'exit 1'] } })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(workstation.runs.events(run.id).some((event) => event.type === 'run.agent_changed')).toBe(false);

    const command = realAcpCommand();
    await client.invoke('run.setAgent', { runId: run.id, agent: { kind: 'acp', command } });
    const changed = workstation.runs.events(run.id).find((event) => event.type === 'run.agent_changed');
    expect(changed?.payload).toEqual({ agent: { kind: 'acp', command }, previous: { kind: 'builtin', script: 'hello' } });
    expect(workstation.ledger.run(run.id)?.agent).toEqual({ kind: 'acp', command });
    expect((await client.invoke('run.view', { runId: run.id })).agent).toEqual({ kind: 'acp', command });

    const second = await client.invoke('run.prompt', { runId: run.id, text: 'Again' });
    expect(await workstation.runs.get(run.id).waitForTurn(second.turn)).toBe('end_turn');
    const started = workstation.runs.events(run.id).filter((event) => event.type === 'runtime.started');
    expect((started.at(-1)!.payload as { command: string[] }).command).toEqual(command);
    expect(path.basename(command[0]!)).toBe(path.basename(process.execPath));
  });
});
