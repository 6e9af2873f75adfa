// Untitled runs get a title from their first prompt (recorded as run.renamed by first_prompt);
// a person renames a run (by user); the run list (projection) and the view fold both show it; a
// title given at creation is kept.
import { describe, expect, it } from 'vitest';
import { titleFromPrompt } from '../src/contract/index.js';
import type { Workstation } from '../src/host/workstation.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { tempDir } from './helpers.js';

const { start } = useWorkstations();

function renamed(workstation: Workstation, runId: string): Promise<string> {
  return new Promise((resolve) => {
    const stop = workstation.ledger.onCommit((event) => {
      if (event.run_id === runId && event.type === 'run.renamed') {
        stop();
        resolve((event.payload as { title: string }).title);
      }
    });
  });
}

describe('run titles', () => {
  it('the first line of the first prompt, cut at 60 characters', () => {
    expect(titleFromPrompt('  Fix the login bug\nand add a test')).toBe('Fix the login bug');
    expect(titleFromPrompt('x'.repeat(80))).toBe(`${'x'.repeat(59)}…`);
  });

  it('an untitled run is titled from its first prompt; a rename wins; list and view agree', async () => {
    const { workstation, client } = await start();
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } });
    expect(run.title).toBeNull();
    const titled = renamed(workstation, run.id);
    await client.invoke('run.prompt', { runId: run.id, text: 'Say hello to the team\nplease' });
    expect(await titled).toBe('Say hello to the team');
    expect(workstation.ledger.run(run.id)?.title).toBe('Say hello to the team');
    await client.invoke('run.rename', { runId: run.id, title: '  Greeting  ' });
    expect(workstation.ledger.run(run.id)?.title).toBe('Greeting');
    expect((await client.invoke('run.view', { runId: run.id })).title).toBe('Greeting');
    await expect(client.invoke('run.rename', { runId: run.id, title: '   ' })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('a title given at creation is not replaced by the first prompt', async () => {
    const { workstation, client } = await start();
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' }, title: 'Mine' });
    const { turn } = await client.invoke('run.prompt', { runId: run.id, text: 'Say hello' });
    await workstation.runs.get(run.id).waitForTurn(turn);
    expect(workstation.runs.events(run.id).some((event) => event.type === 'run.renamed')).toBe(false);
    expect(workstation.ledger.run(run.id)?.title).toBe('Mine');
  });
});
