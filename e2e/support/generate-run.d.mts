import type { AppendInput } from '@keel/core';

export interface GeneratedRun {
  runId: string;
  events: number;
  workspace: string;
  ms: number;
}

export declare function runEvents(options: { total?: number; seed?: number; workspace: string }): Generator<AppendInput>;
export declare function generateRun(options: { dataDir: string; total?: number; seed?: number; workspace?: string; batch?: number }): Promise<GeneratedRun>;
