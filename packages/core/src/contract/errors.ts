import { z } from 'zod';

/** Every failure that crosses the contract boundary has one of these codes. */
export const RpcErrorCode = z.enum([
  'invalid_input',
  'invalid_output',
  'unknown_method',
  'unknown_stream',
  'forbidden',
  'not_found',
  'conflict',
  'unavailable',
  'internal',
]);
export type RpcErrorCode = z.infer<typeof RpcErrorCode>;

export const RpcIssue = z.object({ path: z.string(), message: z.string() });
export type RpcIssue = z.infer<typeof RpcIssue>;

export const RpcErrorShape = z.object({
  code: RpcErrorCode,
  message: z.string(),
  issues: z.array(RpcIssue).optional(),
});
export type RpcErrorShape = z.infer<typeof RpcErrorShape>;

/** The typed error thrown by handlers and re-thrown by clients. */
export class KeelRpcError extends Error {
  readonly code: RpcErrorCode;
  readonly issues: RpcIssue[] | undefined;

  constructor(code: RpcErrorCode, message: string, issues?: RpcIssue[]) {
    super(message);
    this.name = 'KeelRpcError';
    this.code = code;
    this.issues = issues;
  }

  toShape(): RpcErrorShape {
    return this.issues ? { code: this.code, message: this.message, issues: this.issues } : { code: this.code, message: this.message };
  }

  static fromShape(shape: RpcErrorShape): KeelRpcError {
    return new KeelRpcError(shape.code, shape.message, shape.issues);
  }
}

/** Flattens zod issues into `{path, message}` pairs a user can read. */
export function issuesOf(error: z.ZodError): RpcIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}
