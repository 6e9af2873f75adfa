// An ACP agent (Claude Code) announces some tool calls with a placeholder and restates them with
// their real title and input. The restatement is recorded as a `tool.started` marked `restated`,
// so a window of the transcript (ADR 0022/0023) takes it for a change of the call announced
// earlier — which may lie outside the window — and not for a new card.
import { describe, expect, it } from 'vitest';
import { EventBody, type LedgerEvent } from '../src/contract/index.js';
import { keyedTouch } from '../src/replay/index.js';
import { updatesOf } from '../src/runtime/acp/normalise.js';
import { eventForUpdate } from '../src/runs/agent-events.js';

const asEvent = (body: unknown, seq: number): LedgerEvent =>
  ({ ...(body as object), run_id: '01JTESTRUN0000000000000000', seq, ts: '2026-12-01T00:00:00.000Z', prev: '', hash: '', schema_version: 1 }) as LedgerEvent;

/** What the run records for one ACP session update: the ledger bodies, each checked by the contract. */
function recorded(update: Parameters<typeof updatesOf>[0], seen: Map<string, string>) {
  return updatesOf(update, seen).map((agentUpdate) => {
    const body = eventForUpdate(agentUpdate, 1)!.body;
    expect(EventBody.safeParse(body).success).toBe(true);
    return body;
  });
}

describe('a restated ACP tool call', () => {
  it('is recorded as a start marked restated, which changes the call rather than creating one', () => {
    const seen = new Map<string, string>();
    const [announced] = recorded({ sessionUpdate: 'tool_call', toolCallId: 'call-1', title: 'Terminal', kind: 'execute' }, seen);
    expect(announced).toEqual({ type: 'tool.started', payload: { toolCallId: 'call-1', title: 'Terminal', kind: 'execute' } });
    expect(keyedTouch(asEvent(announced, 2))).toEqual({ creates: [['tool', 'call-1']], changes: [] });

    const [restated] = recorded({ sessionUpdate: 'tool_call_update', toolCallId: 'call-1', title: 'npm test', rawInput: { command: 'npm test' } }, seen);
    expect(restated).toEqual({ type: 'tool.started', payload: { toolCallId: 'call-1', title: 'npm test', input: { command: 'npm test' }, restated: true } });
    expect(keyedTouch(asEvent(restated, 3))).toEqual({ creates: [], changes: [['tool', 'call-1']] });
  });

  it('a first announcement that arrives as an update is a new call, not a restatement', () => {
    const seen = new Map<string, string>();
    const [first, again] = [
      recorded({ sessionUpdate: 'tool_call_update', toolCallId: 'call-2', title: 'Read file', rawInput: { path: 'a.txt' } }, seen)[0],
      recorded({ sessionUpdate: 'tool_call_update', toolCallId: 'call-2', title: 'Read a.txt', rawInput: { path: 'a.txt' } }, seen)[0],
    ];
    expect((first as { payload: { restated?: true } }).payload.restated).toBeUndefined();
    expect(keyedTouch(asEvent(first, 2)).creates).toEqual([['tool', 'call-2']]);
    expect((again as { payload: { restated?: true } }).payload.restated).toBe(true);
  });

  it('the contract refuses a restated mark other than true', () => {
    const parsed = EventBody.safeParse({ type: 'tool.started', payload: { toolCallId: 'c', title: 't', restated: false } });
    expect(parsed.success).toBe(false);
  });
});
