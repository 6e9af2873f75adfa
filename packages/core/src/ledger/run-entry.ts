import { genesisHash } from './hash-chain.js';
import { RunLog } from './run-log.js';

/** What the writer knows of one run: its open log and where its hash chain ends. */
export interface RunEntry {
  runId: string;
  log: RunLog;
  lastSeq: number;
  lastHash: string;
  quarantine: string | null;
  readOnly: boolean;
  /** The log's directory entry is durable (fsync'd after the file was created). */
  dirSynced: boolean;
}

type RunEntryState = Partial<Omit<RunEntry, 'runId' | 'log'>>;

/** An entry for the log at `file`; unless `state` says otherwise, an empty, writable run not yet synced. */
export function runEntry(runId: string, file: string, state: RunEntryState = {}): RunEntry {
  return {
    runId,
    log: new RunLog(file),
    lastSeq: 0,
    lastHash: genesisHash(runId),
    quarantine: null,
    readOnly: false,
    dirSynced: false,
    ...state,
  };
}
