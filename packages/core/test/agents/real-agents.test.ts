// End-to-end runs of the REAL agents (Codex app-server, Claude Code via claude-agent-acp)
// against a scripted model on 127.0.0.1: no internet, no login. The agents come from the
// cache filled by `node scripts/agents/install.mjs` (`npm run test:agents` runs it first);
// when they are missing these tests are skipped with the reason printed, never installed here.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { methods } from '@agentclientprotocol/sdk';
import type * as acp from '@agentclientprotocol/sdk';
import { agentPaths } from '../../../../scripts/agents/paths.mjs';
import { tempDir } from '../helpers.js';
import {
  ACP_CLIENT_CAPABILITIES,
  CodexRpc,
  allowOnce,
  claudeEnv,
  codexEnv,
  connectAcp,
  killAllAgents,
  fileChanges,
  killGroup,
  spawnAgent,
  waitUntil,
  type AgentProcess,
  type PermissionAnswer,
} from './harness.js';
import { startScriptedModelServer, type ScriptedModelServer } from './scripted-model-server.js';

const paths = agentPaths();
const missing = (what: string) => `${what} is not installed in ${paths.cache}: run \`node scripts/agents/install.mjs\` (or \`npm run test:agents\`)`;
if (!paths.codex) console.warn(`[real-agents] skipping Codex tests: ${missing('@openai/codex@0.169.0')}`);
if (!paths.claudeAcp) console.warn(`[real-agents] skipping Claude tests: ${missing('@agentclientprotocol/claude-agent-acp@0.49.0')}`);

const COMMAND = 'echo keel-offline > proof.txt';
const FINAL = 'Done: proof.txt holds the proof.';

