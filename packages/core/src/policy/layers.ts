import { createHash } from 'node:crypto';
import type {
  PolicyDecision,
  PolicyDefaults,
  PolicyDeps,
  PolicyFile,
  PolicyLayerName,
  PolicyOnViolation,
  PolicyRule,
} from '../contract/schemas/policy.js';
import { canonicalJson } from '../contract/index.js';

/**
 * Keel's built-in defaults. A write inside the workspace asks until a policy file says
 * otherwise (the starter file `keel policy init` writes allows it): with no policy at all,
 * nothing an agent changes goes unseen.
 */
export const DEFAULT_DEFAULTS: Required<PolicyDefaults> = {
  exec: 'ask',
  write_inside: 'ask',
  write_outside: 'deny',
  read_inside: 'allow',
  read_outside: 'ask',
  network: 'ask',
  deps: 'ask',
  push: 'ask',
  unattended_ask: 'deny',
};

/**
 * Keel's built-in layer: the defaults every policy starts from, and rules for commands that
 * only print, test or change directory, and for wrappers whose inner command is always judged
 * on its own (so allowing the wrapper allows nothing by itself).
 */
export const BUILTIN_POLICY: PolicyFile = {
  schema_version: 1,
  defaults: { ...DEFAULT_DEFAULTS },
  rules: [
    {
      id: 'keel.shell-builtins',
      exec: ['cd *', 'pwd *', 'echo *', 'printf *', 'true *', 'false *', ': *', 'test *', '[ *', 'exit *', 'return *', 'set -e', 'set -eu', 'set -euo pipefail', 'set -o pipefail'],
      decision: 'allow',
      why: 'Shell builtins that only print, test, exit or change directory; their redirections and substitutions are judged on their own.',
    },
    {
      id: 'keel.wrappers',
      exec: ['sh -c *', 'sh -lc *', 'bash -c *', 'bash -lc *', 'bash -l -c *', 'zsh -c *', 'zsh -lc *', 'dash -c *', 'env *', 'time *', 'nice *', 'nohup *', 'timeout *', 'command *', 'builtin *'],
      decision: 'allow',
      why: 'A shell string or wrapped command is parsed and every command in it is judged on its own.',
    },
    {
      id: 'keel.policy-files',
      write: ['.keel/**'],
      decision: 'ask',
      why: "The workspace policy is the person's: an agent's change to the files that decide what it may do always asks (edit .keel/ yourself, or use Always allow this).",
    },
  ],
};

/** One layer in force: where it came from and what it says. */
export interface PolicyLayer {
  name: PolicyLayerName;
  /** The file it was read from; null for the built-in layer. */
  file: string | null;
  policy: PolicyFile;
}

export interface EffectiveRule extends PolicyRule {
  layer: PolicyLayerName;
  file: string | null;
}

/** The policy in force: the layers, merged. Pure data; `hash` identifies it in the ledger. */
export interface EffectivePolicy {
  /** sha256 (hex) of the canonical JSON of the layers (name and content, in order). */
  hash: string;
  layers: PolicyLayer[];
  /** Each key from the last layer that sets it. */
  defaults: Required<PolicyDefaults>;
  /** Which layer set each default. */
  defaultLayers: Partial<Record<keyof PolicyDefaults, PolicyLayerName>>;
  /** Each key from the last layer that sets it. */
  deps: PolicyDeps & { layer: PolicyLayerName | null };
  onViolation: PolicyOnViolation;
  /** Every rule of every layer, in layer order then file order. */
  rules: EffectiveRule[];
}

export const STRICTNESS: Record<PolicyDecision, number> = { allow: 0, ask: 1, deny: 2 };
export const stricter = (a: PolicyDecision, b: PolicyDecision): PolicyDecision => (STRICTNESS[b] > STRICTNESS[a] ? b : a);

/** The policy hash: sha256 of the canonical JSON of the layers in force. */
export function policyHash(layers: readonly PolicyLayer[]): string {
  return createHash('sha256')
    .update(canonicalJson(layers.map((layer) => ({ layer: layer.name, policy: layer.policy }))))
    .digest('hex');
}

/**
 * Merges layers (already validated) in order: defaults, deps settings and on_violation key by
 * key, the last layer that sets a key winning; rules from every layer, all in force.
 */
export function combineLayers(layers: readonly PolicyLayer[]): EffectivePolicy {
  const defaults: Required<PolicyDefaults> = { ...DEFAULT_DEFAULTS };
  const defaultLayers: Partial<Record<keyof PolicyDefaults, PolicyLayerName>> = {};
  const deps: EffectivePolicy['deps'] = { layer: null };
  let onViolation: PolicyOnViolation = 'record';
  const rules: EffectiveRule[] = [];
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.policy.defaults ?? {}) as Array<[keyof PolicyDefaults, never]>) {
      if (value === undefined) continue;
      defaults[key] = value;
      defaultLayers[key] = layer.name;
    }
    if (layer.policy.deps) {
      for (const [key, value] of Object.entries(layer.policy.deps)) if (value !== undefined) (deps as Record<string, unknown>)[key] = value;
      deps.layer = layer.name;
    }
    if (layer.policy.on_violation) onViolation = layer.policy.on_violation;
    for (const rule of layer.policy.rules ?? []) rules.push({ ...rule, layer: layer.name, file: layer.file });
  }
  return { hash: policyHash(layers), layers: [...layers], defaults, defaultLayers, deps, onViolation, rules };
}
