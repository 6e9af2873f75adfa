// `keel sink postgres` and `keel sink verify` against a real PostgreSQL server started here
// (Debian's postgresql, a throwaway cluster): real runs of the built-in agent through the CLI,
// a kill -9 of the mirror mid-copy, and chains that must be refused.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMirror, LATEST_MIRROR_VERSION, migrateMirror, mirrorMigrations, openLedger } from '@keel/core';
import { closed, lineLog, stderrOf } from '../../../packages/core/test/fixtures/ledger-kit.js';
import { findPostgres, startPostgres, type TestPostgres } from '../../../packages/core/test/fixtures/postgres-kit.js';
import { keelBin, removeTempDirs, repoRoot, requireBuilt, runKeel, tempDir } from '../../../packages/core/test/fixtures/runtime-kit.js';

const found = findPostgres();
const skipReason = 'missing' in found ? found.missing : null;
if (skipReason) console.warn(`sink-postgres tests skipped: ${skipReason}`);

let server: TestPostgres;
let databases = 0;
const freshDatabase = () => server.createDatabase(`keel_test_${++databases}`);

beforeAll(async () => {
  if (skipReason) return;
  requireBuilt();
  server = await startPostgres(found as Exclude<typeof found, { missing: string }>);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  removeTempDirs();
});

/** A data dir with `runs` runs of `notes` note events each, written through the real ledger. */
async function ledgerWithNotes(runs: number, notes: number): Promise<{ data: string; runIds: string[] }> {
  const data = tempDir('keel-sink-notes-');
  const ledger = await openLedger({ dataDir: data });
  const runIds: string[] = [];
  try {
    for (let r = 0; r < runs; r += 1) {
      const runId = ledger.newRunId();
      runIds.push(runId);
      await ledger.append(runId, { type: 'run.created', payload: { workspace: data, agent: { kind: 'builtin', script: 'hello' } } });
      const appends: Promise<unknown>[] = [];
      for (let n = 1; n <= notes; n += 1) appends.push(ledger.append(runId, { type: 'note', payload: { text: `note ${n} of run ${r}` } }, { durability: 'stream' }));
      await Promise.all(appends);
    }
  } finally {
    await ledger.close();
  }
  return { data, runIds };
}

async function localHeads(data: string): Promise<Map<string, number>> {
  const ledger = await openLedger({ dataDir: data, readOnly: true });
  try {
    return new Map(ledger.runs().map((run) => [run.id, run.lastSeq]));
  } finally {
    await ledger.close();
  }
}

/** Per run in the mirror: rows, distinct seqs, max seq. */
async function mirrorCounts(url: string): Promise<Map<string, { rows: number; distinct: number; max: number }>> {
  const rows = await server.query<{ run_id: string; rows: string; distinct: string; max: number }>(
    url,
    'SELECT run_id, count(*) AS rows, count(DISTINCT seq) AS distinct, max(seq) AS max FROM keel_events GROUP BY run_id',
  );
  return new Map(rows.map((row) => [row.run_id, { rows: Number(row.rows), distinct: Number(row.distinct), max: row.max }]));
}

