// Reads a run's NDJSON log straight from the data dir, read-only, while the server holds the
// ledger lock: the tests compare what the page shows with what the ledger recorded.
import fs from 'node:fs';
import path from 'node:path';

export const ledgerFile = (dataDir, runId) => path.join(dataDir, 'ledger', `${runId}.ndjson`);

/** Every complete record of the run's log (a line still being written is left out). */
export function readLedger(dataDir, runId) {
  let text;
  try {
    text = fs.readFileSync(ledgerFile(dataDir, runId), 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a record not fully written yet
  return lines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}

/** The pid of the latest agent generation (its `runtime.started`), or null before the first. */
export function latestAgentPid(dataDir, runId) {
  const started = readLedger(dataDir, runId).filter((event) => event.type === 'runtime.started');
  return started.length > 0 ? started[started.length - 1].payload.pid : null;
}

export const countOf = (events, type) => events.reduce((n, event) => n + (event.type === type ? 1 : 0), 0);
