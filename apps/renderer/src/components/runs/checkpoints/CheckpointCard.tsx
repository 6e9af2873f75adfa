import type { ItemOfKind } from '@keel/core/contract';
import { Disclosure } from '../../items/Disclosure.js';
import { TurnDiff } from './TurnDiff.js';

type CheckpointItem = ItemOfKind<'checkpoint'>;

const TONE: Record<CheckpointItem['event'], string> = {
  created: 'ok',
  skipped: 'warn',
  drift: 'warn',
  deps: 'info',
  restore_requested: 'info',
  restore_completed: 'ok',
  restore_failed: 'bad',
  worktree: 'info',
};

const MARK: Record<CheckpointItem['event'], string> = {
  created: '◆',
  skipped: '◇',
  drift: '⚠',
  deps: '⬡',
  restore_requested: '↺',
  restore_completed: '↺',
  restore_failed: '✕',
  worktree: '⎇',
};

function FileList({ item }: { item: CheckpointItem }) {
  return (
    <ul className="cp-files">
      {item.files.map((file) => (
        <li key={file.path}>
          <span className={`cp-status ${file.status}`}>{file.status}</span> <code>{file.path}</code>
          {file.insertions !== null && (
            <span className="muted small">
              {' '}
              +{file.insertions} −{file.deletions}
            </span>
          )}
        </li>
      ))}
      {item.filesTotal > item.files.length && <li className="muted small">… and {item.filesTotal - item.files.length} more</li>}
    </ul>
  );
}

/**
 * A checkpoint event in the transcript: the turn's checkpoint with the files it changed (the
 * diff behind a toggle, read from the checkpoints on demand), a skip with its reason, drift
 * found on resume, lockfile changes, or a restore.
 */
export function CheckpointCard({ item, runId, stateKey }: { item: CheckpointItem; runId: string; stateKey: string }) {
  const hasFiles = item.files.length > 0;
  const title = (
    <span className="cp-card-title">
      <span className={`cp-mark tone-${TONE[item.event]}`} aria-hidden="true">
        {MARK[item.event]}
      </span>
      {item.text}
    </span>
  );
  if (!hasFiles && !item.detail) {
    return (
      <div className={`cp-card tone-${TONE[item.event]}`} data-testid="checkpoint-card" data-event={item.event}>
        {title}
      </div>
    );
  }
  return (
    <div className={`cp-card tone-${TONE[item.event]}`} data-testid="checkpoint-card" data-event={item.event}>
      <Disclosure stateKey={stateKey} summary={title} defaultOpen={item.event === 'drift' || item.event === 'restore_failed'}>
        {hasFiles && <FileList item={item} />}
        {item.detail && <p className="muted small cp-detail">{item.detail}</p>}
        {item.event === 'created' && item.turn !== null && item.turn > 0 && hasFiles && (
          <Disclosure stateKey={`${stateKey}:diff`} summary={<span className="small">Show the diff</span>} testId="checkpoint-diff-toggle">
            <TurnDiff runId={runId} turn={item.turn} />
          </Disclosure>
        )}
      </Disclosure>
    </div>
  );
}
