import path from 'node:path';

/** Where the ledger lives inside a data directory. */
export const ledgerPaths = (dataDir: string) => {
  const logDir = path.join(dataDir, 'ledger');
  return {
    logDir,
    database: path.join(dataDir, 'keel.db'),
    lock: path.join(dataDir, 'ledger.lock'),
    logOf: (runId: string) => path.join(logDir, `${runId}.ndjson`),
  };
};

/** The run id of a log file name, or null for anything else (broken copies, temp files). */
export function runIdOfLogFile(name: string): string | null {
  const match = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.ndjson$/.exec(name);
  return match ? match[1]! : null;
}
