import type { ItemOfKind } from '@keel/core/contract';
import { quoteWord } from '../../lib/agent.js';
import { OutputBlock } from './OutputBlock.js';

/** A command Keel ran for the agent: command line, cwd, output and how it ended. */
export function CommandCard({ item, stateKey }: { item: ItemOfKind<'command'>; stateKey: string }) {
  const line = [item.command, ...item.args].map(quoteWord).join(' ');
  const failed = item.status === 'exited' && (item.exitCode !== 0 || item.signal !== null);
  const badge = (
    <span className={`status-badge ${item.status === 'running' ? 'tool-in_progress' : failed ? 'tool-failed' : 'tool-completed'}`} data-testid="command-status">
      {item.status === 'running' ? 'running' : item.signal ? `killed (${item.signal})` : `exit ${item.exitCode ?? '?'}`}
    </span>
  );
  if (item.toolCallId) {
    // The agent's tool call above embeds this command: one line pointing at it. While it runs
    // the live output shows here (the call has none yet); once it exited, the call holds the
    // output and this copy stays behind a toggle.
    return (
      <div className={`card command-card linked${failed ? ' failed' : ''}`} data-command-status={item.status} data-tool-call-id={item.toolCallId}>
        <div className="card-head">
          <span className="who keel">Keel ran</span>
          <code className="command-line">{line}</code>
          {badge}
          <span className="muted small">
            in <code>{item.cwd}</code> · for the tool call above
          </span>
        </div>
        {item.output && (
          <OutputBlock stateKey={`${stateKey}:output`} output={item.output} label="terminal output" hiddenWhenClosed={item.status !== 'running'} />
        )}
      </div>
    );
  }
  return (
    <div className={`card command-card${failed ? ' failed' : ''}`} data-command-status={item.status}>
      <div className="card-head">
        <span className="who keel">Keel ran</span>
        <code className="command-line">{line}</code>
        {badge}
      </div>
      <div className="muted small">
        in <code>{item.cwd}</code>
      </div>
      {item.output ? (
        <OutputBlock stateKey={`${stateKey}:output`} output={item.output} label="output" />
      ) : (
        <div className="muted small">{item.status === 'running' ? 'No output yet.' : 'No output.'}</div>
      )}
    </div>
  );
}

export function FileWriteLine({ item }: { item: ItemOfKind<'file_write'> }) {
  return (
    <div className="card file-write-card">
      <span className="who keel">Keel wrote</span> <code>{item.path}</code>{' '}
      <span className="muted small">
        {item.bytes.toLocaleString()} byte{item.bytes === 1 ? '' : 's'}
        {item.created ? ' · new file' : ''}
      </span>
    </div>
  );
}
