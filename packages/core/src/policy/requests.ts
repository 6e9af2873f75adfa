import type { Action } from '../contract/index.js';
import { POLICY_MATCHERS, type PolicyAction, type PolicyDecidedPart, type PolicyMatcherKind, type PolicyRule } from '../contract/schemas/policy.js';
import { hostOf } from './commands.js';
import type { EvaluatedAction, PolicyInput } from './evaluate.js';

/**
 * A protocol's request (an ACP permission request, a Codex approval, a file or command Keel
 * serves) as policy input, or null when it says nothing the policy can judge (a `generic`
 * request, a write with no path): such a request is decided as unknown.
 *
 * An exec with arguments is an argv (no shell involved: `sh -c STRING` is parsed by the
 * engine's wrapper rules); an exec with a command line only (Codex, Claude Code's Bash tool)
 * is a shell string.
 */
export function requestInput(action: Action): PolicyInput | null {
  switch (action.kind) {
    case 'exec':
      if (action.command === undefined || action.command.trim() === '') return null;
      return action.args !== undefined ? { argv: [action.command, ...action.args] } : { command: action.command };
    case 'write':
    case 'read': {
      const paths = action.paths ?? [];
      if (paths.length === 0) return null;
      return action.kind === 'write' ? { write: paths } : { read: paths };
    }
    case 'network': {
      const url = action.detail?.trim() ?? '';
      const found = url !== '' && !/\s/.test(url) ? (hostOf(url, false) ?? hostOf(url, true)) : null;
      if (found) return { network: url };
      // A network request whose host Keel cannot read: never allowed by a rule.
      const unknown: PolicyAction = { kind: 'network', host: null, unknown: 'the host is not known' };
      return { actions: [unknown] };
    }
    case 'generic':
      return null;
  }
}

/** One judged part as text: the command line, the paths, the host. */
export function partSummary(action: PolicyAction): string {
  const command = () => [action.program ?? '?', ...(action.args ?? [])].join(' ');
  switch (action.kind) {
    case 'exec':
      return command();
    case 'write':
    case 'read':
      return action.target ?? action.paths.join(', ');
    case 'network':
      return action.host ?? action.url ?? action.remote ?? '(unknown host)';
    case 'deps':
      return `${action.manager} ${action.packages.join(' ')}`.trim();
    case 'push':
      return action.program !== undefined ? command() : `git push ${action.remote ?? ''} ${action.branch ?? ''}`.trim();
  }
}

const clip = (text: string, limit: number) => (text.length > limit ? `${text.slice(0, limit - 1)}…` : text);

/** The judged parts as recorded in `policy.decided` (at most `limit`). */
export function decidedParts(actions: readonly EvaluatedAction[], limit = 64): { parts: PolicyDecidedPart[]; more: number } {
  const parts = actions.slice(0, limit).map((action) => ({
    kind: action.kind,
    decision: action.decision,
    rule: action.rule,
    why: clip(action.why, 2000),
    summary: clip(partSummary(action), 2000),
  }));
  return { parts, more: Math.max(0, actions.length - limit) };
}

/** Which kind of action a rule matches (its one matcher key); null for a rule the schema would refuse. */
export function ruleKind(rule: PolicyRule): PolicyMatcherKind | null {
  return POLICY_MATCHERS.find((kind) => rule[kind] !== undefined) ?? null;
}
