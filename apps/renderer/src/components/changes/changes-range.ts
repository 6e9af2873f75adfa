import type { ChangesCheckpoint, ChangesEnd, RunChangedFile } from '@keel/core/contract';

/** A choice of the range selector: the whole run, the whole run up to now, or one turn. */
export interface RangeOption {
  key: string;
  label: string;
  from?: number;
  to?: ChangesEnd;
}

export const WHOLE_RUN = 'all';
export const UP_TO_NOW = 'now';

const turnLabel = (turn: number) => (turn === 0 ? 'baseline' : `turn ${turn}`);

/**
 * The ranges a run offers, from its checkpoints (oldest first): the whole run (first → latest),
 * the whole run including what is not checkpointed yet (→ now), then each turn against the
 * checkpoint before it (a skipped turn's changes fall into the next one: said in its label).
 */
export function rangeOptions(checkpoints: readonly ChangesCheckpoint[]): RangeOption[] {
  const options: RangeOption[] = [];
  const first = checkpoints[0];
  const last = checkpoints.at(-1);
  options.push({ key: WHOLE_RUN, label: first && last && last.turn !== first.turn ? `Whole run (${turnLabel(first.turn)} → ${turnLabel(last.turn)})` : 'Whole run' });
  options.push({ key: UP_TO_NOW, label: 'Whole run, up to now (files as they are)', to: 'now' });
  for (let i = checkpoints.length - 1; i >= 1; i--) {
    const previous = checkpoints[i - 1]!.turn;
    const turn = checkpoints[i]!.turn;
    const label = previous === turn - 1 ? `Turn ${turn}` : `Turn ${turn} (since ${turnLabel(previous)})`;
    options.push({ key: `turn:${turn}`, label, from: previous, to: turn });
  }
  return options;
}

/** The option for a key, or the whole run when the key is gone (the run changed). */
export const optionFor = (options: readonly RangeOption[], key: string): RangeOption => options.find((option) => option.key === key) ?? options[0]!;

/** A file's one-letter mark and its word (the tooltip). */
export function statusMark(file: RunChangedFile): { mark: string; word: string } {
  switch (file.status) {
    case 'added':
      return { mark: 'A', word: 'added' };
    case 'deleted':
      return { mark: 'D', word: 'deleted' };
    case 'renamed':
      return { mark: 'R', word: file.similarity === 100 ? 'renamed' : 'renamed and edited' };
    case 'type_changed':
      return { mark: 'T', word: 'changed kind (file, link or executable)' };
    default:
      return { mark: 'M', word: 'modified' };
  }
}

/** 1536 -> "1.5 KiB" */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

const LAYOUT_KEY = 'keel.changes.layout';

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export type DiffLayout = 'unified' | 'split';

/** The diff layout the person chose last (unified by default). */
export const storedLayout = (): DiffLayout => (storage()?.getItem(LAYOUT_KEY) === 'split' ? 'split' : 'unified');
export const storeLayout = (layout: DiffLayout) => storage()?.setItem(LAYOUT_KEY, layout);
