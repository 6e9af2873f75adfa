// "Always allow this" writes only the workspace's own `.keel/policy.yaml`: a `.keel` (or a
// `policy.yaml`) that is a symlink — which a repository or an agent can plant — is refused, at
// the proposal and again right before the write, and nothing outside the workspace changes.
// Real files, the real engine.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRuleProposal, BUILTIN_POLICY, combineLayers, loadShellParser, proposeRule } from '../src/policy/index.js';
import { tempDir } from './helpers.js';

const policy = combineLayers([{ name: 'builtin', file: null, policy: BUILTIN_POLICY }]);
const make = { kind: 'exec' as const, title: 'Run make', command: 'make', args: ['check'] };
const USERS = 'schema_version: 1\n# the user\'s own policy\n';

describe('rule proposals stay inside the workspace', () => {
  it('a .keel that is a symlink to a directory outside (the user\'s data dir) is refused, and that directory is untouched', async () => {
    await loadShellParser();
    const ws = fs.realpathSync(tempDir('keel-ws-'));
    const outside = fs.realpathSync(tempDir('keel-data-'));
    fs.writeFileSync(path.join(outside, 'policy.yaml'), USERS);
    fs.symlinkSync(outside, path.join(ws, '.keel'));
    await expect(proposeRule(policy, make, { workspace: ws })).rejects.toThrow(/\.keel is a symlink; Keel writes a rule only into a plain \.keel\/policy\.yaml inside the workspace/);
    expect(fs.readFileSync(path.join(outside, 'policy.yaml'), 'utf8')).toBe(USERS);
    expect(fs.readdirSync(outside)).toEqual(['policy.yaml']);
  });

  it('a .keel/policy.yaml that is a symlink is refused', async () => {
    await loadShellParser();
    const ws = fs.realpathSync(tempDir('keel-ws-'));
    const outside = path.join(fs.realpathSync(tempDir('keel-data-')), 'policy.yaml');
    fs.writeFileSync(outside, USERS);
    fs.mkdirSync(path.join(ws, '.keel'));
    fs.symlinkSync(outside, path.join(ws, '.keel', 'policy.yaml'));
    await expect(proposeRule(policy, make, { workspace: ws })).rejects.toThrow(/policy\.yaml is a symlink/);
    expect(fs.readFileSync(outside, 'utf8')).toBe(USERS);
  });

  it('a .keel swapped for a symlink after the proposal is refused at the write', async () => {
    await loadShellParser();
    const ws = fs.realpathSync(tempDir('keel-ws-'));
    const outside = fs.realpathSync(tempDir('keel-data-'));
    const proposal = await proposeRule(policy, make, { workspace: ws });
    expect(proposal).toMatchObject({ valid: true, before: null, file: path.join(ws, '.keel', 'policy.yaml') });
    fs.symlinkSync(outside, path.join(ws, '.keel'));
    expect(() => applyRuleProposal(proposal)).toThrow(/\.keel is a symlink/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('control: a plain workspace gets the rule written into its own .keel/policy.yaml', async () => {
    await loadShellParser();
    const ws = fs.realpathSync(tempDir('keel-ws-'));
    const proposal = await proposeRule(policy, make, { workspace: ws });
    applyRuleProposal(proposal);
    expect(fs.readFileSync(path.join(ws, '.keel', 'policy.yaml'), 'utf8')).toBe(proposal.text);
    expect(fs.lstatSync(path.join(ws, '.keel')).isDirectory()).toBe(true);
  });
});
