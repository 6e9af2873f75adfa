import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { Document, isSeq, parseDocument } from 'yaml';
import { KeelRpcError, type Action, type PolicyDecision, type PolicyRule } from '../contract/index.js';
import { writeFileAtomic } from '../fsutil/index.js';
import { evaluate, type EvaluatedAction, type PolicyContext } from './evaluate.js';
import { combineLayers, type EffectivePolicy } from './layers.js';
import { formatPolicyError, validatePolicyText, WORKSPACE_POLICY_FILE } from './load.js';
import { requestInput } from './requests.js';

/** "Always allow this": the rules that would stop an approval card from asking, as a diff of the workspace file. */
export interface RuleProposal {
  file: string;
  rules: PolicyRule[];
  /** sha256 of the file now (null: it does not exist); `applyRuleProposal` refuses if it changed. */
  before: string | null;
  text: string;
  diff: string;
  /** The new file validates (YAML, schema, the rules' own examples). */
  valid: boolean;
  errors: string[];
  /** What the policy would decide for the action with the rules added (a stricter rule may still deny or ask). */
  decision: PolicyDecision;
  why: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `<workspace>/.keel/policy.yaml`, refused when `.keel` or the file is a symlink or anything
 * other than a plain directory and file: a repository (or an agent) could point them anywhere,
 * and "Always allow this" writes only the workspace's own policy file.
 */
function workspacePolicyFile(workspace: string): string {
  const file = path.join(workspace, WORKSPACE_POLICY_FILE);
  for (const [target, want] of [[path.dirname(file), 'directory'], [file, 'file']] as const) {
    const stat = fs.lstatSync(target, { throwIfNoEntry: false });
    if (stat && !(want === 'directory' ? stat.isDirectory() : stat.isFile())) {
      refuse(`${target} is ${stat.isSymbolicLink() ? 'a symlink' : `not a ${want}`}; Keel writes a rule only into a plain ${WORKSPACE_POLICY_FILE} inside the workspace. Add it by hand.`);
    }
  }
  return file;
}
/** Characters a pattern word would read as a glob, or a word split. */
const NOT_LITERAL = /[\s*?[\]{}!\\]/;

function refuse(message: string): never {
  throw new KeelRpcError('invalid_input', message);
}

const literal = (word: string, what: string) => {
  if (word === '' || NOT_LITERAL.test(word)) refuse(`Cannot write ${JSON.stringify(word)} as a ${what} pattern (spaces or glob characters); add a rule to .keel/policy.yaml by hand.`);
  return word;
};

/** One allow rule per kind of part that asked, matching exactly what asked (never a broader glob). */
function rulesFor(asks: readonly EvaluatedAction[], workspace: string, title: string): PolicyRule[] {
  const byKind = new Map<string, Set<string>>();
  const push: Array<NonNullable<PolicyRule['push']>> = [];
  const add = (kind: string, value: string) => {
    const set = byKind.get(kind) ?? new Set<string>();
    set.add(value);
    byKind.set(kind, set);
  };
  for (const part of asks) {
    if (part.unknown !== undefined) refuse(`Part of this is not statically known (${part.unknown}); no rule can allow it.`);
    switch (part.kind) {
      case 'exec': {
        if (!part.program || part.program.includes('/')) refuse('An allow rule names a program by its bare name on PATH; this one is a path.');
        if ((part.dynamicArgs ?? []).length > 0 || part.moreArgs) refuse('Some arguments are only known when it runs; no exact rule can allow it.');
        add('exec', [literal(part.program, 'command'), ...part.args.map((arg) => literal(arg, 'command'))].join(' '));
        break;
      }
      case 'write':
      case 'read':
        for (const target of part.paths) {
          const relative = path.relative(workspace, target);
          const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
          add(part.kind, literal(inside ? relative.split(path.sep).join('/') : target, 'path'));
        }
        break;
      case 'network':
        if (!part.host) refuse('The host is not known; no rule can allow it.');
        add('network', literal(part.host, 'host'));
        break;
      case 'deps':
        for (const name of part.packages) add('deps', literal(name, 'package'));
        break;
      case 'push':
        push.push({ force: part.force, ...(part.remote ? { remote: literal(part.remote, 'remote') } : {}), ...(part.branch ? { branch: literal(part.branch, 'branch') } : {}) });
        break;
    }
  }
  const why = `Allowed from an approval card: ${title}`.slice(0, 300);
  const id = (kind: string, matcher: unknown) => `allow-${kind}-${sha256(JSON.stringify(matcher)).slice(0, 8)}`;
  const rules: PolicyRule[] = [];
  for (const [kind, values] of byKind) {
    const list = [...values];
    const rule: PolicyRule = { id: id(kind, list), [kind]: list, decision: 'allow', why } as PolicyRule;
    // Examples make the rule check itself when the policy loads.
    if (kind === 'exec' || kind === 'write' || kind === 'read') rule.match = [...list];
    rules.push(rule);
  }
  for (const matcher of push) rules.push({ id: id('push', matcher), push: matcher, decision: 'allow', why });
  return rules;
}

/**
 * `text` with `rules` appended to its `rules:` list, by inserting their YAML after the list's
 * last item (so every other line, comments included, stays as it was); a file without the list
 * gets one at its end. A flow list (`rules: [...]`) is rewritten through the YAML document.
 */
function withRules(text: string, rules: readonly PolicyRule[]): string {
  const doc = parseDocument(text);
  const list = doc.get('rules', true);
  const block = (indent: string) =>
    new Document(rules, { aliasDuplicateObjects: false })
      .toString({ lineWidth: 0 })
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => `${indent}${line}\n`)
      .join('');
  const ending = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  if (list === undefined || list === null) return `${ending}rules:\n${block('  ')}`;
  if (isSeq(list) && !list.flow && list.items.length > 0) {
    const first = list.items[0] as { range?: [number, number, number] };
    const last = list.items[list.items.length - 1] as { range?: [number, number, number] };
    if (first.range && last.range) {
      const lineStart = text.lastIndexOf('\n', first.range[0] - 1) + 1;
      const indent = /^ */.exec(text.slice(lineStart))![0];
      const at = last.range[2];
      const before = text.slice(0, at);
      return `${before}${before.endsWith('\n') ? '' : '\n'}${block(indent)}${text.slice(at)}`;
    }
  }
  for (const rule of rules) {
    if (isSeq(list)) list.add(doc.createNode(rule));
    else doc.set('rules', doc.createNode([rule]));
  }
  return doc.toString({ lineWidth: 0 });
}

