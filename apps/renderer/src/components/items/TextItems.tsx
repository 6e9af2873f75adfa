import type { ItemOfKind } from '@keel/core/contract';
import { absoluteTime } from '../../lib/time.js';
import { Disclosure } from './Disclosure.js';
import { Markdown } from './Markdown.js';

const time = (ts: string) => {
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
};

export function PromptCard({ item }: { item: ItemOfKind<'prompt'> }) {
  return (
    <div className="card prompt-card">
      <div className="card-head">
        <span className="who you">You</span>
        <span className="muted small">turn {item.turn}</span>
        <time className="muted small" dateTime={item.ts} title={absoluteTime(item.ts)}>
          {time(item.ts)}
        </time>
      </div>
      <div className="prompt-text">{item.text}</div>
    </div>
  );
}

export function MessageCard({ item, stateKey }: { item: ItemOfKind<'message'>; stateKey: string }) {
  return (
    <div className="card message-card">
      <div className="card-head">
        <span className="who agent">Agent</span>
        {item.generation !== null && item.generation > 1 && <span className="muted small" title={`Generation ${item.generation}: the agent's process was restarted; the conversation continued.`}>agent process #{item.generation}</span>}
        <time className="muted small" dateTime={item.ts} title={absoluteTime(item.ts)}>
          {time(item.ts)}
        </time>
      </div>
      <Markdown text={item.text} stateKey={stateKey} />
    </div>
  );
}

export function ThoughtCard({ item, stateKey }: { item: ItemOfKind<'thought'>; stateKey: string }) {
  const preview = item.text.replace(/\s+/g, ' ').trim();
  return (
    <Disclosure
      className="thought-card"
      stateKey={stateKey}
      testId="thought"
      summary={
        <>
          <span className="who thought">Thinking</span>
          <span className="thought-preview muted">{preview.length > 140 ? `${preview.slice(0, 139)}…` : preview}</span>
        </>
      }
    >
      <div className="thought-text">{item.text}</div>
    </Disclosure>
  );
}

export function NoteCard({ item }: { item: ItemOfKind<'note'> }) {
  return (
    <div className="note-line muted">
      <span className="note-mark" aria-hidden="true">
        ✎
      </span>{' '}
      {item.text}
    </div>
  );
}
