import type { Theme } from '@keel/core/contract';

/** Applies the theme setting: 'system' follows prefers-color-scheme; light/dark force it. */
export function applyTheme(theme: Theme): void {
  const root = globalThis.document?.documentElement;
  if (!root) return;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}
