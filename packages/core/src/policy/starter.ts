import fs from 'node:fs';
import path from 'node:path';
import { WORKSPACE_POLICY_FILE } from './load.js';

/** The commented starter `.keel/policy.yaml` written by `keel policy init`. It validates as is. */
export const STARTER_POLICY = `# Keel policy (policy-as-code), versioned with this project.
#
# Keel decides every dangerous action an agent asks for — a command, a write, a read outside the
# workspace, a network connection, a dependency change, a git push — from three layers: Keel's
# built-in defaults, your <data>/policy.yaml, and this file. Among all rules of all layers that
# match an action, the strictest decision wins (deny > ask > allow); an action no rule matches
# takes its kind's default. Check this file with \`keel policy validate\`, and try a command with
# \`keel policy explain --command "npm test && git push --force"\`.
schema_version: 1

# Per action kind, the decision when no rule matches (each key overrides the layers before).
defaults:
  exec: ask
  write_inside: allow        # the real path (symlinks resolved) is inside the workspace
  write_outside: deny
  read_outside: ask
  network: ask
  deps: ask
  push: ask
  unattended_ask: deny       # what \`ask\` becomes when nobody can answer (headless runs)

rules:
  # Exec patterns are words; a word may hold * globs; a final lone * matches any remaining
  # arguments. An allow rule matches a program only by its bare name found on PATH (never
  # ./npm or /tmp/npm); deny and ask rules match the program's name wherever it lives.
  - id: checks
    exec: ["npm test *", "npm run test *", "npm run lint *", "git status *", "git diff *", "git log *"]
    decision: allow
    why: Tests and read-only git are safe in this project.
    match: ["npm test -- --runInBand", "git status --short"]   # checked when the policy loads
    not_match: ["npm install", "git push"]

  - id: no-force-push
    push: { force: true }      # -f, --force, --force-with-lease, +refspec, --mirror, --delete
    decision: deny
    why: History on shared branches is never rewritten.
    match: ["git push --force origin main"]

  # Paths are gitignore-style globs relative to the workspace ("/..." absolute, "~/..." home).
  # - id: sources
  #   write: ["src/**", "test/**"]
  #   decision: allow

  # - id: registry
  #   network: ["registry.npmjs.org"]
  #   decision: allow

# Dependency changes (npm|pnpm|yarn add/install X, pip install X, cargo add X, ...):
# strict (none) | allowlist (the packages below) | open (any).
deps:
  mode: allowlist
  allow: []                  # e.g. ["zod", "@types/*"]
`;

/**
 * Writes the starter policy to `<workspace>/.keel/policy.yaml`, never over an existing file:
 * the text goes to a temp file that is then hard-linked into place (which fails if the target
 * exists) — atomic, and no window where a half-written policy is read. Returns the path.
 */
export function writeStarterPolicy(workspace: string): string {
  const target = path.join(workspace, WORKSPACE_POLICY_FILE);
  if (fs.existsSync(target)) throw new Error(`${target} already exists; Keel does not overwrite a policy.`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = path.join(path.dirname(target), `.policy.yaml.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(temp, 'wx', 0o644);
  try {
    fs.writeFileSync(fd, STARTER_POLICY);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(temp, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${target} already exists; Keel does not overwrite a policy.`);
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  const dir = fs.openSync(path.dirname(target), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
  return target;
}
