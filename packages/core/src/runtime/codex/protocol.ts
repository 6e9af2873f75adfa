import { z } from 'zod';

/**
 * The subset of `codex app-server` (v2 API, pinned @openai/codex 0.169.0) that Keel reads,
 * as zod schemas: written from `codex app-server generate-ts` and checked against real
 * traffic (docs/protocols/codex-app-server.md). Unknown fields are ignored, so newer
 * servers that add fields still parse; a missing field we rely on is a protocol error.
 */

const id = z.string();
const requestId = z.union([z.string(), z.number()]);

export const UserInput = z.looseObject({ type: z.string(), text: z.string().optional() });

export const FileUpdateChange = z.object({
  path: z.string(),
  kind: z.looseObject({ type: z.string(), move_path: z.string().nullish() }),
  diff: z.string(),
});
export type FileUpdateChange = z.infer<typeof FileUpdateChange>;

/** Thread items Keel translates, by `type`; any other type is read as a generic item. */
export const KnownItems = {
  userMessage: z.object({ type: z.literal('userMessage'), id, clientId: z.string().nullish(), content: z.array(UserInput) }),
  agentMessage: z.object({ type: z.literal('agentMessage'), id, text: z.string() }),
  reasoning: z.object({
    type: z.literal('reasoning'),
    id,
    summary: z.array(z.string()).default([]),
    content: z.array(z.string()).default([]),
  }),
  plan: z.object({ type: z.literal('plan'), id, text: z.string() }),
  commandExecution: z.object({
    type: z.literal('commandExecution'),
    id,
    command: z.string(),
    cwd: z.string().nullish(),
    status: z.string(),
    aggregatedOutput: z.string().nullish(),
    exitCode: z.number().nullish(),
  }),
  fileChange: z.object({ type: z.literal('fileChange'), id, changes: z.array(FileUpdateChange), status: z.string() }),
};
export const GenericItem = z.looseObject({ type: z.string(), id: z.string().optional(), status: z.unknown().optional() });

export type KnownItem = { [K in keyof typeof KnownItems]: z.infer<(typeof KnownItems)[K]> }[keyof typeof KnownItems];
export type GenericItem = z.infer<typeof GenericItem>;
export type ParsedItem = { known: true; item: KnownItem } | { known: false; item: GenericItem };

/** Parse a raw thread item: known types strictly, everything else generically. */
export function parseItem(raw: unknown): ParsedItem | { error: string } {
  const generic = GenericItem.safeParse(raw);
  if (!generic.success) return { error: z.prettifyError(generic.error) };
  const schema = (KnownItems as Record<string, z.ZodType<KnownItem>>)[generic.data.type];
  if (!schema) return { known: false, item: generic.data };
  const known = schema.safeParse(raw);
  return known.success ? { known: true, item: known.data } : { error: `${generic.data.type}: ${z.prettifyError(known.error)}` };
}

export const TurnError = z.looseObject({ message: z.string() });

export const Turn = z.object({
  id,
  items: z.array(z.unknown()).default([]),
  itemsView: z.string().nullish(),
  status: z.string(),
  error: TurnError.nullish(),
});
export type Turn = z.infer<typeof Turn>;

export const Thread = z.object({ id, turns: z.array(Turn).default([]) });

// Responses to our requests.
export const ThreadResponse = z.object({ thread: Thread });
export const TurnStartResponse = z.object({ turn: Turn });
export const TurnsListResponse = z.object({ data: z.array(Turn), nextCursor: z.string().nullish() });

// Notifications.
const inTurn = { threadId: id, turnId: id };
export const Notifications = {
  'turn/started': z.object({ threadId: id, turn: Turn }),
  'turn/completed': z.object({ threadId: id, turn: Turn }),
  'item/started': z.object({ ...inTurn, item: z.unknown() }),
  'item/completed': z.object({ ...inTurn, item: z.unknown() }),
  'item/agentMessage/delta': z.object({ ...inTurn, itemId: id, delta: z.string() }),
  'item/reasoning/summaryTextDelta': z.object({ ...inTurn, itemId: id, delta: z.string() }),
  'item/reasoning/textDelta': z.object({ ...inTurn, itemId: id, delta: z.string() }),
  'item/reasoning/summaryPartAdded': z.object({ ...inTurn, itemId: id, summaryIndex: z.number() }),
  'item/commandExecution/outputDelta': z.object({ ...inTurn, itemId: id, delta: z.string() }),
  'item/fileChange/outputDelta': z.object({ ...inTurn, itemId: id, delta: z.string() }),
  'item/fileChange/patchUpdated': z.object({ ...inTurn, itemId: id, changes: z.array(FileUpdateChange) }),
  'turn/plan/updated': z.object({
    ...inTurn,
    explanation: z.string().nullish(),
    plan: z.array(z.object({ step: z.string(), status: z.string() })),
  }),
  error: z.object({ ...inTurn, willRetry: z.boolean(), error: TurnError }),
  'serverRequest/resolved': z.object({ threadId: id, requestId }),
};
export type NotificationMethod = keyof typeof Notifications;
export type NotificationParams<M extends NotificationMethod> = z.infer<(typeof Notifications)[M]>;

// Server requests (approvals).
export const CommandApprovalParams = z.object({
  ...inTurn,
  itemId: id,
  kind: z.string().nullish(),
  reason: z.string().nullish(),
  command: z.string().nullish(),
  cwd: z.string().nullish(),
  commandActions: z.array(z.looseObject({ type: z.string(), command: z.string() })).nullish(),
  networkApprovalContext: z.looseObject({ host: z.string(), protocol: z.string() }).nullish(),
});
export type CommandApprovalParams = z.infer<typeof CommandApprovalParams>;

export const FileChangeApprovalParams = z.object({
  ...inTurn,
  itemId: id,
  reason: z.string().nullish(),
  grantRoot: z.string().nullish(),
});
export type FileChangeApprovalParams = z.infer<typeof FileChangeApprovalParams>;

export const PermissionsApprovalParams = z.object({
  ...inTurn,
  itemId: id,
  cwd: z.string().nullish(),
  reason: z.string().nullish(),
  permissions: z.object({
    network: z.looseObject({ enabled: z.boolean().nullish() }).nullish(),
    fileSystem: z.looseObject({ read: z.array(z.string()).nullish(), write: z.array(z.string()).nullish() }).nullish(),
  }),
});
export type PermissionsApprovalParams = z.infer<typeof PermissionsApprovalParams>;

/** Loose params of any other `…/requestApproval` method (for the generic card). */
export const AnyApprovalParams = z.looseObject({ threadId: z.string().optional(), itemId: z.string().optional(), reason: z.string().nullish() });

/** Approval policies (`AskForApproval`) and sandbox modes (`SandboxMode`) of this version. */
export type ApprovalPolicy = 'untrusted' | 'on-request' | 'never';
export type SandboxMode = 'read-only' | 'workspace-write' | 'danger-full-access';
