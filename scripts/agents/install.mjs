#!/usr/bin/env node
// Installs the pinned real agents (Codex, Claude Code via ACP) into a cache folder outside the
// project's dependencies, for `npm run test:agents`. Idempotent: skips when the pinned versions
// are already there. Cache: `KEEL_AGENTS_CACHE` or `<repo>/.cache/agents`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AGENTS, agentPaths, agentsCache, installedVersion } from './paths.mjs';

const cache = agentsCache();
const specs = Object.values(AGENTS);
const missing = specs.filter((a) => installedVersion(a.pkg, cache) !== a.version);

function duSize(dir) {
  const r = spawnSync('du', ['-sh', dir], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\t')[0] : '?';
}

if (missing.length === 0) {
  console.log(`agents: already installed in ${cache}`);
} else {
  fs.mkdirSync(cache, { recursive: true });
  // A private package.json so npm treats the cache as its own root, not as part of the
  // workspace above it (npm walks up to find a project root otherwise).
  const manifest = path.join(cache, 'package.json');
  if (!fs.existsSync(manifest)) fs.writeFileSync(manifest, '{ "name": "keel-agents-cache", "private": true }\n');
  // Install every pinned package at once: `--no-save` installs prune what they were not asked for.
  const args = ['install', '--prefix', cache, '--no-save', '--no-audit', '--no-fund',
    ...specs.map((a) => `${a.pkg}@${a.version}`)];
  console.log(`agents: npm ${args.join(' ')}`);
  const started = Date.now();
  const r = spawnSync('npm', args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`agents: npm install failed (exit ${r.status})`);
    process.exit(1);
  }
  console.log(`agents: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const paths = agentPaths(cache);
for (const a of specs) console.log(`agents: ${a.pkg}@${installedVersion(a.pkg, cache) ?? 'missing'}`);
console.log(`agents: codex            ${paths.codex ?? 'MISSING'}`);
console.log(`agents: claude-agent-acp ${paths.claudeAcp ?? 'MISSING'}`);
console.log(`agents: cache size       ${duSize(cache)}`);
if (!paths.codex || !paths.claudeAcp) process.exit(1);
