// The decisions under the sinks, without a server: the trace fold (deterministic ids, every span
// closed exactly once at a seq), the TLS rule for endpoints, OTLP header parsing, backoff
// bounds, and redaction failing closed. The servers themselves are in apps/cli/test/sink-postgres
// and export-otlp.
import { afterAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../src/contract/schemas/ledger.js';
import { openLedger } from '../src/ledger/index.js';
import {
  Backoff,
  ChainCheck,
  ChainMismatchError,
  checkOtlpEndpoint,
  checkPostgresUrl,
  isLoopbackHost,
  parseOtlpHeaders,
  redactValues,
  resolveOtlpTarget,
  runSpanIdOf,
  SinkConfigError,
  SinkRedactionError,
  spanIdOf,
  TraceFold,
  traceIdOf,
  type TextRedactor,
} from '../src/sinks/index.js';
import { removeTempDirs, tempDir } from './fixtures/runtime-kit.js';

afterAll(removeTempDirs);

/** A real chained run written through the ledger: a turn with a tool call, an approval, a restart, a checkpoint. */
async function recordedRun(): Promise<LedgerEvent[]> {
  const data = tempDir('keel-sinks-fold-');
  const ledger = await openLedger({ dataDir: data });
  const runId = ledger.newRunId();
  try {
    const append = (input: Parameters<typeof ledger.append>[1]) => ledger.append(runId, input);
    await append({ type: 'run.created', payload: { workspace: data, agent: { kind: 'codex', command: ['codex', 'app-server'] } } });
    await append({ type: 'session.bound', generation: 1, payload: { generation: 1, sessionId: 's1', outcome: 'new', method: 'thread/start', remapped: false } });
    await append({ type: 'run.state', payload: { state: 'idle' } });
    await append({ type: 'prompt.sent', generation: 1, payload: { turn: 1, text: 'go', ik: 'ik:1' } });
    await append({ type: 'approval.requested', generation: 1, payload: { approvalId: 'a1', generation: 1, turn: 1, action: { kind: 'exec', title: 'npm test' }, actionKey: 'k', reason: 'policy', source: 'agent' } });
    await append({ type: 'approval.decided', payload: { approvalId: 'a1', decision: 'allow_once', by: 'user' } });
    await append({ type: 'tool.started', generation: 1, payload: { toolCallId: 't1', title: 'npm test', kind: 'execute' } });
    await append({ type: 'runtime.exited', payload: { generation: 1, code: null, signal: 'SIGKILL', expected: false } });
    await append({ type: 'tool.interrupted', payload: { generation: 1, toolCallIds: ['t1'], reason: 'agent died' } });
    await append({ type: 'runtime.restarting', payload: { nextGeneration: 2, attempt: 1, delayMs: 1000, reason: 'exit' } });
    await append({ type: 'session.bound', generation: 2, payload: { generation: 2, sessionId: 's1', outcome: 'restored', method: 'thread/resume', remapped: false } });
    await append({ type: 'turn.ended', payload: { turn: 1, stopReason: 'agent_restarted' } });
    await append({ type: 'run.state', payload: { state: 'idle', stopReason: 'agent_restarted' } });
    return ledger.read(runId, { limit: 100 });
  } finally {
    await ledger.close();
  }
}

describe('TraceFold', () => {
  it('derives ids from the run id and the opening seq only: two folds of one run give identical spans', async () => {
    const events = await recordedRun();
    const fold = (list: LedgerEvent[]) => {
      const f = new TraceFold(list[0]!.run_id);
      return list.flatMap((event) => f.accept(event));
    };
    const a = fold(events);
    expect(a).toEqual(fold(events));
    const runId = events[0]!.run_id;
    expect(new Set(a.map((span) => span.traceId))).toEqual(new Set([traceIdOf(runId)]));
    expect(traceIdOf(runId)).toMatch(/^[0-9a-f]{32}$/);
    const byName = Object.fromEntries(a.map((span) => [span.name, span]));
    expect(byName['turn 1']!.spanId).toBe(spanIdOf(runId, 4));
    expect(byName['turn 1']!.parentSpanId).toBe(runSpanIdOf(runId));
    expect(byName['approval exec']!.parentSpanId).toBe(spanIdOf(runId, 4));
    expect(byName['execute_tool execute']).toMatchObject({ parentSpanId: spanIdOf(runId, 4), status: { code: 'error' } });
    expect(byName['agent restart']!.attributes).toMatchObject({ 'keel.generation': 1, 'keel.generation.next': 2, 'keel.restart.attempt': 1, 'keel.session.outcome': 'restored' });
    expect(byName['keel.run app-server'] ?? byName['keel.run codex']).toBeDefined();
    const root = a.find((span) => span.parentSpanId === null)!;
    expect(root.attributes).toMatchObject({ 'gen_ai.system': 'openai', 'keel.stop_reason': 'agent_restarted', 'keel.generation': 2, 'keel.seq.first': 1, 'keel.seq.last': 13 });
    expect(root.status).toEqual({ code: 'error', message: 'agent_restarted' });
  });

  it('closes every span exactly once, at a seq: for any resume point the spans before and after it are the whole trace', async () => {
    const events = await recordedRun();
    const f = new TraceFold(events[0]!.run_id);
    const all = events.flatMap((event) => f.accept(event).map((span) => ({ span, at: event.seq })));
    for (const { span, at } of all) expect(span.closedAt).toBe(at);
    const ids = all.map(({ span }) => span.spanId);
    expect(new Set(ids).size).toBe(ids.length);
    for (let position = 0; position <= events.length; position += 1) {
      const sent = all.filter(({ span }) => span.closedAt <= position).map(({ span }) => span.spanId);
      const rest = all.filter(({ span }) => span.closedAt > position).map(({ span }) => span.spanId);
      expect([...sent, ...rest].sort()).toEqual([...ids].sort());
    }
  });
});

describe('ChainCheck', () => {
  it('accepts a real chain and refuses a gap, a wrong prev and an edited record', async () => {
    const events = await recordedRun();
    const check = new ChainCheck(events[0]!.run_id);
    for (const event of events) check.accept(event);
    expect(check.lastSeq).toBe(events.length);
    const from = (n: number) => new ChainCheck(events[0]!.run_id, { seq: n, hash: events[n - 1]!.hash });
    expect(() => from(2).accept(events[3]!)).toThrow(ChainMismatchError);
    expect(() => from(2).accept({ ...events[2]!, prev: events[0]!.hash })).toThrow(/its prev/);
    expect(() => from(2).accept({ ...events[2]!, payload: { state: 'failed' } })).toThrow(/hashes to/);
  });
});

describe('remote endpoints', () => {
  it('loopback is 127.0.0.0/8, ::1 and localhost; nothing else', () => {
    for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '::1', '[::1]', 'api.localhost']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['10.0.0.1', '192.168.1.2', 'collector', 'example.com', '::ffff:10.0.0.1', '0.0.0.0']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('OTLP: https anywhere, http only to loopback, other schemes never', () => {
    expect(checkOtlpEndpoint('https://otel.example.com/v1/traces').host).toBe('otel.example.com');
    expect(checkOtlpEndpoint('http://127.0.0.1:4318/v1/traces').port).toBe('4318');
    expect(() => checkOtlpEndpoint('http://otel.example.com/v1/traces')).toThrow(/remote endpoint needs TLS/);
    expect(() => checkOtlpEndpoint('ftp://127.0.0.1/x')).toThrow(SinkConfigError);
    expect(() => checkOtlpEndpoint('not a url')).toThrow(/not a URL/);
  });

  it('PostgreSQL: a socket or loopback may go without TLS; a remote host needs sslmode require or stronger', () => {
    expect(() => checkPostgresUrl('postgres://keel@127.0.0.1:5432/keel')).not.toThrow();
    expect(() => checkPostgresUrl('postgresql://keel@/keel?host=/var/run/postgresql')).not.toThrow();
    expect(() => checkPostgresUrl('postgres://keel@db.example.com/keel?sslmode=verify-full')).not.toThrow();
    expect(() => checkPostgresUrl('postgres://keel@db.example.com/keel')).toThrow(/without TLS/);
    expect(() => checkPostgresUrl('postgres://keel@db.example.com/keel?sslmode=disable')).toThrow(/without TLS/);
    expect(() => checkPostgresUrl('postgres://keel@db.example.com/keel?ssl=true')).not.toThrow();
    expect(() => checkPostgresUrl('mysql://keel@127.0.0.1/keel')).toThrow(/postgres:\/\//);
    expect(checkPostgresUrl('postgres://keel:hunter2@127.0.0.1/keel').display).toBe('postgres://keel:***@127.0.0.1/keel');
  });

  it('OTLP settings: flag, then settings, then the standard variables; headers percent-decoded', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318/', OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=x%20y' };
    expect(resolveOtlpTarget(undefined, { schema_version: 1 }, env)).toMatchObject({ from: 'OTEL_EXPORTER_OTLP_ENDPOINT', headers: { a: '1', b: 'x y' } });
    expect(resolveOtlpTarget(undefined, { schema_version: 1 }, env).url.href).toBe('http://localhost:4318/v1/traces');
    expect(resolveOtlpTarget(undefined, { schema_version: 1, otlp: { endpoint: 'https://c.example/v1/traces', headers: { a: '2' } } }, env)).toMatchObject({ from: 'settings', headers: { a: '2', b: 'x y' } });
    expect(resolveOtlpTarget('https://flag.example/v1/traces', { schema_version: 1 }, env).from).toBe('flag');
    expect(() => resolveOtlpTarget(undefined, { schema_version: 1 }, {})).toThrow(/No OTLP endpoint/);
    expect(() => parseOtlpHeaders('novalue', 'X')).toThrow(/key=value/);
  });
});

describe('Backoff', () => {
  it('full jitter under a doubling ceiling, capped, and reset', () => {
    const top = new Backoff(100, 1000, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999]);
    top.reset();
    expect(top.next()).toBe(99);
    expect(new Backoff(100, 1000, () => 0).next()).toBe(0);
  });
});

