import type { ShownError } from '../lib/errors.js';

/** A failed call as the contract reports it: code, message and per-field issues. */
export function ErrorBox({ error, testId }: { error: ShownError; testId?: string }) {
  return (
    <div className="error-box" role="alert" data-testid={testId} data-code={error.code ?? undefined} title={error.code ? `Error code: ${error.code}` : undefined}>
      <p>{error.message}</p>
      {error.issues.length > 0 && (
        <ul>
          {error.issues.map((issue, index) => (
            <li key={index}>
              <code>{issue.path}</code>: {issue.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
