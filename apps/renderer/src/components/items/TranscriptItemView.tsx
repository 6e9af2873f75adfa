import type { TranscriptItem } from '@keel/core/contract';
import { memo } from 'react';
import { CheckpointCard } from '../runs/checkpoints/CheckpointCard.js';
import { ApprovalCard } from './ApprovalCard.js';
import { CommandCard, FileWriteLine } from './KeelActions.js';
import { RecoveryCard, RepairCard, TurnEndLine } from './StatusItems.js';
import { MessageCard, NoteCard, PromptCard, ThoughtCard } from './TextItems.js';
import { ToolCard } from './ToolCard.js';

/** The seq an item is known by (its first event). */
export const itemSeq = (item: TranscriptItem): number => ('seq' in item ? item.seq : item.firstSeq);

export interface ItemContext {
  runId: string;
  /** Set when the run cannot be acted on, with the reason. */
  readOnly: string | null;
  /** Present while the runtime is stopped: the recovery card's button. */
  onRestart?: (() => void) | undefined;
  restartDisabled?: string | null;
}

/** One transcript item. Memoised on the item object: the fold replaces an item when it changes. */
export const TranscriptItemView = memo(function TranscriptItemView({ item, context }: { item: TranscriptItem; context: ItemContext }) {
  const stateKey = `${context.runId}:${item.kind}:${itemSeq(item)}`;
  switch (item.kind) {
    case 'prompt':
      return <PromptCard item={item} />;
    case 'message':
      return <MessageCard item={item} stateKey={stateKey} />;
    case 'thought':
      return <ThoughtCard item={item} stateKey={stateKey} />;
    case 'tool':
      return <ToolCard item={item} stateKey={stateKey} />;
    case 'turn_end':
      return <TurnEndLine item={item} />;
    case 'repair':
      return <RepairCard item={item} />;
    case 'note':
      return <NoteCard item={item} />;
    case 'approval':
      return <ApprovalCard item={item} runId={context.runId} readOnly={context.readOnly} />;
    case 'recovery':
      return <RecoveryCard item={item} stateKey={stateKey} onRestart={context.onRestart} restartDisabled={context.restartDisabled ?? null} />;
    case 'command':
      return <CommandCard item={item} stateKey={stateKey} />;
    case 'file_write':
      return <FileWriteLine item={item} />;
    case 'checkpoint':
      return <CheckpointCard item={item} runId={context.runId} stateKey={stateKey} />;
    default:
      return <UnknownItem item={item} />;
  }
});

/** An item kind from a newer build: shown, never dropped. */
function UnknownItem({ item }: { item: never }) {
  const kind = (item as { kind?: unknown }).kind;
  return <div className="note-line muted">An item of kind “{String(kind)}” this version of Keel cannot show.</div>;
}
