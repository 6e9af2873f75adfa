import type { ItemOfKind } from '@keel/core/contract';
import { FileDiff } from './DiffView.js';
import { Disclosure } from './Disclosure.js';
import { OutputBlock } from './OutputBlock.js';

const STATUS_LABEL = { pending: 'pending', in_progress: 'running', completed: 'done', failed: 'failed', interrupted: 'interrupted' } as const;

export function ToolCard({ item, stateKey }: { item: ItemOfKind<'tool'>; stateKey: string }) {
  const input = item.input === undefined ? null : formatInput(item.input);
  return (
    <div className={`card tool-card status-${item.status}`} data-tool-status={item.status}>
      <div className="card-head">
        <span className="tool-icon" aria-hidden="true">
          ⚙
        </span>
        <span className="tool-title">{item.title || <span className="muted">{item.toolCallId}</span>}</span>
        {item.toolKind && <span className="chip">{item.toolKind}</span>}
        <span className={`status-badge tool-${item.status}`} data-testid="tool-status">
          {STATUS_LABEL[item.status]}
        </span>
      </div>
      {item.interruption && (
        <p className="muted small" data-testid="tool-interruption">
          Never finished: generation {item.interruption.generation} ended first ({item.interruption.reason}).
        </p>
      )}
      {input && (
        <Disclosure stateKey={`${stateKey}:input`} summary={<span className="muted small">input</span>} className="tool-input">
          <pre className="code-block">{input}</pre>
        </Disclosure>
      )}
      {item.diffs.map((diff) => (
        <FileDiff key={diff.path} diff={diff} stateKey={`${stateKey}:diff:${diff.path}`} />
      ))}
      {item.output && <OutputBlock stateKey={`${stateKey}:output`} output={item.output} label="output" />}
    </div>
  );
}

function formatInput(input: unknown): string {
  if (typeof input === 'string') return input;
  try {
    return JSON.stringify(input, null, 2);
  } catch {
    return String(input);
  }
}
