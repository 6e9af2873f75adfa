import type { Action } from '../contract/index.js';
import { idempotencyKey } from './idempotency.js';

/**
 * What makes two requests "the same action" for approval continuity: the kind and what it
 * touches, not how the agent titled it this time.
 */
export function actionKey(action: Action): string {
  const identity =
    action.kind === 'generic' || action.kind === 'network'
      ? { kind: action.kind, source: action.source ?? null, detail: action.detail ?? action.title }
      : {
          kind: action.kind,
          command: action.command ?? null,
          args: action.args ?? null,
          cwd: action.cwd ?? null,
          paths: action.paths ? [...action.paths].sort() : null,
        };
  return idempotencyKey(identity);
}
