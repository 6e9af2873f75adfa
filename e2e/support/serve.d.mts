import type { ChildProcess } from 'node:child_process';

export declare const repoRoot: string;
export declare const artifactsDir: string;

export interface RunningKeel {
  url: string;
  origin: string;
  token: string;
  dataDir: string;
  process: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

export declare function startKeel(options?: { dataDir?: string; args?: string[] }): Promise<RunningKeel>;
