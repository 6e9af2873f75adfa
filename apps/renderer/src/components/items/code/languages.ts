import type { LanguageRegistration } from 'shiki/core';

type LanguageModule = { default: LanguageRegistration[] };

/**
 * The languages code blocks are coloured in: a small fixed set, each its own lazily loaded
 * chunk (a grammar is 10–190 kB). Anything else stays plain text.
 */
const LOADERS: Record<string, () => Promise<LanguageModule>> = {
  css: () => import('shiki/langs/css.mjs'),
  diff: () => import('shiki/langs/diff.mjs'),
  go: () => import('shiki/langs/go.mjs'),
  html: () => import('shiki/langs/html.mjs'),
  javascript: () => import('shiki/langs/javascript.mjs'),
  json: () => import('shiki/langs/json.mjs'),
  jsx: () => import('shiki/langs/jsx.mjs'),
  python: () => import('shiki/langs/python.mjs'),
  rust: () => import('shiki/langs/rust.mjs'),
  shellscript: () => import('shiki/langs/shellscript.mjs'),
  sql: () => import('shiki/langs/sql.mjs'),
  toml: () => import('shiki/langs/toml.mjs'),
  tsx: () => import('shiki/langs/tsx.mjs'),
  typescript: () => import('shiki/langs/typescript.mjs'),
  yaml: () => import('shiki/langs/yaml.mjs'),
};

const ALIASES: Record<string, string> = {
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  sh: 'shellscript',
  bash: 'shellscript',
  shell: 'shellscript',
  zsh: 'shellscript',
  console: 'shellscript',
  py: 'python',
  yml: 'yaml',
  rs: 'rust',
  golang: 'go',
  patch: 'diff',
  jsonc: 'json',
};

/** The grammar's name for a block's language tag (`ts`, `TypeScript`, `bash`…), or null when not coloured. */
export function grammarFor(lang: string): string | null {
  const name = lang.trim().toLowerCase();
  const grammar = ALIASES[name] ?? name;
  return Object.hasOwn(LOADERS, grammar) ? grammar : null;
}

export function loadGrammar(grammar: string): Promise<LanguageModule> {
  const loader = LOADERS[grammar];
  if (!loader) return Promise.reject(new Error(`no grammar for ${grammar}`));
  return loader();
}
