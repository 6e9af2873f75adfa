import { z } from 'zod';

// The policy file (policy-as-code, DESIGN I8) and the normalised actions it decides.
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

// ---------------------------------------------------------------------------------------------
// Normalised actions: what the policy decides. A shell command becomes one action per simple
// command (and per redirection); a protocol's request becomes one action. Fields shared by every
// action that came from a command line say which program asked for it, so exec rules match it too.
// ---------------------------------------------------------------------------------------------

export const POLICY_ACTION_KINDS = ['exec', 'write', 'read', 'network', 'deps', 'push'] as const;
export type PolicyActionKind = (typeof POLICY_ACTION_KINDS)[number];

const commandOrigin = {
  /** The program as written (`git`, `./git`, `/usr/bin/git`); absent for redirections. */
  program: z.string().nullable().optional(),
  /** Its arguments after quote removal; an argument that is not statically known keeps its source text. */
  args: z.array(z.string()).optional(),
  /** Indexes into `args` of arguments that are not statically known (`$X`, `$(...)`, globs). */
  dynamicArgs: z.array(z.number().int().nonnegative()).optional(),
  /** More arguments come at run time (xargs). */
  moreArgs: z.boolean().optional(),
  /** The directory the command runs in (absolute). */
  cwd: z.string().optional(),
  /** Environment variables the command line sets for it (names only). */
  env: z.array(z.string()).optional(),
  /** The wrappers and nested shells it was found in, outermost first (`sudo`, `bash -c`). */
  via: z.array(z.string()).optional(),
  /** Set when what the action touches is not statically known: the reason. Never allowed. */
  unknown: z.string().optional(),
};

export const PolicyExecAction = z.object({
  kind: z.literal('exec'),
  ...commandOrigin,
  /** null: the program is not statically known (`$X`, `$(...)`, a glob) or the command did not parse. */
  program: z.string().nullable(),
  args: z.array(z.string()),
  /** The command does not parse as shell. */
  unparseable: z.boolean().optional(),
});

const pathAction = <K extends 'write' | 'read'>(kind: K) =>
  z.object({
    kind: z.literal(kind),
    ...commandOrigin,
    /** The target as written (`out.txt`, `~/x`, `../etc/passwd`), when it came from a command line. */
    target: z.string().optional(),
    /** Absolute paths; after evaluation, real paths (realpath of the nearest existing ancestor). */
    paths: z.array(z.string()),
    /** Whether every path is inside the workspace (filled in by evaluation). */
    inside: z.boolean().optional(),
  });
export const PolicyWriteAction = pathAction('write');
export const PolicyReadAction = pathAction('read');

export const PolicyNetworkAction = z.object({
  kind: z.literal('network'),
  ...commandOrigin,
  /** Lower-case host name or address; null when not statically known (a named git remote, `$HOST`). */
  host: z.string().nullable(),
  port: z.number().int().optional(),
  url: z.string().optional(),
  /** A named git remote (`origin`) when that is all the command says. */
  remote: z.string().optional(),
});

export const PolicyDepsAction = z.object({
  kind: z.literal('deps'),
  ...commandOrigin,
  /** npm, pnpm, yarn, bun, pip, uv, poetry, cargo, go, gem. */
  manager: z.string(),
  /** Package names (version and range stripped); a spec that names no package (a path, a URL, -r file) is kept as written. */
  packages: z.array(z.string()),
});

export const PolicyPushAction = z.object({
  kind: z.literal('push'),
  ...commandOrigin,
  /** Remote name or URL; null for the default remote. */
  remote: z.string().nullable(),
  /** The first destination branch; null for the default (current branch's upstream). */
  branch: z.string().nullable(),
  refspecs: z.array(z.string()),
  /** Rewrites or deletes remote history: -f, --force, --force-with-lease, --force-if-includes, +refspec, --mirror, --delete, :branch. */
  force: z.boolean(),
});

export const PolicyAction = z.discriminatedUnion('kind', [
  PolicyExecAction,
  PolicyWriteAction,
  PolicyReadAction,
  PolicyNetworkAction,
  PolicyDepsAction,
  PolicyPushAction,
]);
export type PolicyAction = z.infer<typeof PolicyAction>;
export type PolicyExecAction = z.infer<typeof PolicyExecAction>;
export type PolicyWriteAction = z.infer<typeof PolicyWriteAction>;
export type PolicyReadAction = z.infer<typeof PolicyReadAction>;
export type PolicyNetworkAction = z.infer<typeof PolicyNetworkAction>;
export type PolicyDepsAction = z.infer<typeof PolicyDepsAction>;
export type PolicyPushAction = z.infer<typeof PolicyPushAction>;

