// Pure pieces of the Codex adapter: shell unwrapping, diffs, stop reasons, the JSON-RPC peer.
import { describe, expect, it } from 'vitest';
import type { MessageChannel } from '../src/runtime/adapter.js';
import { sidesOfUnifiedDiff } from '../src/runtime/codex/diffs.js';
import { replayItem } from '../src/runtime/codex/items.js';
import { parseItem, type Turn } from '../src/runtime/codex/protocol.js';
import { NO_RESPONSE, RpcPeer, RpcResponseError } from '../src/runtime/codex/rpc.js';
import { unwrapShellCommand } from '../src/runtime/codex/shell-words.js';
import { stopReasonOf } from '../src/runtime/codex/stop-reason.js';

describe('unwrapShellCommand', () => {
  it.each([
    ["/bin/bash -lc 'npm test'", 'npm test'],
    ["/bin/bash -lc 'echo hello && echo world > out.txt'", 'echo hello && echo world > out.txt'],
    ["bash -lc 'echo '\\''quoted'\\'''", "echo 'quoted'"],
    ['/bin/zsh -c "ls -la"', 'ls -la'],
    ['sh -c "echo $HOME"', 'sh -c "echo $HOME"'], // would expand: keep the whole line
    ["/bin/bash -lc 'a' 'b'", "/bin/bash -lc 'a' 'b'"], // two words: not a plain wrapper
    ['git status', 'git status'],
  ])('%s -> %s', (input, expected) => {
    expect(unwrapShellCommand(input)).toBe(expected);
  });
});

describe('sidesOfUnifiedDiff', () => {
  it('reads the old and new sides of hunks, context on both', () => {
    expect(sidesOfUnifiedDiff('@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n\\ No newline at end of file\n')).toEqual({ oldText: 'a\nb\nc\n', newText: 'a\nB\nc\n' });
  });
});

describe('stopReasonOf', () => {
  const turn = (status: string, message?: string): Turn => ({ id: 't', items: [], status, error: message ? { message } : null });
  const asked = { interruptRequested: true, lastError: null };
  const notAsked = { interruptRequested: false, lastError: null };
  it('maps Codex turn statuses', () => {
    expect(stopReasonOf(turn('completed'), notAsked)).toEqual({ stopReason: 'end_turn' });
    expect(stopReasonOf(turn('interrupted'), asked)).toEqual({ stopReason: 'cancelled' });
    expect(stopReasonOf(turn('interrupted'), notAsked).stopReason).toBe('agent_error');
    expect(stopReasonOf(turn('failed', 'boom'), notAsked)).toEqual({ stopReason: 'agent_error', detail: 'boom' });
    expect(stopReasonOf(turn('failed'), { interruptRequested: false, lastError: 'from the error notification' }).detail).toBe('from the error notification');
    expect(stopReasonOf(turn('weird'), notAsked).stopReason).toBe('agent_error');
  });
});

describe('replayItem', () => {
  it('turns stored items into the updates a live turn produced', () => {
    const replay = (raw: unknown) => {
      const parsed = parseItem(raw);
      if ('error' in parsed) throw new Error(parsed.error);
      return replayItem(parsed);
    };
    expect(replay({ type: 'userMessage', id: 'u', clientId: 'ik:1', content: [{ type: 'text', text: 'hi', text_elements: [] }] })).toEqual([
      { kind: 'user_message', text: 'hi', clientId: 'ik:1' },
    ]);
    expect(replay({ type: 'reasoning', id: 'r', summary: ['a', 'b'], content: [] })).toEqual([{ kind: 'thought', text: 'a\n\nb' }]);
    expect(replay({ type: 'commandExecution', id: 'c', command: "/bin/bash -lc 'ls'", cwd: '/w', status: 'declined', aggregatedOutput: null, exitCode: null })).toEqual([
      { kind: 'tool_started', toolCallId: 'c', title: 'ls', toolKind: 'execute', input: { command: 'ls', cwd: '/w' } },
      { kind: 'tool_updated', toolCallId: 'c', status: 'failed' },
    ]);
    expect(replay({ type: 'mcpToolCall', id: 'm', server: 'docs', tool: 'search', status: 'completed' })).toEqual([
      { kind: 'tool_started', toolCallId: 'm', title: 'docs: search', toolKind: 'other' },
      { kind: 'tool_updated', toolCallId: 'm', status: 'completed' },
    ]);
    expect(replay({ type: 'contextCompaction', id: 'x' })).toEqual([]);
    expect(parseItem({ type: 'agentMessage', id: 'a' })).toHaveProperty('error');
  });
});

describe('RpcPeer', () => {
  function pipe() {
    const sent: object[] = [];
    let deliver: (message: Record<string, unknown>) => void = () => {};
    const channel: MessageChannel = { send: (message) => sent.push(message), onMessage: (listener) => (deliver = listener), closed: new Promise(() => {}) };
    return { sent, channel, deliver: (message: Record<string, unknown>) => deliver(message) };
  }

  it('sends no jsonrpc field, matches responses by id and turns error objects into RpcResponseError', async () => {
    const { sent, channel, deliver } = pipe();
    const malformed: string[] = [];
    const peer = new RpcPeer(channel, { onRequest: async () => NO_RESPONSE, onNotification: () => {}, onMalformed: (kind, detail) => malformed.push(`${kind}: ${detail}`) });
    const ok = peer.request('a', { x: 1 });
    const bad = peer.request('b', undefined);
    expect(sent).toEqual([
      { id: 1, method: 'a', params: { x: 1 } },
      { id: 2, method: 'b' },
    ]);
    deliver({ id: 2, error: { code: -32600, message: 'nope' } });
    deliver({ jsonrpc: '2.0', id: 1, result: { fine: true } }); // tolerated when present
    deliver({ id: 99, result: {} });
    await expect(ok).resolves.toEqual({ fine: true });
    await expect(bad).rejects.toEqual(new RpcResponseError('b', -32600, 'nope'));
    expect(malformed).toEqual(['rpc_error: a response for unknown request id 99']);
  });

  it('answers server requests, and rejects pending requests when stopped', async () => {
    const { sent, channel, deliver } = pipe();
    const peer = new RpcPeer(channel, { onRequest: async (method) => (method === 'skip' ? NO_RESPONSE : { echoed: method }), onNotification: () => {}, onMalformed: () => {} });
    deliver({ id: 0, method: 'hello', params: {} });
    deliver({ id: 1, method: 'skip', params: {} });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([{ id: 0, result: { echoed: 'hello' } }]);
    const pending = peer.request('x', {});
    peer.stop(new Error('agent process exited'));
    await expect(pending).rejects.toThrow('agent process exited');
  });
});
