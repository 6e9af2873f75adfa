// The page folds live events on its window of the transcript (ADR 0023). A tool call restated by
// an ACP agent (recorded as a `tool.started` marked `restated`) whose card lies before the window
// must make the page ask the host again, not add a second card.
import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '@keel/core/contract';
import { changesUnknown, noteKeys, type WindowKey } from '../src/stores/window-keys.js';

const started = (payload: Record<string, unknown>): LedgerEvent =>
  ({ type: 'tool.started', payload, run_id: '01JTESTRUN0000000000000000', seq: 9, ts: '2026-12-01T00:00:00.000Z', prev: '', hash: '', schema_version: 1 }) as LedgerEvent;

describe('window keys and a restated tool call', () => {
  it('a restated start of a call the window does not hold is a change of an unknown item; of one it holds, it is not', () => {
    const known = new Set<WindowKey>(['tool:in-window']);
    expect(changesUnknown(started({ toolCallId: 'before-window', title: 'npm test', restated: true }), known)).toBe(true);
    expect(changesUnknown(started({ toolCallId: 'in-window', title: 'npm test', restated: true }), known)).toBe(false);
  });

  it('an unmarked start is a new call the window can fold on its own', () => {
    const known = new Set<WindowKey>();
    const event = started({ toolCallId: 'new-call', title: 'Read a.txt' });
    expect(changesUnknown(event, known)).toBe(false);
    noteKeys(event, known);
    expect(known.has('tool:new-call')).toBe(true);
  });
});
