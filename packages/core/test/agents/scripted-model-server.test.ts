// The scripted model server on its own (no agents needed): the script's two rounds for both
// APIs, Claude Code's side requests, the request log, holds and the `mustSee` gate.
import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedModelServer, type ScriptedModelServer } from './scripted-model-server.js';

let server: ScriptedModelServer;
afterEach(() => server?.close());

async function post(path: string, body: unknown): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** `event: x\ndata: {...}` blocks -> [type, data] pairs, checking the two agree. */
function events(text: string): [string, any][] {
  return text.trim().split('\n\n').map((block) => {
    const [ev, data] = block.split('\n');
    const parsed = JSON.parse(data!.slice('data: '.length));
    expect(ev).toBe(`event: ${parsed.type}`);
    return [parsed.type, parsed];
  });
}

describe('scripted model server', () => {
  it('Responses API: a shell call first, the final text after its output', async () => {
    server = await startScriptedModelServer({ command: 'touch x', finalText: 'ok' });
    const tools = [{ type: 'function', name: 'exec_command' }];
    const first = await post('/v1/responses', { stream: true, tools, input: [{ type: 'message', role: 'user', content: [] }] });
    expect(first.type).toBe('text/event-stream');
    const ev1 = events(first.text);
    expect(ev1.map(([t]) => t)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added',
      'response.function_call_arguments.delta', 'response.function_call_arguments.done',
      'response.output_item.done', 'response.completed',
    ]);
    const call = ev1[5]![1].item;
    expect(call).toMatchObject({ type: 'function_call', name: 'exec_command', arguments: JSON.stringify({ cmd: 'touch x' }) });

    const input = [call, { type: 'function_call_output', call_id: call.call_id, output: 'exit 0' }];
    const ev2 = events((await post('/v1/responses', { stream: true, tools, input })).text);
    expect(ev2.map(([t]) => t)).toContain('response.output_text.delta');
    expect(ev2.find(([t]) => t === 'response.output_item.done')![1].item.content[0].text).toBe('ok');
    expect(server.requests.map((r) => r.reply)).toEqual(['tool_call', 'final']);
    expect(server.toolResults()).toEqual([{ api: 'responses', callId: call.call_id, output: 'exit 0' }]);
  });

  it('Messages API: Bash tool_use, then end_turn text; side requests and count_tokens', async () => {
    server = await startScriptedModelServer({ command: 'touch y', finalText: 'fine', description: 'Touch y' });
    const tools = [{ name: 'Bash' }];
    const ev1 = events((await post('/v1/messages', { stream: true, tools, messages: [{ role: 'user', content: 'go' }] })).text);
    expect(ev1.map(([t]) => t)).toEqual([
      'message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop',
    ]);
    const toolUse = ev1[1]![1].content_block;
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'Bash' });
    expect(JSON.parse(ev1[2]![1].delta.partial_json)).toEqual({ command: 'touch y', description: 'Touch y' });
    expect(ev1[4]![1].delta.stop_reason).toBe('tool_use');

    const messages = [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [toolUse] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'done' }] },
    ];
    const ev2 = events((await post('/v1/messages', { stream: true, tools, messages })).text);
    expect(ev2.filter(([t]) => t === 'content_block_delta').map(([, d]) => d.delta.text).join('')).toBe('fine');
    expect(ev2.find(([t]) => t === 'message_delta')![1].delta.stop_reason).toBe('end_turn');

    // Title generation: no tools, asks for JSON.
    const title = await post('/v1/messages', { stream: false, tools: [], system: 'Return JSON with a single "title" field.', messages: [{ role: 'user', content: 'x' }] });
    expect(JSON.parse(JSON.parse(title.text).content[0].text)).toEqual({ title: 'Scripted session' });
    expect(JSON.parse((await post('/v1/messages/count_tokens?beta=true', { messages: [] })).text).input_tokens).toBeGreaterThan(0);
    expect((await post('/v1/unknown', {})).status).toBe(404);

    expect(server.requests.map((r) => [r.api, r.reply])).toEqual([
      ['messages', 'tool_call'], ['messages', 'final'], ['messages', 'side'], ['count_tokens', 'json'], ['other', 'not_found'],
    ]);
    expect(server.toolResults()).toEqual([{ api: 'messages', callId: toolUse.id, output: 'done' }]);
  });

  it('deniedText: a refused tool result (Codex "rejected", Claude is_error) gets its own final text; call ids are recorded', async () => {
    server = await startScriptedModelServer({ command: 'touch z', finalText: 'ran', deniedText: 'refused' });
    const call = { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{}' };
    const refused = { type: 'function_call_output', call_id: 'c1', output: 'exec_command failed: CreateProcess { message: "Rejected(\\"rejected by user\\")" }' };
    const tools = [{ type: 'function', name: 'exec_command' }];
    await post('/v1/responses', { stream: false, tools, input: [{ type: 'message', role: 'user', content: [] }] });
    const codex = JSON.parse((await post('/v1/responses', { stream: false, tools, input: [call, refused] })).text);
    expect(codex.output[0].content[0].text).toBe('refused');
    const ok = JSON.parse((await post('/v1/responses', { stream: false, tools, input: [call, { ...refused, output: 'exit 0' }] })).text);
    expect(ok.output[0].content[0].text).toBe('ran');

    const bash = [{ name: 'Bash' }];
    const use = { type: 'tool_use', id: 'toolu_x', name: 'Bash', input: {} };
    const result = (isError: boolean) => ({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', is_error: isError, content: 'User refused permission to run tool' }] });
    const claude = JSON.parse((await post('/v1/messages', { stream: false, tools: bash, messages: [{ role: 'assistant', content: [use] }, result(true)] })).text);
    expect(claude.content[0].text).toBe('refused');
    await post('/v1/messages', { stream: false, tools: bash, messages: [{ role: 'user', content: 'go' }] });

    expect(server.requests.map((r) => [r.reply, r.callId])).toEqual([
      ['tool_call', 'call_1'], ['denied', undefined], ['final', undefined], ['denied', undefined], ['tool_call', 'toolu_5'],
    ]);
  });

  it('hold: the matching round is decided and kept waiting until released; others and later ones are answered at once', async () => {
    server = await startScriptedModelServer({ command: 'touch h', finalText: 'held' });
    const hold = server.hold((r) => r.api === 'messages' && r.reply === 'tool_call');
    const bash = [{ name: 'Bash' }];
    const round = { stream: false, tools: bash, messages: [{ role: 'user', content: 'go' }] };
    let answered = false;
    const held = post('/v1/messages', round).then((reply) => {
      answered = true;
      return reply;
    });
    const request = await hold.arrived;
    expect(request).toMatchObject({ api: 'messages', reply: 'tool_call', held: true, callId: 'toolu_1' });
    // A side request and a second round with the same reply are not held (one request per hold).
    expect((await post('/v1/messages', { stream: false, tools: [], messages: [{ role: 'user', content: 'x' }] })).status).toBe(200);
    expect(JSON.parse((await post('/v1/messages', round)).text).content[0]).toMatchObject({ type: 'tool_use', id: 'toolu_3' });
    expect(answered).toBe(false);
    hold.release();
    expect(JSON.parse((await held).text).content[0]).toMatchObject({ type: 'tool_use', id: 'toolu_1' });
    expect(server.requests.map((r) => [r.reply, r.held ?? false])).toEqual([['tool_call', true], ['side', false], ['tool_call', false]]);
  });

  it('mustSee: the tool is asked for only when the request carries the text; otherwise the turn ends with `otherwise`', async () => {
    server = await startScriptedModelServer({ command: 'touch m', finalText: 'made', mustSee: { text: 'previous session was lost', otherwise: 'which task?' } });
    const tools = [{ type: 'function', name: 'exec_command' }];
    const say = (text: string) => [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }];
    const blind = JSON.parse((await post('/v1/responses', { stream: false, tools, input: say('Continue.') })).text);
    expect(blind.output[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'which task?' }] });
    const told = JSON.parse((await post('/v1/responses', { stream: false, tools, input: say('Note: your previous session was lost. Write m.') })).text);
    expect(told.output[0]).toMatchObject({ type: 'function_call', name: 'exec_command' });

    const bash = [{ name: 'Bash' }];
    const claudeBlind = JSON.parse((await post('/v1/messages', { stream: false, tools: bash, messages: [{ role: 'user', content: 'Continue.' }] })).text);
    expect(claudeBlind).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: 'which task?' }] });
    const claudeTold = JSON.parse((await post('/v1/messages', { stream: false, tools: bash, messages: [{ role: 'user', content: 'The previous session was lost.' }] })).text);
    expect(claudeTold.content[0]).toMatchObject({ type: 'tool_use', name: 'Bash' });
    // The tool result round is not checked: the script finishes what it started.
    server.script.mustSee = { text: 'never sent', otherwise: 'lost' };
    const result = { role: 'user', content: [{ type: 'tool_result', tool_use_id: claudeTold.content[0].id, content: '' }] };
    const final = JSON.parse((await post('/v1/messages', { stream: false, tools: bash, messages: [{ role: 'assistant', content: [claudeTold.content[0]] }, result] })).text);
    expect(final.content[0].text).toBe('made');
    expect(server.requests.map((r) => r.reply)).toEqual(['unaware', 'tool_call', 'unaware', 'tool_call', 'final']);
  });
});
