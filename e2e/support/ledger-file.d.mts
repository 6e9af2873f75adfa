import type { LedgerEvent } from '@keel/core/contract';

export declare function ledgerFile(dataDir: string, runId: string): string;
export declare function readLedger(dataDir: string, runId: string): LedgerEvent[];
export declare function latestAgentPid(dataDir: string, runId: string): number | null;
export declare function countOf(events: readonly LedgerEvent[], type: string): number;
