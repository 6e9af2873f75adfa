// `keel export otlp` against a loopback OTLP/HTTP collector that decodes what it gets: real runs
// of the built-in agent through the CLI, the span tree and its attributes, deterministic ids,
// the persisted position, redaction, and a collector outage that loses and duplicates nothing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { openLedger, runSpanIdOf, traceIdOf } from '@keel/core';
import { closed, lineLog, stderrOf } from '../../../packages/core/test/fixtures/ledger-kit.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../../packages/core/test/fixtures/otlp-receiver.js';
import { keelBin, removeTempDirs, repoRoot, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';

let data: string;
const runIds: Record<string, string> = {};
const liveRuns: Record<string, string> = {};
const receivers: OtlpReceiver[] = [];
/** Every span of every run, from a clean export: what any later export must add up to. */
let reference: ReceivedSpan[] = [];

const runIdOf = (stdout: string) => /^run (\S+): /m.exec(stdout)?.[1];
const receiver = async (port?: number) => {
  const started = await startOtlpReceiver(port);
  receivers.push(started);
  return started;
};
const ids = (spans: readonly ReceivedSpan[]) => spans.map((span) => span.spanId).sort();
const ofRun = (spans: readonly ReceivedSpan[], runId: string) => spans.filter((span) => span.traceId === traceIdOf(runId));

beforeAll(async () => {
  requireBuilt();
  data = tempDir('keel-otlp-data-');
  for (const script of ['edit-and-test', 'fault-crash']) {
    const ws = fs.realpathSync(tempDir(`keel-otlp-ws-${script}-`));
    const result = await runKeel(['run', '--data', data, '--workspace', ws, '--script', script, '--approve', 'all'], { guardMs: 90_000 });
    expect(result.code).toBe(0);
    runIds[script] = runIdOf(result.stdout)!;
  }
}, 120_000);
afterAll(async () => {
  for (const started of receivers) await started.close();
  removeTempDirs();
});

describe('keel export otlp', () => {
  it('sends one trace per run: the run as root, turns under it, tool calls, approvals and checkpoints under their turn, with GenAI and keel.* attributes', async () => {
    const collector = await receiver();
    // "tests passed" stands in for a secret in this environment: it must not leave the machine.
    const result = await runKeel(['export', 'otlp', '--endpoint', collector.url, '--data', data, '--json'], { env: { KEEL_TEST_SECRET_TOKEN: 'tests passed' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { spans: number; runs: unknown[] };
    expect(report.spans).toBe(collector.received.length);
    expect(report.runs).toHaveLength(2);
    reference = [...collector.received];
    expect(new Set(ids(reference)).size).toBe(reference.length); // no span twice
    expect(new Set(reference.map((span) => span.traceId))).toEqual(new Set(Object.values(runIds).map(traceIdOf)));

    const edit = ofRun(reference, runIds['edit-and-test']!);
    const root = edit.find((span) => span.parentSpanId === null)!;
    expect(root.spanId).toBe(runSpanIdOf(runIds['edit-and-test']!));
    expect(root.name).toBe('keel.run edit-and-test');
    expect(root.attributes).toMatchObject({ 'gen_ai.system': 'keel.builtin', 'gen_ai.operation.name': 'invoke_agent', 'keel.run.id': runIds['edit-and-test'], 'keel.run.state': 'idle', 'keel.stop_reason': 'end_turn', 'keel.turns': 1, 'keel.seq.first': 1 });
    expect(root.resource).toMatchObject({ 'service.name': 'keel' });
    const turns = edit.filter((span) => span.name.startsWith('turn '));
    expect(turns.map((span) => [span.name, span.parentSpanId])).toEqual([['turn 1', root.spanId]]);
    const turn = turns[0]!;
    expect(turn.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'keel.turn': 1, 'keel.stop_reason': 'end_turn', 'gen_ai.response.finish_reasons': ['end_turn'] });
    expect(turn.attributes['keel.seq.last']).toBeGreaterThan(turn.attributes['keel.seq.first'] as number);
    // Token usage as the built-in agent reported it (usage.reported deltas), on the turn and the run.
    expect(turn.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(turn.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect([root.attributes['gen_ai.usage.input_tokens'], root.attributes['gen_ai.usage.output_tokens']]).toEqual([
      turn.attributes['gen_ai.usage.input_tokens'],
      turn.attributes['gen_ai.usage.output_tokens'],
    ]);
    expect(turn.status.code).toBe(1); // OK
    const tools = edit.filter((span) => span.name.startsWith('execute_tool'));
    expect(tools.map((span) => [span.name, span.parentSpanId, span.attributes['keel.tool.status']])).toEqual([
      ['execute_tool edit', turn.spanId, 'completed'],
      ['execute_tool execute', turn.spanId, 'completed'],
    ]);
    expect(tools[0]!.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.call.id': 'write-1-4', 'gen_ai.system': 'keel.builtin' });
    // Redaction: the secret's value is gone from the tool title, the rest of it is kept.
    expect(tools[1]!.attributes['keel.tool.title']).toBe("Run sh -c 'cat hello.txt && echo [REDACTED:environment-value]'");
    expect(JSON.stringify(reference)).not.toContain('tests passed');
    const approvals = edit.filter((span) => span.name.startsWith('approval '));
    expect(approvals.map((span) => [span.name, span.parentSpanId, span.attributes['keel.approval.decision'], span.attributes['keel.approval.by']])).toEqual([
      ['approval write', turn.spanId, 'allow_once', 'auto'],
      ['approval exec', turn.spanId, 'allow_once', 'auto'],
    ]);
    const checkpoints = edit.filter((span) => span.name === 'checkpoint');
    expect(checkpoints.map((span) => [span.attributes['keel.turn'], span.parentSpanId])).toEqual([
      [0, root.spanId],
      [1, turn.spanId],
    ]);
    for (const span of edit) expect(span.endMs).toBeGreaterThanOrEqual(span.startMs);

    const crash = ofRun(reference, runIds['fault-crash']!);
    const crashTurns = crash.filter((span) => span.name.startsWith('turn '));
    expect(crashTurns.map((span) => [span.name, span.attributes['keel.stop_reason'], span.status.code])).toEqual([
      ['turn 1', 'agent_restarted', 2],
      ['turn 2', 'end_turn', 1],
    ]);
    const restarts = crash.filter((span) => span.name === 'agent restart');
    expect(restarts).toHaveLength(1);
    expect(restarts[0]!.parentSpanId).toBe(crashTurns[0]!.spanId);
    expect(restarts[0]!.attributes).toMatchObject({ 'keel.generation': 1, 'keel.generation.next': 2, 'keel.exit.code': 17, 'keel.session.outcome': 'replayed' });
    const crashRoot = crash.find((span) => span.parentSpanId === null)!;
    expect(crashRoot.attributes['keel.generation']).toBe(2);

    // Nothing new since: the next export sends nothing; --again sends the same spans, same ids.
    const second = await runKeel(['export', 'otlp', '--endpoint', collector.url, '--data', data, '--json']);
    expect(JSON.parse(second.stdout).spans).toBe(0);
    expect(collector.received).toHaveLength(reference.length);
    const again = await receiver();
    const resent = await runKeel(['export', 'otlp', '--endpoint', again.url, '--data', data, '--again', '--run', runIds['edit-and-test']!], { env: { KEEL_TEST_SECRET_TOKEN: 'tests passed' } });
    expect(resent.code).toBe(0);
    expect(ids(again.received)).toEqual(ids(edit));
  }, 120_000);

  it('a collector answering 503 recovers: every span arrives exactly once', async () => {
    const collector = await receiver();
    collector.refuseNext(3);
    const result = await runKeel(['export', 'otlp', '--endpoint', collector.url, '--data', data, '--batch-spans', '4'], { guardMs: 90_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(collector.requests.refused).toBe(3);
    expect(ids(collector.received)).toEqual(ids(reference));
  }, 120_000);

  it('a collector that is down, then starts: the export waits with backoff and delivers every span exactly once', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const child = spawn(process.execPath, [keelBin, 'export', 'otlp', '--endpoint', `http://127.0.0.1:${port}/v1/traces`, '--data', data], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = closed(child);
    const stderr = lineLog(child.stderr!);
    const retry = await stderr.until((lines) => lines.find((line) => line.includes('unavailable')), 'a retry line');
    expect(retry).toMatch(/collector http:\/\/127\.0\.0\.1:\d+ unavailable .*; retrying in \d+ ms/);
    const collector = await receiver(port);
    expect((await exit).code).toBe(0);
    expect(ids(collector.received)).toEqual(ids(reference));
  }, 120_000);

  it('the position is persisted per batch: an export that gives up mid-way resumes where it stopped, nothing twice, nothing skipped', async () => {
    const collector = await receiver();
    // Accept two requests, then refuse long enough for the export to give up.
    const first = spawn(
      process.execPath,
      [keelBin, 'export', 'otlp', '--endpoint', collector.url, '--data', data, '--batch-spans', '3', '--give-up-after', '1500'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const firstExit = closed(first);
    const firstErr = stderrOf(first);
    await collector.until(() => collector.requests.accepted >= 2 && (collector.refuseNext(1_000_000), true), 'two accepted requests');
    const { code } = await firstExit;
    expect(code).toBe(1);
    expect(firstErr()).toContain('Nothing was lost: the position is kept');
    const partial = collector.received.length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(reference.length);
    const positions = fs.readdirSync(path.join(data, 'sinks')).filter((name) => name.startsWith('otlp-'));
    expect(positions.length).toBeGreaterThan(0);

    collector.refuseNext(0);
    const resumed = await runKeel(['export', 'otlp', '--endpoint', collector.url, '--data', data, '--batch-spans', '3'], { guardMs: 60_000 });
    expect(resumed.code).toBe(0);
    expect(ids(collector.received)).toEqual(ids(reference));
  }, 120_000);

  it('--follow (the live exporter) sends a run appended after it started, then stops cleanly on SIGTERM', async () => {
    const collector = await receiver();
    const fresh = await receiver();
    const child = spawn(process.execPath, [keelBin, 'export', 'otlp', '--follow', '--interval', '100', '--endpoint', collector.url, '--data', data], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = closed(child);
    try {
      await collector.until(() => ids(collector.received).length === reference.length && ids(collector.received).join() === ids(reference).join(), 'the history');
      const ws = fs.realpathSync(tempDir('keel-otlp-ws-live-'));
      const result = await runKeel(['run', '--data', data, '--workspace', ws, '--script', 'hello', '--approve', 'all'], { guardMs: 90_000 });
      expect(result.code).toBe(0);
      const live = runIdOf(result.stdout)!;
      liveRuns.live = live;
      // The run's ledger is complete once `keel run` has exited: one fresh export of it (to another
      // collector, so another position) says what the live exporter must have sent, pass by pass.
      // (Waiting for the root span alone raced: it closes when the run first rests, before the
      // turn's checkpoint span, which a later pass sends.)
      const again = await runKeel(['export', 'otlp', '--again', '--run', live, '--endpoint', fresh.url, '--data', data]);
      expect(again.code).toBe(0);
      expect(ofRun(fresh.received, live).some((span) => span.parentSpanId === null)).toBe(true);
      await collector.until(() => ids(ofRun(collector.received, live)).join() === ids(fresh.received).join(), "the new run's spans, as a fresh export sends them");
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    expect(new Set(ids(collector.received)).size).toBe(collector.received.length);
  }, 120_000);

  it('a record that does not hash to its hash stops the export: exit 2, the position stays before it', async () => {
    const broken = tempDir('keel-otlp-broken-');
    const ledger = await openLedger({ dataDir: broken });
    const runId = ledger.newRunId();
    try {
      await ledger.append(runId, { type: 'run.created', payload: { workspace: broken, agent: { kind: 'builtin', script: 'hello' } } });
      for (let n = 1; n <= 5; n += 1) await ledger.append(runId, { type: 'note', payload: { text: `note ${n}` } });
    } finally {
      await ledger.close();
    }
    const db = new Database(path.join(broken, 'keel.db'));
    try {
      expect(db.prepare("UPDATE events SET record = replace(record, 'note 3', 'note three') WHERE run_id = ? AND seq = 4").run(runId).changes).toBe(1);
    } finally {
      db.close();
    }
    const collector = await receiver();
    const result = await runKeel(['export', 'otlp', '--endpoint', collector.url, '--data', broken]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Chain mismatch in run ${runId} at seq 4: the record hashes to`);
    expect(collector.received).toEqual([]);
    expect(fs.existsSync(path.join(broken, 'sinks'))).toBe(false); // no position moved past it
  });

  it('refuses plain http to a non-loopback collector, and a missing endpoint, in plain words', async () => {
    const remote = await runKeel(['export', 'otlp', '--endpoint', 'http://collector.example.com:4318/v1/traces', '--data', data]);
    expect(remote.code).toBe(1);
    expect(remote.stderr).toContain('Refusing to send traces to collector.example.com:4318 over plain http: a remote endpoint needs TLS');
    const none = await runKeel(['export', 'otlp', '--data', data], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' } });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No OTLP endpoint');
  });

  it('takes the endpoint and headers from the standard OTEL_EXPORTER_OTLP_* variables', async () => {
    const collector = await receiver();
    const result = await runKeel(['export', 'otlp', '--data', data, '--again', '--run', runIds['fault-crash']!], {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`, OTEL_EXPORTER_OTLP_HEADERS: 'x-team=keel%20team,authorization=Bearer%20abc' },
    });
    expect(result.code).toBe(0);
    expect(ids(collector.received)).toEqual(ids(ofRun(reference, runIds['fault-crash']!)));
    expect(collector.headers[0]).toMatchObject({ 'x-team': 'keel team', authorization: 'Bearer abc' });
  });
});
