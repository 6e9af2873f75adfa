#!/usr/bin/env node
// `npm run hooks:install`: installs `npm run prepush` as this repository's git pre-push hook.
// Idempotent (running it again rewrites only its own hook), removable (`--remove` deletes only
// its own hook), and it never overwrites a hook it did not write: such a hook is left alone and
// the command exits 1 saying so.
//
//   node scripts/hooks-install.mjs [--remove] [--repo DIR]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MARKER = '# keel-prepush-hook: written by scripts/hooks-install.mjs';

const args = process.argv.slice(2);
const remove = args.includes('--remove');
const repoFlag = args.indexOf('--repo');
const repo = repoFlag >= 0 ? path.resolve(args[repoFlag + 1] ?? '.') : fileURLToPath(new URL('..', import.meta.url));

const fail = (message) => {
  process.stderr.write(`hooks:install: ${message}\n`);
  process.exit(1);
};

const found = spawnSync('git', ['rev-parse', '--git-path', 'hooks'], { cwd: repo, encoding: 'utf8' });
if (found.status !== 0) fail(`${repo} is not a git repository (git rev-parse: ${found.stderr.trim()}).`);
const hooksDir = path.resolve(repo, found.stdout.trim());
const hook = path.join(hooksDir, 'pre-push');

const body = `#!/bin/sh
${MARKER}
# Remove with: npm run hooks:install -- --remove
cd "$(git rev-parse --show-toplevel)" || exit 1
exec npm run --silent prepush
`;

const existing = fs.existsSync(hook) ? fs.readFileSync(hook, 'utf8') : null;
const ours = existing !== null && existing.includes(MARKER);

if (remove) {
  if (existing === null) {
    process.stdout.write(`No pre-push hook at ${hook}: nothing to remove.\n`);
  } else if (!ours) {
    fail(`${hook} was not written by Keel's hooks:install; left as it is.`);
  } else {
    fs.rmSync(hook);
    process.stdout.write(`Removed ${hook}.\n`);
  }
  process.exit(0);
}

if (existing !== null && !ours) fail(`${hook} already exists and was not written by Keel's hooks:install; left as it is. Remove it or call \`npm run prepush\` from it yourself.`);
if (existing === body) {
  process.stdout.write(`${hook} is already installed.\n`);
  process.exit(0);
}
fs.mkdirSync(hooksDir, { recursive: true });
const temp = `${hook}.tmp-${process.pid}`;
fs.writeFileSync(temp, body, { mode: 0o755 });
fs.renameSync(temp, hook);
process.stdout.write(`${existing === null ? 'Installed' : 'Updated'} ${hook}: \`git push\` now runs \`npm run prepush\` first.\n`);
