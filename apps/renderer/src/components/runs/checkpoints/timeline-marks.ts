import type { CheckpointListingEntry, ItemOfKind, RunView } from '@keel/core/contract';
import { loadEarlierItems, useTranscript } from '../../../stores/transcript.js';

export type CheckpointItem = ItemOfKind<'checkpoint'>;

/** The run's checkpoints, one per turn boundary, newest last (from the transcript fold). */
export function checkpointsOf(view: RunView): CheckpointItem[] {
  const byTurn = new Map<number, CheckpointItem>();
  for (const item of view.items) {
    if (item.kind === 'checkpoint' && (item.event === 'created' || item.event === 'skipped') && item.turn !== null) byTurn.set(item.turn, item);
  }
  return [...byTurn.values()].sort((a, b) => (a.turn ?? 0) - (b.turn ?? 0));
}

/** The files a restore to `turn` puts back: those the later turns changed (changes since the last checkpoint come too). */
export function filesAfter(checkpoints: readonly CheckpointItem[], turn: number): { files: string[]; complete: boolean } {
  const files = new Set<string>();
  let complete = true;
  for (const item of checkpoints) {
    if ((item.turn ?? 0) <= turn) continue;
    if (item.event === 'skipped' || item.filesTotal > item.files.length) complete = false;
    for (const file of item.files) files.add(file.path);
  }
  return { files: [...files].sort(), complete };
}

/** One mark of the timeline: a loaded checkpoint item, or a checkpoint the host listed whose item is not loaded. */
export interface TimelineMark {
  turn: number;
  status: CheckpointListingEntry['status'];
  text: string;
  /** The transcript item, when it is loaded. */
  item: CheckpointItem | null;
  /** Why this mark cannot be restored (null: it can). */
  unavailable: string | null;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A listed checkpoint's sentence, worded as the transcript's card words a loaded one. */
function listedText(entry: CheckpointListingEntry): string {
  const name = entry.turn === 0 ? 'the baseline' : `turn ${entry.turn}`;
  switch (entry.status) {
    case 'skipped':
      return `No checkpoint for ${name}${entry.skipReason ? `: ${entry.skipReason.replaceAll('_', ' ')}` : ''}.`;
    case 'ref_missing':
      return `Checkpoint of ${name}: its git ref is missing, so it cannot be restored.`;
    case 'ref_only':
      return `Checkpoint of ${name} (its description could not be read; it can still be restored).`;
    case 'created': {
      if (entry.turn === 0) return 'Baseline checkpoint: the workspace as it was before turn 1.';
      if (entry.filesChanged === null) return `Checkpoint of turn ${entry.turn}.`;
      if (entry.filesChanged === 0) return `Checkpoint of turn ${entry.turn}: no files changed.`;
      const stat = entry.insertions === null ? '' : ` (+${entry.insertions} −${entry.deletions ?? 0})`;
      return `Checkpoint of turn ${entry.turn}: ${plural(entry.filesChanged, 'file')} changed${stat}.`;
    }
  }
}

/**
 * Every mark of the timeline: the loaded checkpoint items (as the transcript has them), and the
 * host's listing for the turns whose items are not loaded (a windowed transcript), by turn.
 */
export function timelineMarks(loaded: readonly CheckpointItem[], listed: readonly CheckpointListingEntry[] | null): TimelineMark[] {
  const byTurn = new Map<number, TimelineMark>();
  for (const entry of listed ?? []) {
    const unavailable = entry.status === 'skipped' ? 'No checkpoint was taken.' : entry.status === 'ref_missing' ? 'Its git ref is missing.' : null;
    byTurn.set(entry.turn, { turn: entry.turn, status: entry.status, text: listedText(entry), item: null, unavailable });
  }
  for (const item of loaded) {
    const turn = item.turn ?? 0;
    const status = item.event === 'skipped' ? 'skipped' : 'created';
    byTurn.set(turn, { turn, status, text: item.text, item, unavailable: status === 'skipped' ? 'No checkpoint was taken.' : null });
  }
  return [...byTurn.values()].sort((a, b) => a.turn - b.turn);
}

/** The highest seq of a loaded checkpoint item: it moves when a checkpoint is taken (or skipped) in the window. */
export function newestCheckpointSeq(loaded: readonly CheckpointItem[]): number {
  let seq = 0;
  for (const item of loaded) seq = Math.max(seq, item.seq);
  return seq;
}

/**
 * Resolves on the transcript store's next change of what is shown (a page shown, the host's fold
 * taken again, a load failing, the run closed), or on abort.
 */
function nextLoadChange(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const unsubscribe = useTranscript.subscribe((now, before) => {
      if (now.view !== before.view || now.itemsFrom !== before.itemsFrom || now.earlier !== before.earlier || now.runId !== before.runId) done();
    });
    signal.addEventListener('abort', done);
  });
}

/**
 * Loads earlier pages of run `runId`'s open transcript (the store's loadEarlierItems, one page
 * after another) until the checkpoint item of `turn` is loaded, or everything is. Every later
 * checkpoint comes after it in the transcript, so then the files a restore puts back are exact.
 * Throws in plain words when a page fails to load or the run is no longer the open one; resolves
 * early when `signal` aborts.
 */
export async function loadUntilCheckpoint(runId: string, turn: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    if (signal.aborted) return;
    const state = useTranscript.getState();
    if (state.runId !== runId) throw new Error('The run is no longer open.');
    if (state.itemsFrom === 0 || (state.view !== null && checkpointsOf(state.view).some((item) => item.turn === turn))) return;
    const before = state.itemsFrom;
    await loadEarlierItems();
    if (signal.aborted) return;
    const after = useTranscript.getState();
    if (after.runId !== runId) throw new Error('The run is no longer open.');
    if (after.earlier === 'failed') throw new Error(after.earlierError ?? 'The host did not answer.');
    // Nothing moved: the store is taking the host's fold again (ADR 0023) and asks for pages
    // after; ask again once it has shown something.
    if (after.itemsFrom === before) await nextLoadChange(signal);
  }
}
