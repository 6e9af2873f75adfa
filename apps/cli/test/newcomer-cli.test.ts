// The CLI as a newcomer meets it (issue 15): a command line printed as it really ran (quoted),
// `keel info` working read-only (exit 0) while `keel serve` holds the data directory, and
// `keel open --print` printing the server's stable URL.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';
import { commandLine } from '../src/commands/run-printer.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

beforeAll(requireBuilt);
afterAll(removeTempDirs);

describe('printing a command line', () => {
  it('quotes argv as a shell would need it, so what is printed is what ran', () => {
    expect(commandLine('sh', ['-c', 'cat hello.txt && echo tests passed'])).toBe("sh -c 'cat hello.txt && echo tests passed'");
    expect(commandLine('git', ['commit', '-m', "it's done"])).toBe("git commit -m 'it'\\''s done'");
    expect(commandLine('ls', ['-la', ''])).toBe("ls -la ''");
  });
});

describe('read-only commands while the server runs', () => {
  it('keel info exits 0 and says the server is running; keel open --print prints its URL; without a server both say how to start it', async () => {
    const data = tempDir('keel-cli-info-');
    const server = spawn(process.execPath, [path.join(repoRoot, 'apps/cli/bin/keel.js'), 'serve', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (chunk) => {
          out += chunk;
          const match = /Keel is listening on (\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        server.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const info = await runKeel(['info', '--data', data]);
      expect(info.code).toBe(0);
      expect(info.stdout).toContain(`server: running at ${new URL(url).origin}/`);
      expect(info.stdout).toMatch(/engine: ok/);
      const open = await runKeel(['open', '--print', '--data', data]);
      expect(open.code).toBe(0);
      expect(open.stdout.trim()).toBe(url);
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    const stopped = await runKeel(['open', '--print', '--data', data]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('Keel is not running at that address. Start it with `keel serve`');
    const info = await runKeel(['info', '--data', data]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('server: not running (`keel serve` starts it)');
  }, 180_000);
});
