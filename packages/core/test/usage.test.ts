// Per-run usage (issue 15 point 25): what agents report about tokens, cost and context becomes
// usage.reported events; the run-view fold adds them up with the run's turn durations and tool
// calls (one formula, I9). The built-in agent reports usage like a real ACP agent, so the whole
// path runs without a model or keys.
import { describe, expect, it } from 'vitest';
import { RunView, UsageReportedPayload } from '../src/contract/index.js';
import { fold } from '../src/replay/index.js';
import { usageFromPromptResponse, usageFromUpdate } from '../src/runtime/acp/usage.js';
import { TokenUsageDeltas } from '../src/runtime/codex/usage.js';
import { BUILTIN_CONTEXT_SIZE } from '../src/runtime/builtin/usage.js';
import { useWorkstations } from './fixtures/workstation-kit.js';
import { events, step } from './fixtures/replay-kit.js';
import { tempDir } from './helpers.js';
import { AgentUnderTest, requireBuiltinDist } from './fixtures/builtin-harness.js';

const { start } = useWorkstations();
const created = step('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'demo' } });
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

describe('usage fold', () => {
  it('bounds what one agent can report, and the sums stay valid however many reports come (review: a run list an agent could break)', () => {
    expect(UsageReportedPayload.safeParse({ source: 'test', tokens: { input: 2 ** 52, output: 0, total: 2 ** 52 } }).success).toBe(false);
    expect(UsageReportedPayload.safeParse({ source: 'test', cost: { session: 's', amount: 1e10, currency: 'USD' } }).success).toBe(false);
    const big = { input: 1e12, output: 1e12, total: 1e12 };
    const reports = Array.from({ length: 20_000 }, () => step('usage.reported', { turn: 1, source: 'test', tokens: big }));
    const view = fold(events([created, step('prompt.sent', { turn: 1, text: 'hi', ik: 'ik:1' }), ...reports]));
    expect(view.usage.tokens).toEqual({ input: Number.MAX_SAFE_INTEGER, output: Number.MAX_SAFE_INTEGER, total: Number.MAX_SAFE_INTEGER });
    expect(RunView.parse(view).usage).toEqual(view.usage);
  });

  it('adds token deltas, keeps each session\'s latest cost (summed per unit), the latest context, and sums turn durations', () => {
    // ts are one second apart: prompt at 2 s, turn end at 6 s; prompt at 7 s, turn end at 9 s.
    const view = fold(
      events([
        created,
        step('prompt.sent', { turn: 1, text: 'hi', ik: 'ik:1' }),
        step('usage.reported', { turn: 1, source: 'test', tokens: { input: 100, output: 20, total: 120 } }),
        step('usage.reported', { turn: 1, source: 'test', tokens: { input: 50, output: 5, cachedInput: 40, total: 55 }, cost: { session: 's1', amount: 0.5, currency: 'USD' } }),
        step('usage.reported', { turn: 1, source: 'test', cost: { session: 's1', amount: 0.75, currency: 'USD' }, context: { used: 155, size: 1000 } }),
        step('turn.ended', { turn: 1, stopReason: 'end_turn' }),
        step('prompt.sent', { turn: 2, text: 'again', ik: 'ik:2' }),
        step('usage.reported', { turn: 2, source: 'test', cost: { session: 's2', amount: 0.25, currency: 'USD' }, context: { used: 300, size: 1000 } }),
        step('turn.ended', { turn: 2, stopReason: 'end_turn' }),
        step('usage.reported', { source: 'test', cost: { session: 's3', amount: 7, currency: 'credits' } }),
      ]),
    );
    expect(RunView.parse(view).usage).toEqual(view.usage);
    expect(view.usage).toEqual({
      tokens: { input: 150, output: 25, cachedInput: 40, total: 175 },
      cost: [
        { amount: 1, currency: 'USD' },
        { amount: 7, currency: 'credits' },
      ],
      costBySession: { s1: { amount: 0.75, currency: 'USD' }, s2: { amount: 0.25, currency: 'USD' }, s3: { amount: 7, currency: 'credits' } },
      context: { used: 300, size: 1000 },
      toolCalls: 0,
      durationMs: 6000,
      turnSince: null,
    });
  });

  it('counts each tool call once (a restated call is not a new one); an open turn is not in the duration yet', () => {
    const view = fold(
      events([
        created,
        step('prompt.sent', { turn: 1, text: 'hi', ik: 'ik:1' }),
        step('tool.started', { toolCallId: 't1', title: 'ls' }),
        step('tool.started', { toolCallId: 't1', title: 'ls -la' }),
        step('tool.updated', { toolCallId: 't1', status: 'completed' }),
        step('tool.updated', { toolCallId: 't2', status: 'in_progress' }),
      ]),
    );
    expect(view.usage).toMatchObject({ tokens: null, cost: [], toolCalls: 2, durationMs: 0, turnSince: '2025-01-01T00:00:02.000Z' });
  });

  it('a run whose agent reports nothing has no tokens and no cost (Keel never invents them)', () => {
    const view = fold(events([created, step('prompt.sent', { turn: 1, text: 'hi', ik: 'ik:1' }), step('turn.ended', { turn: 1, stopReason: 'end_turn' })]));
    expect(view.usage).toMatchObject({ tokens: null, cost: [], costBySession: {}, context: null, durationMs: 1000 });
  });

  it('rejects a malformed report as an invalid payload instead of folding it', () => {
    const view = fold(events([created, step('usage.reported', { source: 'test', tokens: { input: -1, output: 2, total: 1 } })]));
    expect(view.ignored.invalidPayload).toBe(1);
    expect(view.usage.tokens).toBeNull();
  });
});

describe('adapters: usage in each protocol', () => {
  it('ACP usage_update gives the context window and the session\'s cost; unusable numbers are dropped', () => {
    expect(usageFromUpdate({ used: 10, size: 100, cost: { amount: 0.2, currency: 'USD' } }, 'sess')).toEqual({
      kind: 'usage',
      source: 'acp:usage_update',
      context: { used: 10, size: 100 },
      cost: { amount: 0.2, currency: 'USD', session: 'sess' },
    });
    expect(usageFromUpdate({ used: 10, size: 100, cost: null }, 'sess')).toEqual({ kind: 'usage', source: 'acp:usage_update', context: { used: 10, size: 100 } });
    expect(usageFromUpdate({ used: -1, size: 1.5, cost: { amount: Number.NaN, currency: 'USD' } }, 'sess')).toBeNull();
  });

  it('ACP prompt response usage gives the turn\'s tokens; a response without it gives nothing', () => {
    expect(usageFromPromptResponse({ stopReason: 'end_turn', usage: { inputTokens: 9, outputTokens: 3, totalTokens: 14, thoughtTokens: 2, cachedReadTokens: 4 } })).toEqual({
      kind: 'usage',
      source: 'acp:prompt_response',
      tokens: { input: 9, output: 3, total: 14, reasoning: 2, cachedInput: 4 },
    });
    expect(usageFromPromptResponse({ stopReason: 'end_turn' })).toBeNull();
    expect(usageFromPromptResponse({ stopReason: 'end_turn', usage: { inputTokens: 'many' } })).toBeNull();
  });

  it('Codex thread totals become deltas: the first report counts its last call, a repeat counts nothing, a smaller total restarts', () => {
    const deltas = new TokenUsageDeltas();
    const report = (total: number, last: number, window: number | null = 1000) => ({
      threadId: 'th',
      turnId: 'tu',
      tokenUsage: {
        total: { totalTokens: total, inputTokens: total - 10, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 10, reasoningOutputTokens: 0 },
        last: { totalTokens: last, inputTokens: last - 10, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 10, reasoningOutputTokens: 0 },
        modelContextWindow: window,
      },
    });
    // A resumed thread: 500 were used before this process; only the last call (120) is new.
    expect(deltas.next(report(500, 120))).toMatchObject({ tokens: { input: 110, output: 10, total: 120 }, context: { used: 120, size: 1000 } });
    expect(deltas.next(report(500, 120))).toBeNull();
    expect(deltas.next(report(640, 140, null))).toEqual({
      kind: 'usage',
      source: 'codex:thread/tokenUsage/updated',
      tokens: { input: 140, output: 0, cachedInput: 0, reasoning: 0, total: 140 },
    });
    expect(deltas.next(report(60, 60))).toMatchObject({ tokens: { total: 60 } });
  });
});

describe('the built-in agent reports usage through the ACP adapter', () => {
  it('a turn records its tokens (one word, one token) and context before turn.ended; the run view shows them with duration and tool calls', async () => {
    const { workstation, client } = await start();
    const run = await client.invoke('runs.create', { workspace: tempDir(), agent: { kind: 'builtin', script: 'hello' } });
    const prompt = 'Say hello to the team';
    const { turn } = await client.invoke('run.prompt', { runId: run.id, text: prompt });
    await workstation.runs.get(run.id).waitForTurn(turn);
    const all = workstation.runs.events(run.id);
    const reports = all.filter((event) => event.type === 'usage.reported');
    const ended = all.find((event) => event.type === 'turn.ended')!;
    expect(reports.map((event) => (event.payload as { source: string }).source).sort()).toEqual(['acp:prompt_response', 'acp:usage_update']);
    expect(reports.every((event) => event.seq < ended.seq)).toBe(true);

    const view = await client.invoke('run.view', { runId: run.id });
    const said = view.items.filter((item) => item.kind === 'message').map((item) => item.text).join(' ');
    const output = words(said);
    expect(output).toBeGreaterThan(0);
    expect(view.usage.tokens).toEqual({ input: words(prompt), output, total: words(prompt) + output });
    expect(view.usage.context).toEqual({ used: words(prompt) + output, size: BUILTIN_CONTEXT_SIZE });
    expect(view.usage.cost).toEqual([]);
    expect(view.usage.toolCalls).toBe(view.items.filter((item) => item.kind === 'tool').length);
    const sent = all.find((event) => event.type === 'prompt.sent')!;
    expect(view.usage.durationMs).toBe(Date.parse(ended.ts) - Date.parse(sent.ts));
    expect(view.usage.turnSince).toBeNull();
  });
});

describe('the built-in agent over ACP', () => {
  it('answers each prompt with the turn\'s tokens (one word, one token) and sends a usage_update with its context window', async () => {
    requireBuiltinDist();
    const cwd = tempDir();
    const agent = new AgentUnderTest({ script: 'hello', stateDir: tempDir(), cwd });
    try {
      await agent.initialize();
      const sessionId = await agent.newSession(cwd);
      await agent.prompt(sessionId, 'Hello there');
      const said = words(agent.messages().join(' '));
      expect(agent.usage).toEqual([
        { sessionUpdate: 'usage_update', used: 2 + said, size: BUILTIN_CONTEXT_SIZE },
        { inputTokens: 2, outputTokens: said, totalTokens: 2 + said },
      ]);
    } finally {
      await agent.kill();
    }
  });
});
