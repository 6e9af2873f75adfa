import fs from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { PolicyFile, type PolicyAction, type PolicyLayerName, type PolicyRule } from '../contract/schemas/policy.js';
import { hostOf } from './commands.js';
import { BUILTIN_POLICY, combineLayers, type EffectivePolicy, type PolicyLayer } from './layers.js';
import { ruleMatches } from './match.js';
import { commandActions, loadShellParser } from './shell.js';

/** One problem with a policy file, placed as precisely as the file allows. */
export interface PolicyError {
  /** The file, or null for text given directly. */
  file: string | null;
  /** 1-based; null when the problem has no place (the file cannot be read). */
  line: number | null;
  column: number | null;
  /** Where in the document (`rules.2.decision`), empty for the whole file. */
  path: Array<string | number>;
  code: 'io' | 'yaml' | 'schema' | 'example';
  message: string;
}

export type PolicyParseResult = { ok: true; policy: PolicyFile } | { ok: false; errors: PolicyError[] };

/** `file:line:column: message (at rules[2].decision)`. */
export function formatPolicyError(error: PolicyError): string {
  const place = [error.file ?? '<policy>', error.line, error.column].filter((part) => part !== null).join(':');
  const at = error.path.length > 0 ? ` (at ${error.path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${part}`)).join('')})` : '';
  return `${place}: ${error.message}${at}`;
}

/** The offset of the YAML node at `at` (or of its nearest existing ancestor); a key's own position when `key`. */
function offsetOf(doc: Document, at: ReadonlyArray<PropertyKey>, key?: string): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
  const walk = [...at, ...(key === undefined ? [] : [key])];
  for (const [index, segment] of walk.entries()) {
    const last = index === walk.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      const keyRange = (pair.key as { range?: [number, number, number] }).range;
      const value = pair.value as { range?: [number, number, number] } | null;
      if (last && key !== undefined) {
        offset = keyRange?.[0] ?? offset;
        break;
      }
      offset = value?.range?.[0] ?? keyRange?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}

function place(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function valueAt(value: unknown, at: ReadonlyArray<string | number>): unknown {
  let node = value;
  for (const segment of at) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

const issuePath = (issue: z.core.$ZodIssue): Array<string | number> => issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));

/**
 * Parses and validates one policy file's text: YAML (syntax errors and duplicate keys with
 * line and column), then the zod schema (every issue placed on the YAML node it is about).
 * Examples are not checked here (see `validatePolicyText`).
 */
export function parsePolicyText(text: string, file: string | null = null): PolicyParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((error) => ({
        file,
        ...place(lineCounter, error.pos[0]),
        path: [],
        code: 'yaml',
        message: `YAML: ${error.message.split('\n')[0]}`,
      })),
    };
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = PolicyFile.safeParse(value === undefined ? null : value);
  if (parsed.success) return { ok: true, policy: parsed.data };
  const errors: PolicyError[] = [];
  for (const issue of parsed.error.issues) {
    const at = issuePath(issue);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ file, ...place(lineCounter, offsetOf(doc, at, key)), path: [...at, key], code: 'schema', message: `unknown key "${key}"` });
      }
      continue;
    }
    const missing = at.length > 0 && valueAt(value, at) === undefined;
    errors.push({
      file,
      ...place(lineCounter, offsetOf(doc, at)),
      path: at,
      code: 'schema',
      message: missing ? `missing required key "${at[at.length - 1]}"` : issue.message,
    });
  }
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return { ok: false, errors };
}

/** A lexical stand-in for the world, so examples are checked the same on every machine. */
const EXAMPLE_WORKSPACE = '/workspace';
const EXAMPLE_HOME = '/home/user';

function exampleActions(rule: PolicyRule, example: string): PolicyAction[] {
  const options = { cwd: EXAMPLE_WORKSPACE, home: EXAMPLE_HOME };
  if (rule.write || rule.read) {
    const target = example.startsWith('~/') ? EXAMPLE_HOME + example.slice(1) : example;
    const real = path.posix.resolve(EXAMPLE_WORKSPACE, target);
    const inside = real === EXAMPLE_WORKSPACE || real.startsWith(`${EXAMPLE_WORKSPACE}/`);
    return [{ kind: rule.write ? 'write' : 'read', target: example, paths: [real], inside }];
  }
  if (rule.network && !/\s/.test(example.trim())) {
    const found = hostOf(example.trim(), false) ?? hostOf(example.trim(), true);
    return [{ kind: 'network', host: found?.host ?? example.trim().toLowerCase() }];
  }
  return commandActions(example, options);
}

/** Whether `rule` matches at least one action of `example` (a command, or a path/host for path/network rules). */
export function ruleMatchesExample(rule: PolicyRule, example: string): boolean {
  return exampleActions(rule, example).some((action) => ruleMatches(rule, { action, trusted: true, workspace: EXAMPLE_WORKSPACE, home: EXAMPLE_HOME }));
}

/** Checks every rule's `match` and `not_match` examples. Needs the shell parser loaded. */
export function checkExamples(policy: PolicyFile, text: string | null, file: string | null): PolicyError[] {
  const errors: PolicyError[] = [];
  const lineCounter = new LineCounter();
  const doc = text === null ? null : parseDocument(text, { lineCounter, uniqueKeys: true });
  const at = (segments: Array<string | number>) => (doc === null ? { line: null, column: null } : place(lineCounter, offsetOf(doc, segments)));
  policy.rules?.forEach((rule, index) => {
    for (const [field, expected] of [['match', true], ['not_match', false]] as const) {
      rule[field]?.forEach((example, exampleIndex) => {
        if (ruleMatchesExample(rule, example) === expected) return;
        const segments = ['rules', index, field, exampleIndex];
        errors.push({
          file,
          ...at(segments),
          path: segments,
          code: 'example',
          message: expected
            ? `rule "${rule.id}" does not match its own example ${JSON.stringify(example)}`
            : `rule "${rule.id}" matches ${JSON.stringify(example)}, listed under not_match`,
        });
      });
    }
  });
  return errors;
}

/** Full validation of one file's text: YAML, schema, then examples. */
export async function validatePolicyText(text: string, file: string | null = null): Promise<PolicyParseResult> {
  const parsed = parsePolicyText(text, file);
  if (!parsed.ok) return parsed;
  await loadShellParser();
  const errors = checkExamples(parsed.policy, text, file);
  return errors.length > 0 ? { ok: false, errors } : parsed;
}

/** Reads and fully validates one policy file. A missing file is an error here. */
export async function validatePolicyFile(file: string): Promise<PolicyParseResult> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, errors: [{ file, line: null, column: null, path: [], code: 'io', message: `cannot read the policy file: ${(error as Error).message}` }] };
  }
  return validatePolicyText(text, file);
}

export const USER_POLICY_FILE = 'policy.yaml';
export const WORKSPACE_POLICY_FILE = path.join('.keel', 'policy.yaml');

/** The files a policy is loaded from (each may be missing). */
export function policyFiles(options: PolicyLoadOptions): Array<{ name: PolicyLayerName; file: string }> {
  const files: Array<{ name: PolicyLayerName; file: string }> = [];
  if (options.dataDir) files.push({ name: 'user', file: path.join(options.dataDir, USER_POLICY_FILE) });
  if (options.file) files.push({ name: 'workspace', file: path.resolve(options.file) });
  else if (options.workspace) files.push({ name: 'workspace', file: path.join(options.workspace, WORKSPACE_POLICY_FILE) });
  return files;
}

export interface PolicyLoadOptions {
  /** Keel's data directory: `<data>/policy.yaml` is the user's layer. */
  dataDir?: string | null;
  /** The workspace: `<workspace>/.keel/policy.yaml` is its layer. */
  workspace?: string | null;
  /** A file to use as the workspace layer instead (`keel policy explain --policy FILE`). */
  file?: string | null;
}

export type PolicyLoadResult =
  | { ok: true; policy: EffectivePolicy; files: string[] }
  | { ok: false; errors: PolicyError[]; files: string[] };

/**
 * Loads the policy in force: the built-in layer, then `<data>/policy.yaml`, then the workspace's
 * `.keel/policy.yaml` (or `file`). A missing user or workspace file is simply no layer (a
 * missing explicit `file` is an error); any invalid file makes the whole load fail, so the
 * caller keeps the last valid policy.
 */
export async function loadPolicy(options: PolicyLoadOptions = {}): Promise<PolicyLoadResult> {
  await loadShellParser();
  const layers: PolicyLayer[] = [{ name: 'builtin', file: null, policy: BUILTIN_POLICY }];
  const errors: PolicyError[] = [];
  const files: string[] = [];
  for (const { name, file } of policyFiles(options)) {
    if (!fs.existsSync(file) && !(options.file && name === 'workspace')) continue;
    files.push(file);
    const result = await validatePolicyFile(file);
    if (result.ok) layers.push({ name, file, policy: result.policy });
    else errors.push(...result.errors);
  }
  if (errors.length > 0) return { ok: false, errors, files };
  return { ok: true, policy: combineLayers(layers), files };
}