/** The policy layers, in order: later layers override defaults; rules of all layers apply. */
export const PolicyLayerName = z.enum(['builtin', 'user', 'workspace']);
export type PolicyLayerName = z.infer<typeof PolicyLayerName>;

/** What the policy said about one action. */
export const PolicyVerdict = z.object({
  decision: PolicyDecision,
  /** The deciding rule's id; null when a default (or the not-statically-known floor) decided. */
  rule: z.string().nullable(),
  layer: PolicyLayerName.nullable(),
  why: z.string(),
});
export type PolicyVerdict = z.infer<typeof PolicyVerdict>;

// ---------------------------------------------------------------------------------------------
// The policy in a run's ledger (I8): which policy was in force (`policy.loaded`), a policy file
// Keel refused (`policy.refused`, the last valid policy stays), every evaluated action, allowed
// ones too (`policy.decided`), and a rule a person added from an approval card
// (`policy.rule_added`). These bodies join the ledger's EventBody union.
// ---------------------------------------------------------------------------------------------

/** What a decision is about: a policy action kind, or `generic` for a request Keel cannot read. */
export const PolicyDecidedKind = z.enum([...POLICY_ACTION_KINDS, 'generic']);
export type PolicyDecidedKind = z.infer<typeof PolicyDecidedKind>;

/** Where an evaluated action came from. */
export const PolicyActionSource = z.enum([
  /** An ACP agent's session/request_permission. */
  'acp.permission',
  /** A Codex approval request (command, file change, permissions). */
  'codex.approval',
  /** The built-in agent's permission request (ACP on the wire). */
  'builtin.permission',
  /** Keel writing a file for the agent (fs/write_text_file) without an earlier allowed request. */
  'keel.fs_write',
  /** Keel reading a file for the agent outside the workspace (fs/read_text_file). */
  'keel.fs_read',
  /** Keel starting a command for the agent (terminal/create) without an earlier allowed request. */
  'keel.terminal',
  /** What the agent reported doing on its own (a tool call nobody was asked about). */
  'tool_call',
]);
export type PolicyActionSource = z.infer<typeof PolicyActionSource>;

/** One judged part of an action (a simple command, a redirection, a push inside a compound). */
export const PolicyDecidedPart = z.object({
  kind: z.enum(POLICY_ACTION_KINDS),
  decision: PolicyDecision,
  rule: z.string().nullable(),
  why: z.string(),
  /** What it touches, as text: the command line, the paths, the host. */
  summary: z.string(),
});
export type PolicyDecidedPart = z.infer<typeof PolicyDecidedPart>;

/** What the policy said about a request, carried on its approval card (`approval.requested`). */
export const ApprovalPolicyContext = z.object({
  decision: PolicyDecision,
  rule: z.string().nullable(),
  layer: PolicyLayerName.nullable(),
  why: z.string(),
  policyHash: z.string(),
  /** The kind of the deciding part (a compound command may be decided by a push inside it). */
  kind: PolicyDecidedKind,
});
export type ApprovalPolicyContext = z.infer<typeof ApprovalPolicyContext>;

export const PolicyDecidedPayload = z.object({
  action: z.object({
    /** The kind of the deciding part. */
    kind: PolicyDecidedKind,
    title: z.string(),
    /** Every part judged (at most 64 recorded). */
    parts: z.array(PolicyDecidedPart).optional(),
    /** How many parts were judged but not recorded. */
    moreParts: z.number().int().positive().optional(),
  }),
  decision: PolicyDecision,
  /** The deciding rule's id; null when a default (or the not-statically-known floor) decided. */
  rule: z.string().nullable(),
  layer: PolicyLayerName.nullable(),
  why: z.string(),
  policyHash: z.string(),
  source: PolicyActionSource,
  /** Nobody could answer an ask (a non-interactive run): `ask` became the policy's unattended_ask. */
  unattended: z.boolean().optional(),
  /** The agent did this without asking; Keel judged it after the fact. */
  observed: z.boolean().optional(),
  /** An observed action the policy would deny. */
  violation: z.boolean().optional(),
  approvalId: z.string().optional(),
  toolCallId: z.string().optional(),
});
export type PolicyDecidedPayload = z.infer<typeof PolicyDecidedPayload>;

export const PolicyLoadedPayload = z.object({
  hash: z.string(),
  /** Why it was (re)loaded. */
  reason: z.enum(['run_start', 'changed', 'rule_added']),
  /** The files of the layers in force, in order (the built-in layer has none). */
  files: z.array(z.object({ layer: PolicyLayerName, file: z.string() })),
  /** Every rule in force and the layer it came from. */
  rules: z.array(z.object({ id: z.string(), layer: PolicyLayerName, decision: PolicyDecision, kind: z.enum(POLICY_MATCHERS).nullable() })),
  defaults: z.record(z.string(), z.string()),
  /** Which layer set each default. */
  defaultLayers: z.record(z.string(), PolicyLayerName),
  onViolation: PolicyOnViolation,
});
export type PolicyLoadedPayload = z.infer<typeof PolicyLoadedPayload>;

