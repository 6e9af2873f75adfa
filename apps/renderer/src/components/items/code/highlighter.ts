import type { HighlighterCore } from 'shiki/core';
import { grammarFor, loadGrammar } from './languages.js';

/** One run of same-coloured text; `light`/`dark` are the two themes' colours. */
export interface CodeToken {
  content: string;
  light: string | undefined;
  dark: string | undefined;
}
export type HighlightedLines = CodeToken[][];

/** Colours code in the languages loaded so far. */
export interface CodeHighlighter {
  /** Tokens for `code`, or null when the language is not loaded or the code too long to colour cheaply. */
  highlight(code: string, lang: string): HighlightedLines | null;
  /** Whether `lang`'s grammar is loaded, so `highlight` can colour it now. */
  knows(lang: string): boolean;
}

/**
 * Past this size a block stays plain: tokenizing is synchronous, and a block that long would
 * cost more than a frame. It stays readable and copyable.
 */
export const HIGHLIGHT_LIMIT = 20_000;
/** Highlighted blocks kept; a virtualized row that scrolls back in is coloured from here. */
const CACHE_SIZE = 300;

type ShikiModule = typeof import('./shiki-bundle.js');
const defaultSource = () => import('./shiki-bundle.js');
let source: () => Promise<ShikiModule> = defaultSource;
let core: Promise<Shiki | null> | null = null;
let ready: Shiki | null = null;
const grammars = new Map<string, Promise<boolean>>();

interface Shiki {
  highlighter: HighlighterCore;
  light: string;
  dark: string;
  loaded: Set<string>;
  cache: Map<string, HighlightedLines | null>;
  api: CodeHighlighter;
}

/** The highlighter if it can already colour `lang`, so a block rendered later is coloured at once. */
export function highlighterIfLoaded(lang: string | null): CodeHighlighter | null {
  const grammar = lang === null ? null : grammarFor(lang);
  return grammar && ready?.loaded.has(grammar) ? ready.api : null;
}

/**
 * Loads shiki's core (a chunk of its own) and `lang`'s grammar (another) the first time a
 * finished code block in that language asks for them. Resolves to null when the language is
 * not one Keel colours or something cannot be loaded: the block then simply stays plain.
 */
export function loadHighlighter(lang: string): Promise<CodeHighlighter | null> {
  const grammar = grammarFor(lang);
  if (!grammar) return Promise.resolve(null);
  core ??= source()
    .then(async (shiki) => {
      ready = wrap(await shiki.createKeelHighlighter(), shiki.LIGHT_THEME, shiki.DARK_THEME);
      return ready;
    })
    .catch((error: unknown) => {
      console.warn('Code highlighting is unavailable; code blocks stay plain.', error);
      return null;
    });
  const current = core;
  let loading = grammars.get(grammar);
  if (!loading) {
    loading = current.then(async (shiki) => {
      if (!shiki) return false;
      try {
        await shiki.highlighter.loadLanguage((await loadGrammar(grammar)).default);
        shiki.loaded.add(grammar);
        return true;
      } catch (error) {
        console.warn(`Code in ${grammar} stays plain: its grammar could not be loaded.`, error);
        return false;
      }
    });
    grammars.set(grammar, loading);
  }
  return Promise.all([current, loading]).then(([shiki, ok]) => (shiki && ok ? shiki.api : null));
}

/** Tests: load from somewhere else (e.g. a loader that fails), forgetting what was loaded. */
export function setHighlighterSourceForTests(next: (() => Promise<ShikiModule>) | null): void {
  source = next ?? defaultSource;
  core = null;
  ready = null;
  grammars.clear();
}

function wrap(highlighter: HighlighterCore, light: string, dark: string): Shiki {
  const loaded = new Set<string>();
  const cache = new Map<string, HighlightedLines | null>();
  const api: CodeHighlighter = {
    knows: (lang) => {
      const grammar = grammarFor(lang);
      return grammar !== null && loaded.has(grammar);
    },
    highlight(code, lang) {
      const grammar = grammarFor(lang);
      if (!grammar || !loaded.has(grammar) || code.length > HIGHLIGHT_LIMIT) return null;
      const key = `${grammar}\u0000${code}`;
      const hit = cache.get(key);
      if (hit !== undefined) {
        // Refresh its place: the cache drops the least recently used first.
        cache.delete(key);
        cache.set(key, hit);
        return hit;
      }
      let lines: HighlightedLines | null;
      try {
        lines = highlighter
          .codeToTokensWithThemes(code, { lang: grammar, themes: { light, dark } })
          .map((line) => line.map((token) => ({ content: token.content, light: token.variants.light?.color, dark: token.variants.dark?.color })));
      } catch {
        lines = null;
      }
      cache.set(key, lines);
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
      return lines;
    },
  };
  return { highlighter, light, dark, loaded, cache, api };
}