describe('redaction for sinks', () => {
  const replacing = (secret: string): TextRedactor => ({ redact: async (text) => ({ text: text.split(secret).join('[X]') }) });

  it('redacts secret-named keys and values, marks only what changed, and survives a replacement that crosses lines', async () => {
    const out = await redactValues([{ a: 'keep' }, { text: 'has SECRET inside' }, { apiKey: 'k-123', n: { password: 'p', tokens: 12 } }], replacing('SECRET'));
    expect(out).toEqual([
      { value: { a: 'keep' }, redacted: false },
      { value: { text: 'has [X] inside' }, redacted: true },
      { value: { apiKey: '[REDACTED:key]', n: { password: '[REDACTED:key]', tokens: 12 } }, redacted: true },
    ]);
    // A redactor that swallows a newline between two records: value by value instead.
    const crossing: TextRedactor = { redact: async (text) => ({ text: text.replace(/B"}\n{"x":"C/g, '[X]').replace(/B/g, '[B]') }) };
    expect(await redactValues([{ x: 'AB' }, { x: 'CD' }], crossing)).toEqual([
      { value: { x: 'A[B]' }, redacted: true },
      { value: { x: 'CD' }, redacted: false },
    ]);
  });

  it('fails closed: a redactor that throws stops the sink with SinkRedactionError', async () => {
    const broken: TextRedactor = { redact: async () => Promise.reject(new Error('detector crashed')) };
    await expect(redactValues([{ a: 1 }], broken)).rejects.toThrow(SinkRedactionError);
    await expect(redactValues([{ a: 1 }], broken)).rejects.toThrow(/detector crashed\); nothing was sent/);
  });
});