describe.skipIf(skipReason)('keel sink postgres (real PostgreSQL)', () => {
  it('migrations: a fresh database gets every numbered migration once; keel_events refuses UPDATE, DELETE and TRUNCATE', async () => {
    const url = await freshDatabase();
    const client = await connectMirror(url);
    try {
      const versions = (await client.query<{ version: number }>('SELECT version FROM keel_migrations ORDER BY version')).rows.map((row) => row.version);
      expect(versions).toEqual(mirrorMigrations.map((migration) => migration.version));
      expect(versions.at(-1)).toBe(LATEST_MIRROR_VERSION);
      expect(await migrateMirror(client)).toEqual([]);
      await client.query(
        "INSERT INTO keel_runs (run_id, workstation, last_seq, last_hash) VALUES ('r1', 'w', 1, 'h')",
      );
      await client.query("INSERT INTO keel_events (run_id, seq, ts, type, record, hash, prev, redacted) VALUES ('r1', 1, now(), 'note', '{}', 'h', 'p', false)");
      await expect(client.query("UPDATE keel_events SET type = 'x'")).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(client.query('DELETE FROM keel_events')).rejects.toThrow(/append-only: DELETE refused/);
      await expect(client.query('TRUNCATE keel_events')).rejects.toThrow(/append-only: TRUNCATE refused/);
      // A database migrated by a newer Keel is refused, not guessed at.
      await client.query("INSERT INTO keel_migrations (version, name) VALUES (999, 'from the future')");
      await expect(migrateMirror(client)).rejects.toThrow(/schema version 999, newer than this Keel knows/);
    } finally {
      await client.end();
    }
  });

  it('mirrors real built-in agent runs; sink verify agrees record by record; a second pass copies nothing', async () => {
    const data = tempDir('keel-sink-runs-');
    for (const script of ['hello', 'edit-and-test', 'fault-crash']) {
      const ws = fs.realpathSync(tempDir(`keel-sink-ws-${script}-`));
      const result = await runKeel(['run', '--data', data, '--workspace', ws, '--script', script, '--approve', 'all'], { guardMs: 90_000 });
      expect(result.code).toBe(0);
    }
    const url = await freshDatabase();
    const first = await runKeel(['sink', 'postgres', '--once', '--url', url, '--data', data, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const heads = await localHeads(data);
    const report = JSON.parse(first.stdout) as { copied: number; runs: Array<{ runId: string; toSeq: number }> };
    expect(report.copied).toBe([...heads.values()].reduce((a, b) => a + b, 0));
    expect(new Map(report.runs.map((run) => [run.runId, run.toSeq]))).toEqual(heads);
    const counts = await mirrorCounts(url);
    for (const [runId, lastSeq] of heads) expect(counts.get(runId)).toEqual({ rows: lastSeq, distinct: lastSeq, max: lastSeq });

    const runsRows = await server.query<{ run_id: string; state: string; last_seq: number; agent: { kind: string } }>(url, 'SELECT run_id, state, last_seq, agent FROM keel_runs');
    expect(runsRows.map((row) => [row.run_id, row.last_seq]).sort()).toEqual([...heads].sort());
    expect(runsRows.every((row) => row.agent.kind === 'builtin' && typeof row.state === 'string')).toBe(true);
    // The record is queryable as JSON: the approvals the built-in agent asked for.
    const approvals = await server.query<{ n: string }>(url, "SELECT count(*) AS n FROM keel_events WHERE type = 'approval.decided' AND record->'payload'->>'decision' = 'allow_once'");
    expect(Number(approvals[0]!.n)).toBeGreaterThan(0);

    // The README's example queries run on the mirror and answer.
    const byStop = await server.query<{ stop_reason: string; count: string }>(url, 'SELECT stop_reason, count(*) FROM keel_runs GROUP BY stop_reason ORDER BY count(*) DESC');
    expect(byStop.reduce((sum, row) => sum + Number(row.count), 0)).toBe(3);
    await server.query(
      url,
      `SELECT r.workstation, e.record->'payload'->>'rule' AS rule, count(*)
       FROM keel_events e JOIN keel_runs r USING (run_id)
       WHERE e.type = 'policy.decided' AND e.record->'payload'->>'decision' = 'deny'
       GROUP BY 1, 2 ORDER BY 3 DESC`,
    );
    const recoveries = await server.query<{ run_id: string; generation: number; recovered_after: unknown }>(
      url,
      `SELECT x.run_id, (x.record->'payload'->>'generation')::int AS generation,
              (SELECT min(b.ts) FROM keel_events b
                WHERE b.run_id = x.run_id AND b.type = 'session.bound' AND b.seq > x.seq
                  AND (b.record->'payload'->>'generation')::int = (x.record->'payload'->>'generation')::int + 1
              ) - x.ts AS recovered_after
       FROM keel_events x
       WHERE x.type = 'runtime.exited' AND (x.record->'payload'->>'expected')::boolean = false
       ORDER BY recovered_after DESC NULLS FIRST`,
    );
    expect(recoveries.map((row) => row.generation)).toEqual([1]); // fault-crash: generation 1 died, 2 took over
    expect(recoveries[0]!.recovered_after).not.toBeNull();

    const verify = await runKeel(['sink', 'verify', '--url', url, '--data', data]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('mirror agrees with the ledger (3 runs)');
    const again = await runKeel(['sink', 'postgres', '--once', '--url', url, '--data', data, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ runs: [], copied: 0 });
  }, 120_000);

  it('kill -9 of the mirror mid-copy, then resume: every event is in the mirror exactly once', async () => {
    const { data } = await ledgerWithNotes(4, 2500);
    const heads = await localHeads(data);
    const total = [...heads.values()].reduce((a, b) => a + b, 0);
    const url = await freshDatabase();
    const child = spawn(process.execPath, [keelBin, 'sink', 'postgres', '--url', url, '--data', data, '--batch', '100'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = closed(child);
    const stderr = stderrOf(child);
    // Killed the moment the first batch is committed: the rest of the copy is in flight.
    await lineLog(child.stdout!, stderr).until((lines) => lines.some((line) => line.startsWith('copied ')), 'a committed batch');
    child.kill('SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');
    const partial = [...(await mirrorCounts(url)).values()].reduce((sum, run) => sum + run.rows, 0);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(total);
    expect(partial % 100).toBe(0); // only whole batches: a killed transaction left nothing behind

    const resumed = await runKeel(['sink', 'postgres', '--once', '--url', url, '--data', data, '--json', '--batch', '100'], { guardMs: 60_000 });
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).copied).toBe(total - partial);
    const counts = await mirrorCounts(url);
    for (const [runId, lastSeq] of heads) expect(counts.get(runId)).toEqual({ rows: lastSeq, distinct: lastSeq, max: lastSeq });
    const verify = await runKeel(['sink', 'verify', '--url', url, '--data', data], { guardMs: 60_000 });
    expect(verify.stdout).toContain('mirror agrees with the ledger (4 runs)');
    expect(verify.code).toBe(0);
  }, 120_000);

  it('a record that does not hash to its hash is refused: exit 2, nothing at or after it copied', async () => {
    const { data, runIds } = await ledgerWithNotes(1, 30);
    const runId = runIds[0]!;
    const db = new Database(path.join(data, 'keel.db'));
    try {
      const changed = db.prepare("UPDATE events SET record = replace(record, 'note 12 of', 'note XII of') WHERE run_id = ? AND seq = 13").run(runId);
      expect(changed.changes).toBe(1);
    } finally {
      db.close();
    }
    const url = await freshDatabase();
    const result = await runKeel(['sink', 'postgres', '--once', '--url', url, '--data', data, '--batch', '5']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Chain mismatch in run ${runId} at seq 13: the record hashes to`);
    expect((await mirrorCounts(url)).get(runId)).toEqual({ rows: 12, distinct: 12, max: 12 });
    const verify = await runKeel(['sink', 'verify', '--url', url, '--data', data]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('the mirror ends at seq 12, the ledger at 31');
  }, 60_000);

  it('a mirror holding a different history of a run is refused: exit 2, the mirror left as it was', async () => {
    const { data, runIds } = await ledgerWithNotes(1, 10);
    const runId = runIds[0]!;
    const url = await freshDatabase();
    const client = await connectMirror(url);
    const forged = 'f'.repeat(64);
    try {
      await client.query("INSERT INTO keel_runs (run_id, workstation, last_seq, last_hash) VALUES ($1, 'elsewhere', 1, $2)", [runId, forged]);
      await client.query("INSERT INTO keel_events (run_id, seq, ts, type, record, hash, prev, redacted) VALUES ($1, 1, now(), 'run.created', '{}', $2, $2, false)", [runId, forged]);
    } finally {
      await client.end();
    }
    const result = await runKeel(['sink', 'postgres', '--once', '--url', url, '--data', data]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Chain mismatch in run ${runId} at seq 1`);
    expect(result.stderr).toContain('a different history');
    expect((await mirrorCounts(url)).get(runId)).toEqual({ rows: 1, distinct: 1, max: 1 });
  }, 60_000);

  it('what leaves is redacted: secret values and secret-named keys never reach PostgreSQL, and verify still agrees', async () => {
    const data = tempDir('keel-sink-secret-');
    const secret = 'zq7-s3cr3t-v4lue-for-the-mirror';
    const ledger = await openLedger({ dataDir: data });
    const runId = ledger.newRunId();
    try {
      await ledger.append(runId, { type: 'run.created', payload: { workspace: data, agent: { kind: 'builtin', script: 'hello' } } });
      await ledger.append(runId, { type: 'note', payload: { text: `deploying with ${secret} now` } });
      await ledger.append(runId, { type: 'tool.started', payload: { toolCallId: 't1', title: 'login', input: { user: 'ann', password: 'hunter2hunter2' } } });
      await ledger.append(runId, { type: 'note', payload: { text: 'nothing to hide' } });
    } finally {
      await ledger.close();
    }
    const url = await freshDatabase();
    const env = { KEEL_TEST_DEPLOY_TOKEN: secret };
    const result = await runKeel(['sink', 'postgres', '--once', '--url', url, '--data', data], { env });
    expect(result.code).toBe(0);
    const rows = await server.query<{ seq: number; record: string; redacted: boolean }>(url, 'SELECT seq, record::text AS record, redacted FROM keel_events ORDER BY seq');
    expect(rows.map((row) => [row.seq, row.redacted])).toEqual([[1, false], [2, true], [3, true], [4, false]]);
    const all = rows.map((row) => row.record).join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain('hunter2hunter2');
    expect(all).toContain('deploying with [REDACTED:');
    expect(JSON.parse(rows[2]!.record).payload.input).toEqual({ user: 'ann', password: '[REDACTED:key]' });
    const verify = await runKeel(['sink', 'verify', '--url', url, '--data', data], { env });
    expect(verify.stdout).toContain('mirror agrees with the ledger (1 runs)');
    expect(verify.code).toBe(0);
  }, 60_000);

  it('following: a separate read-only process copies events a live writer appends after it started', async () => {
    const { data, runIds } = await ledgerWithNotes(1, 5);
    const runId = runIds[0]!;
    const url = await freshDatabase();
    const child = spawn(process.execPath, [keelBin, 'sink', 'postgres', '--url', url, '--data', data, '--interval', '50'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = closed(child);
    const stderr = stderrOf(child);
    const stdout = lineLog(child.stdout!, stderr);
    const waitLine = (text: string) => stdout.until((lines) => lines.some((line) => line.includes(text)), `"${text}"`);
    try {
      await waitLine(`copied ${runId} seq 1..6`);
      // The writer opens the ledger (and its lock) while the mirror keeps reading it.
      const ledger = await openLedger({ dataDir: data });
      try {
        await ledger.append(runId, { type: 'note', payload: { text: 'written while mirroring' } });
      } finally {
        await ledger.close();
      }
      await waitLine(`copied ${runId} seq 7..`);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    const rows = await server.query<{ seq: number; text: string }>(url, "SELECT seq, record->'payload'->>'text' AS text FROM keel_events WHERE run_id = $1 AND seq > 6 ORDER BY seq", [runId]);
    expect(rows.map((row) => row.text)).toContain('written while mirroring');
  }, 60_000);
});

describe('keel sink postgres: refusals that need no server', () => {
  it('a non-loopback host without TLS is refused with the fix in the message', async () => {
    requireBuilt();
    const data = tempDir('keel-sink-tls-');
    await (await openLedger({ dataDir: data })).close();
    const result = await runKeel(['sink', 'postgres', '--once', '--url', 'postgres://keel@db.example.com/keel', '--data', data]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Refusing to copy the ledger to db.example.com without TLS: add ?sslmode=verify-full');
  });
});
