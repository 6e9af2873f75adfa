// The New run dialog's workspace check: ~ expanded, a missing folder and a file said in plain
// words, a plain folder offered git init (real git), and runs.create taking `~/proj`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../src/contract/index.js';
import { memoryTransport } from '../src/host/router.js';
import { openWorkstation, type Workstation } from '../src/host/workstation.js';
import { checkWorkspace, expandWorkspacePath } from '../src/host/workspace-procedures.js';
import { tempDir } from './helpers.js';

const opened: Workstation[] = [];
afterEach(async () => {
  for (const workstation of opened.splice(0)) await workstation.close();
});

describe('workspace check', () => {
  const home = fs.realpathSync(tempDir());

  it('expands ~ and ~/x to the home folder', () => {
    expect(expandWorkspacePath('~', home)).toBe(home);
    expect(expandWorkspacePath(' ~/proj ', home)).toBe(path.join(home, 'proj'));
    expect(expandWorkspacePath('/abs/x', home)).toBe('/abs/x');
  });

  it('says what is wrong in plain words: empty, missing, a file; a plain folder can be made a repository', () => {
    expect(checkWorkspace('  ', home)).toMatchObject({ status: 'empty', problem: expect.stringContaining('Type the folder') });
    expect(checkWorkspace('~/nope', home)).toMatchObject({ status: 'missing', problem: `There is no folder at ${path.join(home, 'nope')}. Check the path, or create the folder first.` });
    fs.writeFileSync(path.join(home, 'file.txt'), 'x');
    expect(checkWorkspace('~/file.txt', home)).toMatchObject({ status: 'not_a_folder', problem: expect.stringContaining('is a file, not a folder') });
    fs.mkdirSync(path.join(home, 'plain'));
    expect(checkWorkspace('~/plain', home)).toMatchObject({ status: 'not_git', canInit: true, problem: expect.stringContaining('is not a git repository') });
    fs.mkdirSync(path.join(home, 'repo', '.git'), { recursive: true });
    fs.writeFileSync(path.join(home, 'repo', '.git', 'HEAD'), 'ref: refs/heads/main\n');
    fs.mkdirSync(path.join(home, 'repo', 'sub'));
    expect(checkWorkspace('~/repo/sub', home)).toMatchObject({ status: 'git', problem: null, resolved: path.join(home, 'repo', 'sub') });
  });

  it('workspace.init runs git init in a plain folder; runs.create takes a ~ path and refuses a missing one in plain words', async () => {
    const workstation = await openWorkstation({ dataDir: tempDir(), mode: 'headless', heartbeatMs: 60_000 });
    opened.push(workstation);
    const client = createClient(memoryTransport(workstation.router));
    const plain = fs.realpathSync(fs.mkdtempSync(path.join(os.homedir(), '.keel-test-ws-')));
    try {
      const made = await client.invoke('workspace.init', { path: plain });
      expect(made.status).toBe('git');
      expect(fs.existsSync(path.join(plain, '.git', 'HEAD'))).toBe(true);
      const tilde = `~/${path.basename(plain)}`;
      const run = await client.invoke('runs.create', { workspace: tilde, agent: { kind: 'builtin', script: 'hello' } });
      expect(run.workspace).toBe(plain);
      await expect(client.invoke('runs.create', { workspace: '~/definitely-not-here-keel', agent: { kind: 'builtin' } })).rejects.toMatchObject({
        code: 'invalid_input',
        message: `There is no folder at ${path.join(os.homedir(), 'definitely-not-here-keel')}. Check the path, or create the folder first.`,
      });
    } finally {
      fs.rmSync(plain, { recursive: true, force: true });
    }
  });
});
