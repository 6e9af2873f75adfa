import fs from 'node:fs';
import path from 'node:path';
import type { AgentCatalog } from '../contract/index.js';
import { listBuiltinScripts } from '../runtime/index.js';

/** Agents Keel knows how to start, looked up on PATH. */
const KNOWN_AGENTS: ReadonlyArray<{ bin: string; kind: 'acp' | 'codex'; name: string; args: string[] }> = [
  { bin: 'codex', kind: 'codex', name: 'OpenAI Codex (app-server)', args: ['app-server'] },
  { bin: 'claude-agent-acp', kind: 'acp', name: 'Claude Code (ACP)', args: [] },
  { bin: 'gemini', kind: 'acp', name: 'Gemini CLI (ACP)', args: ['--acp'] },
  { bin: 'codex-acp', kind: 'acp', name: 'Codex (ACP)', args: [] },
];

function onPath(bin: string, pathVariable: string): string | null {
  for (const dir of pathVariable.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, bin);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** The built-in scripts and the known agents installed on this machine. */
export function agentCatalog(pathVariable = process.env.PATH ?? ''): AgentCatalog {
  return {
    builtinScripts: listBuiltinScripts().map(({ name, description }) => ({ name, description })),
    detected: KNOWN_AGENTS.flatMap((agent) => {
      const found = onPath(agent.bin, pathVariable);
      return found ? [{ kind: agent.kind, name: agent.name, command: [agent.bin, ...agent.args], path: found }] : [];
    }),
  };
}
