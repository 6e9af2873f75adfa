// A scripted model on 127.0.0.1 that real agents can talk to offline. It serves:
//  - the OpenAI Responses API as Codex calls it (POST /v1/responses, SSE), and
//  - the Anthropic Messages API as Claude Code calls it (POST /v1/messages, SSE, plus
//    /v1/messages/count_tokens and the small side requests Claude Code makes).
//
// The script is one tool round per user prompt:
//   user prompt            -> the model calls the shell tool with `command`
//   tool result comes back -> the model answers `finalText` and ends the turn
// Each reply is decided from the request body alone (stateless), so retries, side requests
// and restarted agents get consistent answers. Every request is recorded for assertions.
// A test can hold one model round (`hold`): its reply is decided but not sent until released,
// so the agent stays mid-turn, waiting on the model, for as long as the test needs (to kill it).
// The script is mutable (`server.script`): a test may change the command or require context
// (`mustSee`) between rounds.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Script {
  /** The shell command the model asks to run on the first round. */
  command: string;
  /** The final assistant text after the tool result arrives. */
  finalText: string;
  /** Claude Code's Bash tool wants a short description next to the command. */
  description: string;
  /**
   * The final text when the tool result says the call was refused (Keel denied it). Unset:
   * `finalText` either way.
   */
  deniedText?: string;
  /**
   * A model that needs context: it asks for the tool only when the request body holds `text`
   * (e.g. Keel's handoff to a fresh session); otherwise it answers `otherwise` and ends the turn
   * (reply `unaware`). Checked on the rounds that would ask for the tool. Unset: no check.
   */
  mustSee?: { text: string; otherwise: string };
}

export type Api = 'responses' | 'messages' | 'count_tokens' | 'other';
export type Reply = 'tool_call' | 'final' | 'denied' | 'unaware' | 'side' | 'json' | 'not_found';

export interface RecordedRequest {
  seq: number;
  api: Api;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  reply: Reply;
  /** The call id of the tool call this reply asked for (`tool_call` replies). */
  callId?: string;
  /** Set when a hold kept this reply back (see ScriptedModelServer.hold). */
  held?: boolean;
}

/** A model round kept waiting: `arrived` resolves when the matching request came in (reply decided, nothing sent). */
export interface Hold {
  arrived: Promise<RecordedRequest>;
  /** Sends the held reply, if its connection is still open (a killed agent's is not). */
  release(): void;
}