let servers: ScriptedModelServer[] = [];
afterEach(async () => {
  await killAllAgents();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function scripted(): Promise<ScriptedModelServer> {
  const s = await startScriptedModelServer({ command: COMMAND, finalText: FINAL });
  servers.push(s);
  return s;
}

function proofIn(ws: string): string | null {
  const file = path.join(ws, 'proof.txt');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}

// ---------------------------------------------------------------------------------------
describe.skipIf(!paths.codex)('Codex app-server 0.169.0 (offline)', () => {
  function startCodex(home: string, ws: string, model: ScriptedModelServer): { proc: AgentProcess; rpc: CodexRpc } {
    const proc = spawnAgent(paths.codex!, ['app-server'], { cwd: ws, env: codexEnv(home, model.url) });
    return { proc, rpc: new CodexRpc(proc) };
  }

  async function startThread(rpc: CodexRpc, ws: string): Promise<string> {
    await rpc.initialize();
    // `untrusted` asks before any command that is not known to be read-only.
    const res = await rpc.request('thread/start', { cwd: ws, approvalPolicy: 'untrusted', sandbox: 'workspace-write' });
    return res.thread.id as string;
  }

  function startTurn(rpc: CodexRpc, threadId: string, id: string): Promise<any> {
    return rpc.request('turn/start', {
      threadId,
      clientUserMessageId: id,
      input: [{ type: 'text', text: 'Write the proof file.', text_elements: [] }],
    });
  }

  it('runs a real shell tool call after approval and completes the turn', async () => {
    const model = await scripted();
    const ws = tempDir('keel-codex-ws-');
    const { rpc } = startCodex(tempDir('keel-codex-home-'), ws, model);
    const threadId = await startThread(rpc, ws);
    const turn = await startTurn(rpc, threadId, 'msg-1');

    const approval = await rpc.waitFor('item/commandExecution/requestApproval');
    expect(approval.params.threadId).toBe(threadId);
    expect(approval.params.command).toContain(COMMAND);
    expect(proofIn(ws)).toBeNull(); // nothing runs before the approval
    rpc.respond(approval.id!, { decision: 'accept' });

    const done = await rpc.waitFor('turn/completed');
    expect(done.params.turn.id).toBe(turn.turn.id);
    expect(done.params.turn.status).toBe('completed');
    expect(proofIn(ws)).toBe('keel-offline\n');

    // The tool result went back to the model, and its final text reached the client.
    const results = model.toolResults();
    expect(results).toHaveLength(1);
    expect(results[0]!.output).toContain('exited with code 0');
    const agentText = rpc.received
      .filter((m) => m.method === 'item/completed' && m.params.item.type === 'agentMessage')
      .map((m) => m.params.item.text);
    expect(agentText).toContain(FINAL);
    expect(model.requests.filter((r) => r.api === 'responses').map((r) => r.reply)).toEqual(['tool_call', 'final']);
  }, 60_000);

  it('killed while an approval is pending: the turn comes back interrupted and is not re-asked', async () => {
    const model = await scripted();
    const ws = tempDir('keel-codex-ws-');
    const home = tempDir('keel-codex-home-');
    const first = startCodex(home, ws, model);
    const threadId = await startThread(first.rpc, ws);
    const turn = await startTurn(first.rpc, threadId, 'msg-1');
    await first.rpc.waitFor('item/commandExecution/requestApproval');

    await killGroup(first.proc);
    expect(proofIn(ws)).toBeNull();

    // Restart on the same CODEX_HOME and resume the thread.
    const requestsAtKill = model.requests.length;
    const second = startCodex(home, ws, model);
    await second.rpc.initialize();
    const resumed = await second.rpc.request('thread/resume', { threadId, cwd: ws, approvalPolicy: 'untrusted', sandbox: 'workspace-write' });
    const turns: any[] = resumed.thread.turns;
    expect(turns.map((t) => [t.id, t.status])).toEqual([[turn.turn.id, 'interrupted']]);
    // Only the user message survives (its clientId is our clientUserMessageId); the command
    // item that was waiting for approval was never persisted.
    expect(turns[0].items.map((i: any) => [i.type, i.clientId])).toEqual([['userMessage', 'msg-1']]);

    // Resuming neither re-issues the lost approval nor calls the model... Proved without a
    // window: a read of the same thread, answered after the resume, finds it idle (no turn
    // running, none waiting on an approval), and nothing arrived before that answer.
    const read = await second.rpc.request('thread/read', { threadId });
    expect(read.thread.status).toEqual({ type: 'idle' });
    expect(second.rpc.received.filter((m) => m.method?.endsWith('requestApproval'))).toEqual([]);
    expect(model.requests.length).toBe(requestsAtKill);

    // ...only a new turn asks again, and then the command runs.
    const again = await startTurn(second.rpc, threadId, 'msg-2');
    const approval = await second.rpc.waitFor('item/commandExecution/requestApproval');
    // The one approval this process ever asked is the new turn's.
    expect(second.rpc.received.filter((m) => m.method?.endsWith('requestApproval')).map((m) => m.params.turnId)).toEqual([again.turn.id]);
    second.rpc.respond(approval.id!, { decision: 'accept' });
    const done = await second.rpc.waitFor('turn/completed');
    expect(done.params.turn.status).toBe('completed');
    expect(proofIn(ws)).toBe('keel-offline\n');

    // In the new turn's history the killed call is closed with the output "aborted".
    const next = model.requests.slice(requestsAtKill).find((r) => r.api === 'responses')!;
    const killedCall = next.body.input.find((i: any) => i.type === 'function_call_output' && i.call_id === 'call_1');
    expect(killedCall?.output).toBe('aborted');
  }, 90_000);
});

// ---------------------------------------------------------------------------------------
describe.skipIf(!paths.claudeAcp)('Claude Code via claude-agent-acp 0.49.0 (offline)', () => {
  function startClaude(home: string, ws: string, model: ScriptedModelServer, answer: PermissionAnswer = allowOnce) {
    const proc = spawnAgent(paths.claudeAcp!, [], { cwd: ws, env: claudeEnv(home, model.url) });
    return { proc, ...connectAcp(proc, answer) };
  }

  async function newSession(conn: ReturnType<typeof startClaude>['conn'], ws: string): Promise<string> {
    await conn.agent.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: ACP_CLIENT_CAPABILITIES });
    const session = await conn.agent.request(methods.agent.session.new, { cwd: ws, mcpServers: [] });
    return session.sessionId;
  }

  /** Where Claude Code keeps a session transcript: $HOME/.claude/projects/<cwd, non-alnum -> '-'>/<id>.jsonl */
  const claudeTranscript = (home: string, ws: string, sessionId: string) =>
    path.join(home, '.claude', 'projects', ws.replace(/[^a-zA-Z0-9]/g, '-'), `${sessionId}.jsonl`);

  const prompt = (sessionId: string): acp.PromptRequest => ({ sessionId, prompt: [{ type: 'text', text: 'Write the proof file.' }] });

  it('asks permission for Bash, runs it after allow_once and ends the turn', async () => {
    const model = await scripted();
    const ws = tempDir('keel-claude-ws-');
    const { conn, log } = startClaude(tempDir('keel-claude-home-'), ws, model);
    const sessionId = await newSession(conn, ws);
    const result = await conn.agent.request(methods.agent.session.prompt, prompt(sessionId));

    expect(result.stopReason).toBe('end_turn');
    expect(log.permissions).toHaveLength(1);
    expect(log.permissions[0]!.toolCall.rawInput).toMatchObject({ command: COMMAND });
    expect(proofIn(ws)).toBe('keel-offline\n');
    // Claude Code runs Bash itself; the client's terminal/fs methods are not used (0.49.0).
    expect(log.calls).toEqual([]);

    const text = log.updates
      .map((u) => u.update)
      .filter((u) => u.sessionUpdate === 'agent_message_chunk')
      .map((u) => (u.content.type === 'text' ? u.content.text : ''))
      .join('');
    expect(text).toBe(FINAL);
    expect(model.toolResults()).toHaveLength(1);
    const main = model.requests.filter((r) => r.api === 'messages' && r.reply !== 'side').map((r) => r.reply);
    expect(main).toEqual(['tool_call', 'final']);
    // Claude Code's title-generation side request (no tools) got its neutral answer.
    expect(model.requests.some((r) => r.reply === 'side')).toBe(true);
  }, 60_000);

  it.each(['load', 'resume'] as const)('killed while a permission is pending: session/%s after restart', async (how) => {
    const model = await scripted();
    const ws = tempDir('keel-claude-ws-');
    const home = tempDir('keel-claude-home-');
    // Never answer: the permission stays pending until the kill.
    const first = startClaude(home, ws, model, () => new Promise<never>(() => {}));
    const sessionId = await newSession(first.conn, ws);
    const pending = first.conn.agent.request(methods.agent.session.prompt, prompt(sessionId));
    pending.catch(() => {}); // rejected when the connection dies
    await waitUntil(() => first.log.permissions.length > 0, 30_000, 'session/request_permission', first.log.changes);
    // Claude Code writes its transcript a few ms after asking; killed before that, the whole
    // session is lost (session/load answers "Resource not found"). Wait for the tool_use line.
    const transcript = claudeTranscript(home, ws, sessionId);
    await waitUntil(() => fs.existsSync(transcript) && fs.readFileSync(transcript, 'utf8').includes('"tool_use"'), 10_000, 'transcript flush', fileChanges(transcript));

    await killGroup(first.proc);
    await expect(pending).rejects.toThrow();
    expect(proofIn(ws)).toBeNull();

    // Restart on the same HOME (Claude Code keeps transcripts in $HOME/.claude/projects).
    const second = startClaude(home, ws, model);
    await second.conn.agent.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: ACP_CLIENT_CAPABILITIES });
    const method = how === 'load' ? methods.agent.session.load : methods.agent.session.resume;
    await second.conn.agent.request(method, { sessionId, cwd: ws, mcpServers: [] });
    const replayed = second.log.updates.filter((u) => u.update.sessionUpdate !== 'available_commands_update').map((u) => u.update);
    if (how === 'load') {
      // load replays the history: the prompt, then the killed Bash call, still `pending`.
      expect(replayed.map((u) => u.sessionUpdate)).toEqual(['user_message_chunk', 'tool_call']);
      expect(replayed[1]).toMatchObject({ status: 'pending', rawInput: { command: COMMAND } });
    } else {
      expect(replayed).toEqual([]); // resume restores the session silently
    }
    expect(second.log.updates.every((u) => u.sessionId === sessionId)).toBe(true);
    // The lost permission is not re-asked on restart. Proved without a window: after answering
    // session/load or session/resume, claude-agent-acp asks its Claude Code process for the slash
    // commands and sends them (available_commands_update); once that arrives, the restored
    // session has been set up end to end, and no permission came before it.
    await waitUntil(
      () => second.log.updates.some((u) => u.update.sessionUpdate === 'available_commands_update'),
      30_000,
      'available_commands_update after the restore',
      second.log.changes,
    );
    expect(second.log.permissions).toEqual([]);

    // A new prompt on the same session works. Claude Code dropped the killed tool_use from the
    // history it sends ("Continue from where you left off." + "No response requested."), so
    // the model starts over and the new Bash call asks again.
    const requestsBefore = model.requests.length;
    const result = await second.conn.agent.request(methods.agent.session.prompt, prompt(sessionId));
    expect(result.stopReason).toBe('end_turn');
    expect(second.log.permissions).toHaveLength(1);
    expect(proofIn(ws)).toBe('keel-offline\n');
    const next = model.requests.slice(requestsBefore).find((r) => r.api === 'messages' && r.reply !== 'side')!;
    const history = JSON.stringify(next.body.messages);
    expect(history).not.toContain('"tool_use"');
    expect(history).toContain('Continue from where you left off.');
  }, 90_000);
});
