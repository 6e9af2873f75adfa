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
  /** The newest record in both stores (written, synced and committed): where a marker may point. */
  committedSeq: number;
  committedHash: string;
  /** The log bytes the stored verified marker claims, as far as this writer knows. */
  markedBytes: number;
}

type RunEntryState = Partial<Omit<RunEntry, 'runId' | 'log'>>;

/**
 * An entry for the log at `file`; unless `state` says otherwise, an empty, writable run not yet
 * synced. Its chain head (`lastSeq`, `lastHash`) is committed, and its marker taken to be at the
 * log's end (open leaves it there; a marker behind that only moves later, which is safe).
 */
export function runEntry(runId: string, file: string, state: RunEntryState = {}): RunEntry {
  const log = new RunLog(file);
  const lastSeq = state.lastSeq ?? 0;
  const lastHash = state.lastHash ?? genesisHash(runId);
  return {
    runId,
    log,
    lastSeq,
    lastHash,
    quarantine: null,
    readOnly: false,
    dirSynced: false,
    committedSeq: lastSeq,
    committedHash: lastHash,
    markedBytes: log.size,
    ...state,
  };
}