export interface ScriptedModelServer {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:40123`. */
  url: string;
  port: number;
  script: Script;
  requests: RecordedRequest[];
  /** Tool results the agents sent back (Codex function_call_output / Claude tool_result). */
  toolResults(): { api: Api; callId: string; output: string }[];
  /**
   * Holds the next model round whose decided reply matches (`responses` / `messages` only; side
   * requests count as `side`). One request per hold; later ones are answered as usual.
   */
  hold(match: (request: RecordedRequest) => boolean): Hold;
  close(): Promise<void>;
}

interface PendingHold {
  match: (request: RecordedRequest) => boolean;
  arrive: (request: RecordedRequest) => void;
  taken: boolean;
  released: boolean;
  send: (() => void) | null;
}

export const DEFAULT_SCRIPT: Script = {
  command: 'echo keel-offline > proof.txt',
  finalText: 'Done: proof.txt was written.',
  description: 'Write proof.txt',
};

export async function startScriptedModelServer(script: Partial<Script> = {}): Promise<ScriptedModelServer> {
  const holds: PendingHold[] = [];
  const state: ScriptedModelServer = {
    url: '',
    port: 0,
    script: { ...DEFAULT_SCRIPT, ...script },
    requests: [],
    toolResults: () => collectToolResults(state.requests),
    hold(match) {
      let arrive!: (request: RecordedRequest) => void;
      const arrived = new Promise<RecordedRequest>((resolve) => (arrive = resolve));
      const pending: PendingHold = { match, arrive, taken: false, released: false, send: null };
      holds.push(pending);
      return {
        arrived,
        release() {
          pending.released = true;
          const send = pending.send;
          pending.send = null;
          send?.();
        },
      };
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  let seq = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = raw;
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const rec: RecordedRequest = { seq: ++seq, api: 'other', method: req.method ?? '', path, headers: req.headers, body, reply: 'not_found' };
      state.requests.push(rec);
      // A model round's reply goes out through here: held when a hold matches it.
      const deliver: Deliver = (write) => {
        const pending = holds.find((candidate) => !candidate.taken && candidate.match(rec));
        if (!pending) return write();
        pending.taken = true;
        rec.held = true;
        const send = () => {
          if (!res.destroyed && !res.socket?.destroyed) write();
        };
        if (pending.released) send();
        else pending.send = send;
        pending.arrive(rec);
      };
      try {
        route(rec, res, state.script, deliver);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err) } }));
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  return state;
}

/** Sends a decided reply now, or when its hold is released. */
type Deliver = (write: () => void) => void;

function route(rec: RecordedRequest, res: http.ServerResponse, script: Script, deliver: Deliver): void {
  if (rec.method === 'POST' && rec.path.endsWith('/responses')) {
    rec.api = 'responses';
    return responses(rec, res, script, deliver);
  }
  if (rec.method === 'POST' && rec.path.endsWith('/messages/count_tokens')) {
    rec.api = 'count_tokens';
    rec.reply = 'json';
    // A rough count is enough: Claude Code only uses it for context-size bookkeeping.
    return json(res, 200, { input_tokens: Math.ceil(JSON.stringify(rec.body ?? '').length / 4) });
  }
  if (rec.method === 'POST' && rec.path.endsWith('/messages')) {
    rec.api = 'messages';
    return messages(rec, res, script, deliver);
  }
  // Anything else (model lists, telemetry, ...) gets a clean 404 instead of a hang.
  json(res, 404, { type: 'error', error: { type: 'not_found_error', message: `scripted server: no ${rec.method} ${rec.path}` } });
}

// ---------------------------------------------------------------------------------------
// OpenAI Responses API (Codex, wire_api = "responses")

function responses(rec: RecordedRequest, res: http.ServerResponse, script: Script, deliver: Deliver): void {
  const input: any[] = Array.isArray(rec.body?.input) ? rec.body.input : [];
  const last = input[input.length - 1];
  // The tool result is the last input item right after the model's call; a new prompt ends
  // with a user message instead.
  const isToolResult = last && /_call_output$/.test(String(last.type));
  const tools: any[] = Array.isArray(rec.body?.tools) ? rec.body.tools : [];
  const shell = shellCall(tools, script.command);
  rec.reply = isToolResult || !shell ? 'final' : 'tool_call';
  if (rec.reply === 'tool_call' && !sees(rec, script)) rec.reply = 'unaware';
  // Codex 0.169.0 reports a declined command as `exec_command failed: … Rejected("rejected by user")`.
  if (isToolResult && script.deniedText !== undefined && REFUSED.test(outputText(last.output))) rec.reply = 'denied';
  const text = rec.reply === 'denied' ? script.deniedText! : rec.reply === 'unaware' ? script.mustSee!.otherwise : script.finalText;

  const respId = `resp_${rec.seq}`;
  let item: any;
  if (rec.reply === 'tool_call') {
    rec.callId = `call_${rec.seq}`;
    item = { type: 'function_call', id: `fc_${rec.seq}`, call_id: rec.callId, name: shell!.name, arguments: JSON.stringify(shell!.args) };
  } else {
    item = { type: 'message', id: `msg_${rec.seq}`, role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
  }
  const usage = { input_tokens: 100, input_tokens_details: { cached_tokens: 0 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 120 };
  const base = { id: respId, object: 'response', created_at: Math.floor(Date.now() / 1000), model: rec.body?.model ?? 'scripted' };

  // Non-streaming callers get the finished response object.
  if (rec.body?.stream !== true) {
    return deliver(() => json(res, 200, { ...base, status: 'completed', output: [{ ...item, status: 'completed' }], usage }));
  }

  // The sequence the real API streams. Codex 0.169.0 acts on output_item.done (the full item)
  // and response.completed (without it: "stream closed before response.completed"); the
  // deltas drive its live UI events.
  const events: [string, any][] = [];
  events.push(['response.created', { response: { ...base, status: 'in_progress', output: [] } }]);
  events.push(['response.in_progress', { response: { ...base, status: 'in_progress', output: [] } }]);
  if (item.type === 'function_call') {
    events.push(['response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } }]);
    events.push(['response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: item.arguments }]);
    events.push(['response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: item.arguments }]);
  } else {
    const part = { type: 'output_text', text: '', annotations: [] };
    const loc = { item_id: item.id, output_index: 0, content_index: 0 };
    events.push(['response.output_item.added', { output_index: 0, item: { ...item, content: [], status: 'in_progress' } }]);
    events.push(['response.content_part.added', { ...loc, part }]);
    for (const delta of splitText(text)) events.push(['response.output_text.delta', { ...loc, delta }]);
    events.push(['response.output_text.done', { ...loc, text }]);
    events.push(['response.content_part.done', { ...loc, part: { ...part, text } }]);
  }
  const done = { ...item, status: 'completed' };
  events.push(['response.output_item.done', { output_index: 0, item: done }]);
  events.push(['response.completed', { response: { ...base, status: 'completed', output: [done], usage } }]);

  deliver(() => sse(res, events.map(([type, data], i) => [type, { type, sequence_number: i, ...data }])));
}

/** The shell tool Codex offers and its argument shape (0.169.0 offers `exec_command`). */
function shellCall(tools: any[], command: string): { name: string; args: unknown } | null {
  const names = new Set(tools.map((t) => t?.name));
  if (names.has('exec_command')) return { name: 'exec_command', args: { cmd: command } };
  if (names.has('shell_command')) return { name: 'shell_command', args: { command } };
  if (names.has('shell')) return { name: 'shell', args: { command: ['bash', '-lc', command] } };
  return null;
}

// ---------------------------------------------------------------------------------------
// Anthropic Messages API (Claude Code via ANTHROPIC_BASE_URL)

function messages(rec: RecordedRequest, res: http.ServerResponse, script: Script, deliver: Deliver): void {
  const msgs: any[] = Array.isArray(rec.body?.messages) ? rec.body.messages : [];
  const last = msgs[msgs.length - 1];
  const lastBlocks: any[] = Array.isArray(last?.content) ? last.content : [];
  const hasBash = Array.isArray(rec.body?.tools) && rec.body.tools.some((t: any) => t?.name === 'Bash');
  // Side requests (title generation, quota probes, ...) come without the Bash tool: answer
  // them with a short neutral text so they never steal the scripted tool call.
  const toolResult = lastBlocks.find((b) => b?.type === 'tool_result');
  if (!hasBash) rec.reply = 'side';
  else if (!toolResult) rec.reply = sees(rec, script) ? 'tool_call' : 'unaware';
  // Claude Code marks a refused call `is_error` ("User refused permission to run tool").
  else rec.reply = script.deniedText !== undefined && toolResult.is_error === true ? 'denied' : 'final';

  const model = rec.body?.model ?? 'claude-scripted';
  const content: any[] = [];
  if (rec.reply === 'tool_call') {
    rec.callId = `toolu_${rec.seq}`;
    content.push({ type: 'tool_use', id: rec.callId, name: 'Bash', input: { command: script.command, description: script.description } });
  } else {
    const text =
      rec.reply === 'side' ? sideText(rec.body) : rec.reply === 'denied' ? script.deniedText! : rec.reply === 'unaware' ? script.mustSee!.otherwise : script.finalText;
    content.push({ type: 'text', text });
  }
  const stopReason = rec.reply === 'tool_call' ? 'tool_use' : 'end_turn';
  const usage = { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const message = { id: `msg_${rec.seq}`, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage };

  if (rec.body?.stream !== true) return deliver(() => json(res, 200, message));

  const events: [string, any][] = [];
  events.push(['message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }]);
  content.forEach((block, index) => {
    if (block.type === 'tool_use') {
      events.push(['content_block_start', { index, content_block: { ...block, input: {} } }]);
      events.push(['content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } }]);
    } else {
      events.push(['content_block_start', { index, content_block: { type: 'text', text: '' } }]);
      for (const text of splitText(block.text)) events.push(['content_block_delta', { index, delta: { type: 'text_delta', text } }]);
    }
    events.push(['content_block_stop', { index }]);
  });
  events.push(['message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }]);
  events.push(['message_stop', {}]);
  deliver(() => sse(res, events.map(([type, data]) => [type, { type, ...data }])));
}

/**
 * A harmless answer for Claude Code's side requests. The one seen with 2.1.185 is session
 * title generation (no tools, system prompt "Return JSON with a single \"title\" field").
 */
function sideText(body: any): string {
  return /json/i.test(JSON.stringify(body?.system ?? '')) ? JSON.stringify({ title: 'Scripted session' }) : 'Scripted session';
}

/** Whether the request carries what `script.mustSee` requires (always, when nothing is required). */
function sees(rec: RecordedRequest, script: Script): boolean {
  if (!script.mustSee) return true;
  return (typeof rec.body === 'string' ? rec.body : JSON.stringify(rec.body ?? '')).includes(script.mustSee.text);
}

// ---------------------------------------------------------------------------------------

function collectToolResults(requests: RecordedRequest[]): { api: Api; callId: string; output: string }[] {
  const out = new Map<string, { api: Api; callId: string; output: string }>();
  for (const r of requests) {
    if (r.api === 'responses') {
      for (const i of r.body?.input ?? []) {
        if (/_call_output$/.test(String(i?.type))) {
          const output = typeof i.output === 'string' ? i.output : JSON.stringify(i.output);
          out.set(`r:${i.call_id}`, { api: r.api, callId: i.call_id, output });
        }
      }
    } else if (r.api === 'messages') {
      for (const m of r.body?.messages ?? []) {
        for (const b of Array.isArray(m?.content) ? m.content : []) {
          if (b?.type !== 'tool_result') continue;
          const output = typeof b.content === 'string' ? b.content : (b.content ?? []).map((c: any) => c?.text ?? '').join('');
          out.set(`m:${b.tool_use_id}`, { api: r.api, callId: b.tool_use_id, output });
        }
      }
    }
  }
  return [...out.values()];
}

const REFUSED = /rejected|declined|denied|refused/i;

function outputText(output: unknown): string {
  return typeof output === 'string' ? output : JSON.stringify(output ?? '');
}

function splitText(text: string): string[] {
  // Two deltas, to exercise the clients' accumulation.
  const mid = Math.ceil(text.length / 2);
  return text.length > 1 ? [text.slice(0, mid), text.slice(mid)] : [text];
}

function sse(res: http.ServerResponse, events: [string, unknown][]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const [type, data] of events) res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  res.end();
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
