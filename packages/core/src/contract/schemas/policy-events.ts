import { z } from 'zod';
import { POLICY_ACTION_KINDS, PolicyLayerName } from './policy-actions.js';
import { POLICY_MATCHERS, PolicyDecision, PolicyOnViolation } from './policy-file.js';

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
