import { describe, expect, it } from 'vitest';
import type { SessionUpdate } from '@agentclientprotocol/sdk';
import { updatesOf } from '../src/runtime/acp/normalise.js';

describe('ACP terminal content in a tool call', () => {
  it('becomes one link from the call to Keel’s terminal, however often the agent repeats it', () => {
    const seen = new Map<string, string>();
    const update: SessionUpdate = { sessionUpdate: 'tool_call_update', toolCallId: 'run-1', content: [{ type: 'terminal', terminalId: 'term-1' }] };
    expect(updatesOf(update, seen)).toEqual([{ kind: 'tool_updated', toolCallId: 'run-1', terminalId: 'term-1' }]);
    expect(updatesOf(update, seen)).toEqual([]);
    // Another terminal in the same call is its own link.
    expect(updatesOf({ sessionUpdate: 'tool_call_update', toolCallId: 'run-1', content: [{ type: 'terminal', terminalId: 'term-2' }] }, seen)).toEqual([{ kind: 'tool_updated', toolCallId: 'run-1', terminalId: 'term-2' }]);
  });
});
