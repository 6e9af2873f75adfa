import { z } from 'zod';

// The policy file (policy-as-code, DESIGN I8): its format, rules and defaults. The normalised
// actions it decides are in policy-actions.ts, the policy's events and views in policy-events.ts;
// policy.ts gathers the three (every import of it keeps working).
//
// A policy file is YAML that must validate against `PolicyFile`: every object is strict (an
// unknown key is an error, so a typo never silently weakens a policy) and the format carries an
// integer `schema_version` (I10). Keel layers three of them — its built-in defaults, the user's
// `<data>/policy.yaml` and the workspace's `.keel/policy.yaml` — and the engine in
// `packages/core/src/policy` evaluates `PolicyAction`s against the result.

/** The policy format version this build reads and writes. */
export const POLICY_SCHEMA_VERSION = 1;

/** What the policy says about an action. Strictness: deny > ask > allow. */
export const PolicyDecision = z.enum(['allow', 'ask', 'deny']);
export type PolicyDecision = z.infer<typeof PolicyDecision>;

/** The decision for an action no rule matches, per kind; `write`/`read` split by where the real path is. */
export const PolicyDefaults = z
  .strictObject({
    exec: PolicyDecision.optional().describe('a command no rule matches'),
    write_inside: PolicyDecision.optional().describe('a write whose real path is inside the workspace'),
    write_outside: PolicyDecision.optional().describe('a write whose real path is outside the workspace'),
    read_inside: PolicyDecision.optional().describe('a read whose real path is inside the workspace'),
    read_outside: PolicyDecision.optional().describe('a read whose real path is outside the workspace'),
    network: PolicyDecision.optional().describe('a connection to a host no rule matches'),
    deps: PolicyDecision.optional().describe('a dependency change no rule or deps setting decides'),
    push: PolicyDecision.optional().describe('a git push no rule matches'),
    unattended_ask: z
      .enum(['deny', 'allow'])
      .optional()
      .describe('what `ask` becomes when nobody can answer (headless runs); an action that is not statically known is always denied there'),
  })
  .describe('per action kind, the decision when no rule matches; a later layer overrides an earlier one key by key');
export type PolicyDefaults = z.infer<typeof PolicyDefaults>;
export type PolicyDefaultKey = keyof PolicyDefaults;

/** A rule id: what decisions, approval cards and the ledger name. */
export const PolicyRuleId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a rule id is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');

const patternList = (what: string) =>
  z.array(z.string().min(1, `an empty ${what} matches nothing`)).min(1, `list at least one ${what}`);

/** Globs over a name (remote, branch): one or a list. */
const NameGlobs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Matches `git push` actions; every field given must hold. `{}` matches every push. */
export const PushMatcher = z
  .strictObject({
    force: z.boolean().optional().describe('true: only history-rewriting pushes (-f, --force, --force-with-lease, +refspec, --mirror, --delete); false: only the others'),
    remote: NameGlobs.optional().describe('remote name or URL globs'),
    branch: NameGlobs.optional().describe('destination branch globs'),
  })
  .describe('matches git push actions');
export type PushMatcher = z.infer<typeof PushMatcher>;

export const POLICY_MATCHERS = ['exec', 'write', 'read', 'network', 'push', 'deps'] as const;
export type PolicyMatcherKind = (typeof POLICY_MATCHERS)[number];

export const PolicyRule = z
  .strictObject({
    id: PolicyRuleId,
    exec: patternList('command pattern')
      .optional()
      .describe('command patterns: words, a word may hold * globs, a final lone * matches any remaining arguments'),
    write: patternList('path glob').optional().describe('gitignore-style globs relative to the workspace; "/..." is absolute, "~/..." under home'),
    read: patternList('path glob').optional().describe('gitignore-style globs relative to the workspace; "/..." is absolute, "~/..." under home'),
    network: patternList('host glob').optional().describe('host globs, e.g. registry.npmjs.org or *.github.com'),
    push: PushMatcher.optional(),
    deps: patternList('package glob').optional().describe('package name globs, e.g. zod or @types/*'),
    decision: PolicyDecision,
    why: z.string().min(1).optional().describe('the reason shown on approval cards and recorded with each decision'),
    match: z.array(z.string()).optional().describe('examples the rule must match, checked when the policy loads'),
    not_match: z.array(z.string()).optional().describe('examples the rule must not match, checked when the policy loads'),
  })
  .superRefine((rule, ctx) => {
    const given = POLICY_MATCHERS.filter((kind) => rule[kind] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a rule needs exactly one of ${POLICY_MATCHERS.join(', ')}${given.length > 1 ? ` (this one has ${given.join(' and ')})` : ''}`,
        path: given.length > 1 ? [given[1]!] : [],
      });
    }
    rule.exec?.forEach((pattern, index) => {
      const words = pattern.trim().split(/\s+/);
      if (pattern.trim() === '') ctx.addIssue({ code: 'custom', message: 'an empty command pattern matches nothing', path: ['exec', index] });
      else if (words[0]!.includes('/')) {
        ctx.addIssue({
          code: 'custom',
          message: `a command pattern names a program by its bare name ("${words[0]!.split('/').pop()}"), never by a path`,
          path: ['exec', index],
        });
      }
    });
    for (const kind of ['write', 'read'] as const) {
      rule[kind]?.forEach((glob, index) => {
        if (glob.startsWith('!')) ctx.addIssue({ code: 'custom', message: 'negated globs are not supported: write a separate rule', path: [kind, index] });
      });
    }
  });
export type PolicyRule = z.infer<typeof PolicyRule>;

/** Dependency changes: `strict` allows none, `allowlist` the packages in `allow`, `open` any. */
export const PolicyDeps = z
  .strictObject({
    mode: z.enum(['strict', 'allowlist', 'open']).optional(),
    allow: z.array(z.string().min(1)).optional().describe('package name globs allowed in allowlist mode'),
    warn_above: z.number().int().nonnegative().optional().describe('transitive packages added in one change above which Keel warns'),
  })
  .describe('dependency changes: strict (none) | allowlist | open');
export type PolicyDeps = z.infer<typeof PolicyDeps>;

export const PolicyOnViolation = z.enum(['record', 'stop']);
export type PolicyOnViolation = z.infer<typeof PolicyOnViolation>;

/** One policy file, format v1. */
export const PolicyFile = z
  .strictObject({
    schema_version: z.literal(POLICY_SCHEMA_VERSION, {
      error: (issue) => `this Keel reads policy schema_version ${POLICY_SCHEMA_VERSION}; the file says ${JSON.stringify(issue.input)}`,
    }),
    defaults: PolicyDefaults.optional(),
    rules: z.array(PolicyRule).optional(),
    deps: PolicyDeps.optional(),
    on_violation: PolicyOnViolation.optional().describe('what an observed action the policy would deny does: record it (default) or stop the run'),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.rules?.forEach((rule, index) => {
      const first = seen.get(rule.id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', message: `duplicate rule id "${rule.id}" (also rules[${first}])`, path: ['rules', index, 'id'] });
      else seen.set(rule.id, index);
    });
  })
  .describe('A Keel policy file (policy-as-code). See docs/adr/0006-policy-engine.md.');
export type PolicyFile = z.infer<typeof PolicyFile>;

/** The JSON Schema of the policy file, for editors and documentation (snapshot-tested). */
export function policyFileJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PolicyFile) as Record<string, unknown>;
}
