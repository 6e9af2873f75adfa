// Where the pinned real agents live (installed by scripts/agents/install.mjs) and how to find
// their entry points. Kept outside the project's dependencies: these are test fixtures, not
// runtime dependencies of Keel.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Pinned versions: the newest that run on Node 20 here (DESIGN §6). */
export const AGENTS = {
  codex: { pkg: '@openai/codex', version: '0.169.0' },
  claude: { pkg: '@agentclientprotocol/claude-agent-acp', version: '0.49.0' },
};

/** The cache folder: `KEEL_AGENTS_CACHE` or `<repo>/.cache/agents` (gitignored). */
export function agentsCache() {
  return path.resolve(process.env.KEEL_AGENTS_CACHE || path.join(repoRoot, '.cache', 'agents'));
}

/** The installed version of a package in the cache, or null. */
export function installedVersion(pkg, cache = agentsCache()) {
  try {
    return JSON.parse(fs.readFileSync(path.join(cache, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function existing(file) {
  return file && fs.existsSync(file) ? file : null;
}

/** The native codex binary (skips the npm wrapper, which can orphan it when killed). */
function codexNative(cache) {
  const vendor = path.join(cache, 'node_modules', '@openai', 'codex-linux-x64', 'vendor');
  if (!fs.existsSync(vendor)) return null;
  for (const triple of fs.readdirSync(vendor)) {
    const bin = path.join(vendor, triple, 'bin', 'codex');
    if (fs.existsSync(bin)) return bin;
  }
  return null;
}

/**
 * Entry points of the pinned agents, each null when missing or at the wrong version.
 * `codex` is the native binary when found, else the npm wrapper `node_modules/.bin/codex`.
 */
export function agentPaths(cache = agentsCache()) {
  const ok = (a) => installedVersion(a.pkg, cache) === a.version;
  const bin = (name) => existing(path.join(cache, 'node_modules', '.bin', name));
  return {
    cache,
    codex: ok(AGENTS.codex) ? codexNative(cache) ?? bin('codex') : null,
    codexWrapper: ok(AGENTS.codex) ? bin('codex') : null,
    claudeAcp: ok(AGENTS.claude) ? bin('claude-agent-acp') : null,
  };
}
