export type LedgerErrorCode =
  | 'invalid_event'
  | 'unknown_run'
  | 'run_exists'
  | 'run_read_only'
  | 'run_quarantined'
  | 'record_too_large'
  | 'ledger_failed'
  | 'ledger_closed'
  | 'read_only_ledger'
  | 'locked'
  | 'import_invalid'
  | 'import_conflict'
  | 'import_incomplete'
  | 'import_too_large'
  | 'repair_refused';

/** Every ledger failure carries a code a caller can branch on and a message a user can read. */
export class LedgerError extends Error {
  readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgerError';
    this.code = code;
  }
}
