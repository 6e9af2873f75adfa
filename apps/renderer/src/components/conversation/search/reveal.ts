import type { TranscriptItem } from '@keel/core/contract';
import { useUi } from '../../../stores/ui.js';
import { itemSeq } from '../../items/TranscriptItemView.js';

/**
 * Opens the collapsed part of an item that holds the query, so the match the search moved to
 * can be seen: a thought's text, tool or command output, a recovery's detail. Uses the same
 * expanded-state keys as the item views (TranscriptItemView's `stateKey`).
 */
export function expandForMatch(runId: string, item: TranscriptItem, query: string): void {
  const needle = query.toLowerCase();
  const has = (text: string | null | undefined) => !!text && text.toLowerCase().includes(needle);
  const key = `${runId}:${item.kind}:${itemSeq(item)}`;
  const { expanded, setExpanded } = useUi.getState();
  const open = (stateKey: string) => {
    if (!expanded[stateKey]) setExpanded(stateKey, true);
  };
  switch (item.kind) {
    case 'thought':
      if (has(item.text)) open(key);
      break;
    case 'tool':
    case 'command':
      if (has(item.output)) open(`${key}:output`);
      break;
    case 'recovery':
      if (has(item.detail)) open(`${key}:detail`);
      break;
    default:
      break;
  }
}
