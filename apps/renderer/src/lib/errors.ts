import { KeelRpcError, type RpcIssue } from '@keel/core/contract';

/** One line for any failure: a typed error's message, or whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof KeelRpcError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export interface ShownError {
  code: string | null;
  message: string;
  issues: RpcIssue[];
}

/** What an error box shows: the contract's code, message and per-field issues. */
export function toShownError(error: unknown): ShownError {
  if (error instanceof KeelRpcError) return { code: error.code, message: error.message, issues: error.issues ?? [] };
  return { code: null, message: describeError(error), issues: [] };
}
