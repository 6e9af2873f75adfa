// Node scripts Keel starts with process.execPath (the built-in agent, the live exporter, the
// reliability harness's host) must run as Node inside Electron, where process.execPath is the
// app itself: otherwise each start is a second Keel instance (found in review of the live export).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeChildEnv } from '../src/runtime/index.js';

describe('nodeChildEnv', () => {
  it('adds ELECTRON_RUN_AS_NODE inside Electron and leaves a plain Node environment as it is', () => {
    const env = { PATH: '/usr/bin', KEEP: 'yes' };
    expect(nodeChildEnv(env, '41.0.0')).toEqual({ PATH: '/usr/bin', KEEP: 'yes', ELECTRON_RUN_AS_NODE: '1' });
    expect(nodeChildEnv(env, undefined)).toBe(env);
    expect(env).not.toHaveProperty('ELECTRON_RUN_AS_NODE');
  });

  it('the environment it gives starts a working Node child from this process', () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(typeof process.versions.node))'], { env: nodeChildEnv(), encoding: 'utf8' });
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('string');
  });
});
