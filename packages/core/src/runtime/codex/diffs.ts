import type { AgentUpdate } from '../adapter.js';
import type { FileUpdateChange } from './protocol.js';

type Diff = NonNullable<Extract<AgentUpdate, { kind: 'tool_updated' }>['diff']>;

/**
 * A Codex file change as Keel's diff. Codex sends the whole content for `add`/`delete` and a
 * unified diff (hunks only, no headers) for `update`; for updates we report the hunks' old and
 * new sides — fragments, like ACP agents' edit diffs — not whole files.
 */
export function diffOfChange(change: FileUpdateChange): Diff {
  switch (change.kind.type) {
    case 'add':
      return { path: change.path, oldText: null, newText: change.diff };
    case 'delete':
      return { path: change.path, oldText: change.diff, newText: '' };
    default: {
      const { oldText, newText } = sidesOfUnifiedDiff(change.diff);
      return { path: change.kind.move_path ?? change.path, oldText, newText };
    }
  }
}

/** The old and new sides of unified-diff hunks (context lines on both). */
export function sidesOfUnifiedDiff(diff: string): { oldText: string; newText: string } {
  const oldLines: string[] = [];
  const newLines: string[] = [];
  for (const line of diff.split('\n')) {
    if (line.startsWith('@@') || line.startsWith('\\') || line.startsWith('--- ') || line.startsWith('+++ ')) continue;
    const body = line.slice(1);
    if (line.startsWith('-')) oldLines.push(body);
    else if (line.startsWith('+')) newLines.push(body);
    else if (line.startsWith(' ')) {
      oldLines.push(body);
      newLines.push(body);
    }
  }
  const join = (lines: string[]) => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  return { oldText: join(oldLines), newText: join(newLines) };
}
