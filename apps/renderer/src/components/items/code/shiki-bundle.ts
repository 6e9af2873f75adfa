import { createHighlighterCore, type HighlighterCore } from 'shiki/core';
import { createJavaScriptRegexEngine } from 'shiki/engine/javascript';
import githubDark from 'shiki/themes/github-dark.mjs';
import githubLight from 'shiki/themes/github-light.mjs';

/**
 * Shiki's core, its regex engine and the two themes, in one module that is only ever imported
 * dynamically (highlighter.ts), so the bundler puts it in a chunk of its own and the first
 * paint never waits for it. Each language is a further chunk, loaded the first time a block
 * in that language is shown (languages.ts).
 *
 * The JavaScript regex engine, not Oniguruma's WebAssembly: the page's CSP has no
 * 'wasm-unsafe-eval'.
 */
export const LIGHT_THEME = 'github-light';
export const DARK_THEME = 'github-dark';

export function createKeelHighlighter(): Promise<HighlighterCore> {
  return createHighlighterCore({ themes: [githubLight, githubDark], langs: [], engine: createJavaScriptRegexEngine() });
}