export const PolicyRefusedPayload = z.object({
  /** The files that were read. */
  files: z.array(z.string()),
  /** Each problem as `file:line:column: message`. */
  errors: z.array(z.string()).min(1),
  /** The hash of the policy that stays in force (null: none was valid yet, so the built-in layer alone). */
  kept: z.string().nullable(),
});
export type PolicyRefusedPayload = z.infer<typeof PolicyRefusedPayload>;

export const PolicyRuleAddedPayload = z.object({
  file: z.string(),
  rule: z.record(z.string(), z.unknown()),
  /** The approval the rule came from ("Always allow this"). */
  approvalId: z.string().optional(),
  /** The workspace file's sha256 before (null: it did not exist) and after. */
  before: z.string().nullable(),
  after: z.string(),
});
export type PolicyRuleAddedPayload = z.infer<typeof PolicyRuleAddedPayload>;

export const policyEventBodies = [
  z.object({ type: z.literal('policy.loaded'), payload: PolicyLoadedPayload }),
  z.object({ type: z.literal('policy.refused'), payload: PolicyRefusedPayload }),
  z.object({ type: z.literal('policy.decided'), payload: PolicyDecidedPayload }),
  z.object({ type: z.literal('policy.rule_added'), payload: PolicyRuleAddedPayload }),
] as const;

const logPosition = { seq: z.number().int().positive(), ts: z.string(), generation: z.number().int().nonnegative().optional() };

/** One policy event of a run, as `keel policy log` and the Policy view show it (one formula, I9). */
export const PolicyLogEntry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('policy.loaded'), ...logPosition, payload: PolicyLoadedPayload }),
  z.object({ type: z.literal('policy.refused'), ...logPosition, payload: PolicyRefusedPayload }),
  z.object({ type: z.literal('policy.decided'), ...logPosition, payload: PolicyDecidedPayload }),
  z.object({ type: z.literal('policy.rule_added'), ...logPosition, payload: PolicyRuleAddedPayload }),
]);
export type PolicyLogEntry = z.infer<typeof PolicyLogEntry>;

/** A run's policy log with counts per decision (observed violations counted apart). */
export const PolicyLog = z.object({
  runId: z.string(),
  entries: z.array(PolicyLogEntry),
  counts: z.object({ allow: z.number().int(), ask: z.number().int(), deny: z.number().int(), violations: z.number().int() }),
});
export type PolicyLog = z.infer<typeof PolicyLog>;

/** The policy a workspace's files give now, for the Policy view (`policy.show`). */
export const PolicyOverview = z.object({
  workspace: z.string().nullable(),
  /** Every file validates (YAML, schema, examples). */
  valid: z.boolean(),
  errors: z.array(z.string()),
  /** The hash of the layers the files give now; null while they are invalid. */
  hash: z.string().nullable(),
  /** The policy in force in the run asked about (its last `policy.loaded`), if any. */
  runHash: z.string().nullable(),
  files: z.array(z.object({ layer: PolicyLayerName, file: z.string(), exists: z.boolean() })),
  rules: z.array(
    z.object({
      id: z.string(),
      layer: PolicyLayerName,
      decision: PolicyDecision,
      kind: z.enum(POLICY_MATCHERS).nullable(),
      why: z.string().optional(),
      /** The rule's patterns as text (exec patterns, globs, hosts, packages, push fields). */
      patterns: z.array(z.string()),
    }),
  ),
  defaults: z.record(z.string(), z.string()),
  defaultLayers: z.record(z.string(), PolicyLayerName),
  onViolation: PolicyOnViolation,
});
export type PolicyOverview = z.infer<typeof PolicyOverview>;

/** "Always allow this": the rules to add to the workspace policy, shown as a diff before anything is written. */
export const PolicyRuleProposal = z.object({
  file: z.string(),
  rules: z.array(z.record(z.string(), z.unknown())),
  /** sha256 of the file when proposed (null: no file yet); adding refuses if it changed since. */
  before: z.string().nullable(),
  diff: z.string(),
  valid: z.boolean(),
  errors: z.array(z.string()),
  /** What the policy would then decide for the request (a stricter rule may still ask or deny). */
  decision: PolicyDecision,
  why: z.string(),
});
export type PolicyRuleProposal = z.infer<typeof PolicyRuleProposal>;
