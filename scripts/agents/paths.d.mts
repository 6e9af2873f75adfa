// Types for paths.mjs (imported by the TypeScript tests).
export declare const repoRoot: string;
export declare const AGENTS: {
  codex: { pkg: string; version: string };
  claude: { pkg: string; version: string };
};
export declare function agentsCache(): string;
export declare function installedVersion(pkg: string, cache?: string): string | null;
export interface AgentPaths {
  cache: string;
  /** Native codex binary (or the npm wrapper when the native one is not found); null when missing. */
  codex: string | null;
  /** The npm wrapper `node_modules/.bin/codex`; null when missing. */
  codexWrapper: string | null;
  /** `node_modules/.bin/claude-agent-acp`; null when missing. */
  claudeAcp: string | null;
}
export declare function agentPaths(cache?: string): AgentPaths;
