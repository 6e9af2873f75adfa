import { z } from 'zod';
import { PolicyDecision } from './policy-file.js';

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