/**
 * The rules that would allow `action` (the parts the policy in force asks about), added to the
 * workspace's `.keel/policy.yaml` (comments and order kept), as the new text, a unified diff,
 * whether it validates, and what the policy would then decide for the action.
 */
export async function proposeRule(policy: EffectivePolicy, action: Action, context: PolicyContext): Promise<RuleProposal> {
  const input = requestInput(action);
  if (input === null) refuse('Keel cannot tell what this request touches, so no rule can allow it.');
  const workspace = fs.realpathSync(context.workspace);
  const evaluation = evaluate(policy, input, { ...context, unattended: false });
  if (evaluation.decision === 'deny') refuse(`The policy denies this (${evaluation.rule ? `rule ${evaluation.rule}` : 'a default'}: ${evaluation.why}); an allow rule would not change that.`);
  const asks = evaluation.actions.filter((part) => part.decision === 'ask');
  if (asks.length === 0) refuse('The policy in force already allows this.');
  const rules = rulesFor(asks, workspace, action.title);

  const file = workspacePolicyFile(workspace);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  const base = current ?? 'schema_version: 1\n';
  const doc = parseDocument(base);
  const known = new Set(((doc.toJS() as { rules?: Array<{ id?: string }> } | null)?.rules ?? []).map((rule) => rule.id));
  const fresh = rules.filter((rule) => !known.has(rule.id));
  if (fresh.length === 0) refuse(`The workspace policy already has ${rules.map((rule) => rule.id).join(', ')}; reload it.`);
  const text = withRules(base, fresh);
  const validation = await validatePolicyText(text, file);
  const errors = validation.ok ? [] : validation.errors.map(formatPolicyError);
  let decision: PolicyDecision = evaluation.decision;
  let why = 'the new file is invalid; nothing changes';
  if (validation.ok) {
    const layers = [...policy.layers.filter((layer) => layer.name !== 'workspace'), { name: 'workspace' as const, file, policy: validation.policy }];
    const after = evaluate(combineLayers(layers), input, { ...context, unattended: false });
    decision = after.decision;
    why = after.why;
  }
  const relative = path.relative(workspace, file);
  return {
    file,
    rules: fresh,
    before: current === null ? null : sha256(current),
    text,
    // Without jsdiff's `===` separator line: a plain unified diff, as git shows it.
    diff: createTwoFilesPatch(current === null ? '/dev/null' : `a/${relative}`, `b/${relative}`, current ?? '', text, undefined, undefined, { context: 3 }).replace(/^=+\n/, ''),
    valid: validation.ok,
    errors,
    decision,
    why,
  };
}

/** Writes a validated proposal atomically, unless the file changed since it was made. Returns the new sha256. */
/**
 * Checks that `proposal` can still be written as shown (valid, confined to the workspace, the file
 * unchanged since it was proposed); returns the sha256 the file will have. The caller records its
 * intent (policy.rule_added) with that digest, then writes with `applyRuleProposal`.
 */
export function checkRuleProposal(proposal: RuleProposal): string {
  if (!proposal.valid) refuse(`The new policy file would be invalid: ${proposal.errors.join('; ')}`);
  workspacePolicyFile(path.dirname(path.dirname(proposal.file))); // Checked again right before the write.
  const current = fs.existsSync(proposal.file) ? sha256(fs.readFileSync(proposal.file, 'utf8')) : null;
  if (current !== proposal.before) throw new KeelRpcError('conflict', `${proposal.file} changed since the rule was proposed; propose it again.`);
  return sha256(proposal.text);
}

/** Writes the proposal atomically (after `checkRuleProposal`, checked again here); returns the file's new sha256. */
export function applyRuleProposal(proposal: RuleProposal): string {
  const after = checkRuleProposal(proposal);
  fs.mkdirSync(path.dirname(proposal.file), { recursive: true });
  const mode = fs.existsSync(proposal.file) ? fs.statSync(proposal.file).mode & 0o777 : 0o644;
  writeFileAtomic(proposal.file, proposal.text);
  fs.chmodSync(proposal.file, mode);
  return after;
}
