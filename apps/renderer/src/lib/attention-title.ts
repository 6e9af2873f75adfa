import { attentionTitle, useAttention } from './attention.js';

export { attentionTitle };

/** Keeps the tab title and favicon telling, from another tab or window, what needs a person; notifies in the background. */
export function useAttentionTitle(): void {
  useAttention();
}
