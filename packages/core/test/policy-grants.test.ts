// A grant (an allowed request) covers the command that follows only when it is the same
// command: the same words, compared as words, in the same directory. `rm -rf build` allowed at
// the workspace root says nothing about `rm -rf build` in another folder, and `echo "a b"` is
// not `echo a b`. Real runs of the built-in agent, real files removed or kept, the real ledger.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { covers } from '../src/runs/approval-waiters.js';
import { createRun, ofType, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';

useRuntimeSuite();

function script(steps: unknown[]): string {
  const file = path.join(tempDir('keel-grants-script-'), 'grants.json');
  fs.writeFileSync(file, JSON.stringify({ name: 'grants', description: 'a grant and the commands after it', turns: [{ steps }] }));
  return file;
}

/** A workspace with `build/` at its root and in `sub/`. */
function workspace(): string {
  const dir = tempDir('keel-grants-ws-');
  for (const where of ['build', 'sub/build']) {
    fs.mkdirSync(path.join(dir, where), { recursive: true });
    fs.writeFileSync(path.join(dir, where, 'out.o'), 'x');
  }
  return dir;
}

describe('a grant covers only the same command in the same directory', () => {
  it('rm -rf build allowed at the root is asked again in sub/ (denied there, kept), and runs at the root without a second ask', async () => {
    const ws = workspace();
    const harness = await createRun({
      workspace: ws,
      script: script([
        { permission: { kind: 'execute', title: 'Clean the build', command: 'rm', args: ['-rf', 'build'] } },
        { run: { command: 'rm', args: ['-rf', 'build'], cwd: 'sub' } },
        { run: { command: 'rm', args: ['-rf', 'build'] } },
        { message: 'done' },
      ]),
    });
    const { turn, request } = await harness.promptToFirstApproval('clean');
    await harness.controller.decide(request.payload.approvalId, 'allow_once');
    const second = await harness.waitForType('approval.requested', (event) => event.payload.approvalId !== request.payload.approvalId);
    expect(second.payload.action).toMatchObject({ kind: 'exec', command: 'rm', args: ['-rf', 'build'], cwd: fs.realpathSync(path.join(ws, 'sub')) });
    await harness.controller.decide(second.payload.approvalId, 'deny');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    expect(ofType(harness.events(), 'approval.requested')).toHaveLength(2);
    expect(fs.existsSync(path.join(ws, 'sub', 'build', 'out.o'))).toBe(true);
    expect(fs.existsSync(path.join(ws, 'build'))).toBe(false);
    expect(ofType(harness.events(), 'terminal.started').map((event) => event.payload.cwd)).toEqual([fs.realpathSync(ws)]);
    await harness.close();
  });

  it('touch "a b" allowed does not cover touch a b (asked again; denied, no file made)', async () => {
    const harness = await createRun({
      script: script([
        { permission: { kind: 'execute', title: 'Make one file', command: 'touch', args: ['a b'] } },
        { run: { command: 'touch', args: ['a', 'b'] } },
        { message: 'done' },
      ]),
    });
    const { turn, request } = await harness.promptToFirstApproval('make');
    await harness.controller.decide(request.payload.approvalId, 'allow_once');
    const second = await harness.waitForType('approval.requested', (event) => event.payload.approvalId !== request.payload.approvalId);
    expect(second.payload.action).toMatchObject({ command: 'touch', args: ['a', 'b'] });
    await harness.controller.decide(second.payload.approvalId, 'deny');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    expect(ofType(harness.events(), 'terminal.started')).toEqual([]);
    expect(fs.existsSync(path.join(harness.workspace, 'a'))).toBe(false);
    expect(fs.existsSync(path.join(harness.workspace, 'b'))).toBe(false);
    await harness.close();
  });
});

describe('covers (the comparison itself)', () => {
  const exec = (command: string, args: string[] | undefined, cwd: string | undefined) => ({ kind: 'exec' as const, title: command, command, ...(args ? { args } : {}), ...(cwd ? { cwd } : {}) });

  it('compares words as an array, and the directory as a real path', () => {
    const dir = tempDir('keel-covers-');
    fs.mkdirSync(path.join(dir, 'real'));
    fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
    expect(covers(exec('echo', ['a b'], dir), exec('echo', ['a', 'b'], dir))).toBe(false);
    expect(covers(exec('echo', ['a', 'b'], dir), exec('echo', ['a', 'b'], dir))).toBe(true);
    expect(covers(exec('echo', ['a'], dir), exec('echo', ['a', ''], dir))).toBe(false);
    expect(covers(exec('rm', ['-rf', 'build'], dir), exec('rm', ['-rf', 'build'], path.join(dir, 'real')))).toBe(false);
    expect(covers(exec('rm', ['-rf', 'build'], path.join(dir, 'link')), exec('rm', ['-rf', 'build'], path.join(dir, 'real')))).toBe(true);
    expect(covers(exec('rm', ['-rf', 'build'], undefined), exec('rm', ['-rf', 'build'], dir))).toBe(false);
  });

  it('a granted command line covers the argv that quotes back to exactly it', () => {
    const dir = tempDir('keel-covers-');
    expect(covers(exec("echo 'a b'", undefined, dir), exec('echo', ['a b'], dir))).toBe(true);
    expect(covers(exec('echo a b', undefined, dir), exec('echo', ['a b'], dir))).toBe(false);
    expect(covers(exec('echo a b', undefined, dir), exec('echo', ['a', 'b'], dir))).toBe(true);
    expect(covers(exec('echo', ['a', 'b'], dir), exec('echo a b', undefined, dir))).toBe(false);
  });
});
