import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  evaluate,
  formatPolicyError,
  loadPolicy,
  policyFiles,
  resolveDataDir,
  validatePolicyFile,
  writeStarterPolicy,
  type EvaluatedAction,
  type PolicyError,
  type PolicyInput,
} from '@keel/core';
import { withDataOption } from './options.js';
import { registerPolicyLog } from './policy-log.js';

interface CommonOptions {
  data?: string;
  workspace?: string;
  json?: boolean;
}

const print = (text: string) => process.stdout.write(`${text}\n`);
const workspaceOf = (options: { workspace?: string }) => path.resolve(options.workspace ?? process.cwd());
const dataDirOf = (options: { data?: string }) => resolveDataDir({ flag: options.data });

function printErrors(errors: readonly PolicyError[]): void {
  for (const error of errors) process.stderr.write(`${formatPolicyError(error)}\n`);
}

/** A shell-ish rendering of a word, for humans (JSON output carries the exact values). */
const shown = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

function describe(action: EvaluatedAction): string {
  const command = typeof action.program === 'string' ? [action.program, ...(action.args ?? [])].map(shown).join(' ') : null;
  switch (action.kind) {
    case 'exec':
      return command ?? `(not statically known) ${action.args.join(' ')}`;
    case 'write':
    case 'read':
      return action.paths.length > 0 ? action.paths.join(', ') : (action.target ?? '?');
    case 'network':
      return `${action.host ?? (action.remote ? `remote ${action.remote}` : 'unknown host')}${action.port ? `:${action.port}` : ''}${command ? `  (${command})` : ''}`;
    case 'deps':
      return `${action.manager}: ${action.packages.join(', ')}`;
    case 'push':
      return `${action.remote ?? '(default remote)'} ${action.branch ?? '(default branch)'}${action.force ? ' FORCE' : ''}`;
  }
}

function inputOf(options: { command?: string; write?: string; read?: string; network?: string }): PolicyInput {
  const given = (['command', 'write', 'read', 'network'] as const).filter((key) => options[key] !== undefined);
  if (given.length !== 1) throw new Error('Give exactly one of --command, --write, --read or --network.');
  const key = given[0]!;
  const value = options[key]!;
  switch (key) {
    case 'command':
      return { command: value };
    case 'write':
      return { write: value };
    case 'read':
      return { read: value };
    case 'network':
      return { network: value };
  }
}

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description("validate, explain and start the policy that decides every dangerous action, and read a run's decisions");

  withDataOption(policy.command('validate'))
    .description('check a policy file, or the files in force (user and workspace): YAML, schema and examples; exit 1 on any error')
    .argument('[file]', 'a policy file (default: <data>/policy.yaml and <workspace>/.keel/policy.yaml)')
    .option('--workspace <dir>', 'the workspace whose .keel/policy.yaml to check (default: the current directory)')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, options: CommonOptions) => {
      const files = file !== undefined ? [path.resolve(file)] : policyFiles({ dataDir: dataDirOf(options), workspace: workspaceOf(options) }).map((entry) => entry.file);
      const results: Array<{ file: string; ok: boolean; skipped?: boolean; errors: PolicyError[] }> = [];
      for (const candidate of files) {
        if (file === undefined && !fs.existsSync(candidate)) {
          results.push({ file: candidate, ok: true, skipped: true, errors: [] });
          continue;
        }
        const result = await validatePolicyFile(candidate);
        results.push({ file: candidate, ok: result.ok, errors: result.ok ? [] : result.errors });
      }
      const ok = results.every((result) => result.ok);
      let hash: string | null = null;
      if (ok && file === undefined) {
        const loaded = await loadPolicy({ dataDir: dataDirOf(options), workspace: workspaceOf(options) });
        if (loaded.ok) hash = loaded.policy.hash;
      }
      if (options.json) {
        print(JSON.stringify({ ok, files: results, ...(hash ? { policy_hash: hash } : {}) }, null, 2));
      } else {
        for (const result of results) {
          if (result.skipped) print(`none   ${result.file} (no file: not a layer)`);
          else if (result.ok) print(`ok     ${result.file}`);
          else {
            print(`ERROR  ${result.file}`);
            printErrors(result.errors);
          }
        }
        const errorCount = results.reduce((sum, result) => sum + result.errors.length, 0);
        print(ok ? `policy valid${hash ? ` (hash ${hash})` : ''}` : `policy invalid: ${errorCount} error${errorCount === 1 ? '' : 's'}`);
      }
      process.exitCode = ok ? 0 : 1;
    });

  withDataOption(policy.command('explain'))
    .description('say what the policy decides for a command, a write, a read or a host, and why')
    .option('--workspace <dir>', 'the workspace (default: the current directory)')
    .option('--policy <file>', "use this file as the workspace layer instead of the workspace's .keel/policy.yaml")
    .option('--cwd <dir>', 'the directory the command runs in (default: the workspace)')
    .option('--command <string>', 'a shell command line')
    .option('--write <path>', 'a path to be written')
    .option('--read <path>', 'a path to be read')
    .option('--network <host>', 'a host or URL to connect to')
    .option('--unattended', 'judge as a headless run: nobody can answer an ask')
    .option('--json', 'print JSON')
    .action(async (options: CommonOptions & { policy?: string; cwd?: string; command?: string; write?: string; read?: string; network?: string; unattended?: boolean }) => {
      const input = inputOf(options);
      const workspace = workspaceOf(options);
      const loaded = await loadPolicy({ dataDir: dataDirOf(options), workspace, file: options.policy ?? null });
      if (!loaded.ok) {
        if (options.json) print(JSON.stringify({ ok: false, errors: loaded.errors }, null, 2));
        printErrors(loaded.errors);
        process.stderr.write('keel: the policy is invalid; nothing was evaluated.\n');
        process.exitCode = 1;
        return;
      }
      const result = evaluate(loaded.policy, input, {
        workspace,
        cwd: path.resolve(options.cwd ?? workspace),
        unattended: options.unattended === true,
      });
      if (options.json) {
        print(
          JSON.stringify(
            {
              decision: result.decision,
              rule: result.rule,
              layer: result.layer,
              why: result.why,
              policy_hash: result.policyHash,
              files: loaded.files,
              actions: result.actions.map(({ kind, decision, rule, layer, why, ...action }) => ({ kind, decision, rule, layer, why, ...action })),
            },
            null,
            2,
          ),
        );
        return;
      }
      print(`${result.decision.toUpperCase()}${result.rule ? ` — rule ${result.rule} (${result.layer})` : ''}: ${result.why}`);
      for (const action of result.actions) {
        print(`  ${action.decision.padEnd(5)}  ${action.kind.padEnd(7)} ${describe(action)}`);
        print(`         ${' '.repeat(7)} ${action.rule ? `rule ${action.rule}: ` : ''}${action.why}`);
      }
      print(`policy ${result.policyHash}${loaded.files.length > 0 ? ` (built-in + ${loaded.files.join(', ')})` : ' (built-in defaults only)'}`);
    });

  policy
    .command('init')
    .description('write a commented starter .keel/policy.yaml in the workspace (never overwrites one)')
    .option('--workspace <dir>', 'the workspace (default: the current directory)')
    .action((options: { workspace?: string }) => {
      const file = writeStarterPolicy(workspaceOf(options));
      print(`wrote ${file}; check it with \`keel policy validate\``);
    });

  registerPolicyLog(policy);
}
