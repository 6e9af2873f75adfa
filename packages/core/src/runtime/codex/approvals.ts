import { z } from 'zod';
import type { Action } from '../../contract/schemas/ledger.js';
import type { PermissionAnswer, PermissionAsk } from '../adapter.js';
import {
  AnyApprovalParams,
  CommandApprovalParams,
  FileChangeApprovalParams,
  PermissionsApprovalParams,
  type FileUpdateChange,
} from './protocol.js';
import { unwrapShellCommand } from './shell-words.js';

/** What an approval translator may look up: the file changes Codex announced in `item/started`. */
export interface ApprovalContext {
  cwd: string;
  fileChanges(itemId: string): FileUpdateChange[] | undefined;
}

export interface ApprovalTranslator {
  /** The normalised ask, or why the params could not be read. */
  ask(params: unknown, context: ApprovalContext): PermissionAsk | { error: string };
  /** The result Codex expects for Keel's answer. */
  respond(answer: PermissionAnswer, params: unknown): unknown;
}

/** `CommandExecutionApprovalDecision` / `FileChangeApprovalDecision`: the v2 `{decision}` convention. */
const DECISIONS: Record<PermissionAnswer, 'accept' | 'acceptForSession' | 'decline' | 'cancel'> = {
  allow_once: 'accept',
  allow_always: 'acceptForSession',
  deny: 'decline',
  cancelled: 'cancel',
};
const decision = (answer: PermissionAnswer) => ({ decision: DECISIONS[answer] });

const parsed = <T>(schema: z.ZodType<T>, params: unknown): T | { error: string } => {
  const result = schema.safeParse(params);
  return result.success ? result.data : { error: z.prettifyError(result.error) };
};
const isError = (value: unknown): value is { error: string } =>
  typeof value === 'object' && value !== null && 'error' in value && typeof (value as { error: unknown }).error === 'string';

function commandAsk(params: CommandApprovalParams, cwd: string): PermissionAsk {
  const raw = params.command ?? params.commandActions?.map((action) => action.command).join(' && ') ?? '';
  const command = unwrapShellCommand(raw);
  const network = params.networkApprovalContext;
  const action: Action = network
    ? { kind: 'network', title: `Network access to ${network.host} (${network.protocol})`, command, cwd: params.cwd ?? cwd }
    : { kind: 'exec', title: `Run ${command}`, command, cwd: params.cwd ?? cwd };
  // Input to a running terminal or a human-only command is still an exec; say which.
  if (params.kind && params.kind !== 'command') action.detail = `Codex approval kind: ${params.kind}`;
  if (raw !== command) action.detail = [action.detail, `as run: ${raw}`].filter(Boolean).join('; ');
  return { action, reason: params.reason ?? action.title, toolCallId: params.itemId };
}

function fileChangeAsk(params: FileChangeApprovalParams, context: ApprovalContext): PermissionAsk {
  const changes = context.fileChanges(params.itemId) ?? [];
  const paths = changes.map((change) => change.kind.move_path ?? change.path);
  for (const change of changes) if (change.kind.move_path) paths.push(change.path);
  if (params.grantRoot) paths.push(params.grantRoot);
  const unique = [...new Set(paths)];
  const title = params.grantRoot && changes.length === 0 ? `Write under ${params.grantRoot}` : `Edit ${unique.join(', ') || 'files'}`;
  const action: Action = { kind: 'write', title, paths: unique };
  const kinds = changes.map((change) => `${change.kind.type} ${change.path}`);
  if (kinds.length > 0) action.detail = kinds.join('\n');
  return { action, reason: params.reason ?? title, toolCallId: params.itemId };
}

function permissionsAsk(params: PermissionsApprovalParams, cwd: string): PermissionAsk {
  const { network, fileSystem } = params.permissions;
  const writes = fileSystem?.write ?? [];
  const reads = fileSystem?.read ?? [];
  let action: Action;
  if (network?.enabled) action = { kind: 'network', title: 'Allow network access', cwd: params.cwd ?? cwd };
  else if (writes.length > 0) action = { kind: 'write', title: `Allow writes to ${writes.join(', ')}`, paths: writes };
  else if (reads.length > 0) action = { kind: 'read', title: `Allow reads of ${reads.join(', ')}`, paths: reads };
  else action = { kind: 'generic', title: 'Codex asks for more permissions', source: 'item/permissions/requestApproval' };
  action.source = 'item/permissions/requestApproval';
  action.detail = JSON.stringify(params.permissions).slice(0, 2000);
  return { action, reason: params.reason ?? action.title, toolCallId: params.itemId };
}

/** Grant exactly what was asked (without nulls), or nothing. */
function permissionsResponse(answer: PermissionAnswer, raw: unknown) {
  const params = PermissionsApprovalParams.safeParse(raw);
  if (!params.success || answer === 'deny' || answer === 'cancelled') return { permissions: {}, scope: 'turn' };
  const { network, fileSystem } = params.data.permissions;
  const permissions: Record<string, unknown> = {};
  if (network) permissions.network = network;
  if (fileSystem) permissions.fileSystem = fileSystem;
  return { permissions, scope: answer === 'allow_always' ? 'session' : 'turn' };
}

export const APPROVALS: Record<string, ApprovalTranslator> = {
  'item/commandExecution/requestApproval': {
    ask(raw, context) {
      const params = parsed(CommandApprovalParams, raw);
      return isError(params) ? params : commandAsk(params, context.cwd);
    },
    respond: decision,
  },
  'item/fileChange/requestApproval': {
    ask(raw, context) {
      const params = parsed(FileChangeApprovalParams, raw);
      return isError(params) ? params : fileChangeAsk(params, context);
    },
    respond: decision,
  },
  'item/permissions/requestApproval': {
    ask(raw, context) {
      const params = parsed(PermissionsApprovalParams, raw);
      return isError(params) ? params : permissionsAsk(params, context.cwd);
    },
    respond: permissionsResponse,
  },
};

/**
 * Any other `…/requestApproval` (a newer Codex): a generic card (I5: never a hang), answered
 * in the v2 `{decision}` convention both known approval methods share.
 */
export function genericApproval(method: string): ApprovalTranslator {
  return {
    ask(raw) {
      const params = AnyApprovalParams.safeParse(raw);
      const action: Action = { kind: 'generic', title: `Codex asks for approval (${method})`, source: method, detail: JSON.stringify(raw ?? null).slice(0, 2000) };
      const reason = params.success && params.data.reason ? params.data.reason : action.title;
      const itemId = params.success ? params.data.itemId : undefined;
      return { action, reason, ...(itemId ? { toolCallId: itemId } : {}) };
    },
    respond: decision,
  };
}

export function approvalFor(method: string): ApprovalTranslator | null {
  return APPROVALS[method] ?? (/\/requestApproval$/.test(method) ? genericApproval(method) : null);
}

export { isError as isTranslationError };
