import type { RunView, TranscriptItem } from '../contract/index.js';
import type { OpenTurn } from '../replay/index.js';

/** A handoff stays well inside one prompt: the newest facts are kept, the oldest cut first. */
export const HANDOFF_LIMIT = 12 * 1024;
const LAST_MESSAGE_LIMIT = 2_000;

const clip = (text: string, limit: number) => (text.length <= limit ? text : `…${text.slice(text.length - limit)}`);

/** One line per thing the run did, oldest first. */
function factOf(item: TranscriptItem): string | null {
  switch (item.kind) {
    case 'prompt':
      return `- The user asked (turn ${item.turn}): ${clip(item.text, 600)}`;
    case 'tool':
      return `- Tool call "${item.title || item.toolCallId}": ${item.status}${item.diffs.length > 0 ? ` (changed ${item.diffs.map((diff) => diff.path).join(', ')})` : ''}`;
    case 'approval':
      return `- Asked for approval to ${item.action.title}: ${item.status}${item.decision ? ` (${item.decision})` : ''}`;
    case 'file_write':
      return `- ${item.created ? 'Created' : 'Wrote'} ${item.path} (${item.bytes} bytes)`;
    case 'command':
      return `- Ran \`${[item.command, ...item.args].join(' ')}\`${item.status === 'exited' ? ` (exit ${item.exitCode ?? item.signal})` : ' (did not finish)'}`;
    case 'turn_end':
      return `- Turn ${item.turn} ended: ${item.stopReason}`;
    default:
      return null;
  }
}

/**
 * What a fresh session needs to carry on a run whose session the agent lost (I6): the
 * prompts so far, what was done, the agent's last words and the request in progress — from
 * the ledger, bounded in size. Pure: the same view gives the same text.
 */
export function buildHandoff(view: RunView, open: OpenTurn | null, limit = HANDOFF_LIMIT): { text: string; truncated: boolean } {
  const head = 'Keel note: your previous session of this task was lost, so this is a fresh session. Here is what happened so far, from Keel\'s record of the run:';
  const facts = view.items.flatMap((item) => {
    const fact = factOf(item);
    return fact === null || (open && item.kind === 'prompt' && item.turn === open.turn) ? [] : [fact];
  });
  const lastMessage = [...view.items].reverse().find((item) => item.kind === 'message');
  const tail = [
    lastMessage && lastMessage.kind === 'message' ? `Your last message was:\n${clip(lastMessage.text, LAST_MESSAGE_LIMIT)}` : null,
    open ? `The request in progress (turn ${open.turn}) follows this note. Check the workspace before redoing work that may already be done.` : 'Check the workspace before redoing work that may already be done.',
  ].filter((part): part is string => part !== null);
  const fixed = `${head}\n\n\n\n${tail.join('\n\n')}`;
  const kept: string[] = [];
  let size = fixed.length;
  let truncated = false;
  for (let i = facts.length - 1; i >= 0; i--) {
    const fact = facts[i]!;
    if (size + fact.length + 1 > limit) {
      truncated = true;
      break;
    }
    kept.unshift(fact);
    size += fact.length + 1;
  }
  const body = [truncated ? '- (older history cut)' : null, ...kept].filter((line): line is string => line !== null).join('\n') || '- (nothing recorded yet)';
  return { text: `${head}\n\n${body}\n\n${tail.join('\n\n')}`, truncated };
}

/** The text a turn is sent with: the handoff first when this turn carries one. */
export function withHandoff(handoff: { turn: number; text: string } | null, turn: number, text: string): string {
  return handoff?.turn === turn ? `${handoff.text}\n\n---\n\n${text}` : text;
}
