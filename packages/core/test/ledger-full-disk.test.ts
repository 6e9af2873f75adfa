// Storage failures (I1, I3, DESIGN §5): a full disk (a small tmpfs, root only) and a file-size
// limit (RLIMIT_FSIZE via `ulimit -f`, any user) make writes fail part-way. The ledger must stop
// accepting writes (fail stop, never retry and trust), keep everything it acknowledged, and
// recover cleanly once space is back.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../src/contract/schemas/ledger.js';
import { LedgerError, openLedger, type Ledger } from '../src/ledger/index.js';
import { chunk, closed, created, logOf, logRecords, onLines, readAll, rejection, requireDist, spawnFixture, stderrOf } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';
import { mountTmpfs as mountAt, probeTmpfs, remountTmpfs, unmountAll } from './fixtures/tmpfs-kit.js';

const root = tempDir('keel-disk-');
const openLedgers: Ledger[] = [];

const tmpfs = probeTmpfs(root);
if (!tmpfs.ok) console.log(`[full-disk] skipping the tmpfs tests: ${tmpfs.reason}`);
const bash = ['/bin/bash', '/usr/bin/bash'].find((file) => fs.existsSync(file));
if (!bash) console.log('[full-disk] skipping the RLIMIT_FSIZE test: no bash for `ulimit -f`');

const mountTmpfs = (name: string, size: string) => mountAt(root, name, size);
const remount = remountTmpfs;

afterAll(async () => {
  for (const ledger of openLedgers) await ledger.close().catch(() => {});
  unmountAll();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The failed batch was rolled back: each log holds exactly the acknowledged records, no partial line. */
function expectLogsHoldExactlyTheAcks(dataDir: string, acks: readonly LedgerEvent[]): void {
  for (const runId of new Set(acks.map((ack) => ack.run_id))) {
    const bytes = fs.readFileSync(logOf(dataDir, runId), 'utf8');
    expect(bytes.endsWith('\n'), `${runId}: the log ends on a complete line`).toBe(true);
    expect(logRecords(logOf(dataDir, runId)).map((event) => `${event.seq}:${event.hash}`)).toEqual(
      acks.filter((ack) => ack.run_id === runId).map((ack) => `${ack.seq}:${ack.hash}`),
    );
  }
}

/** Every acknowledged event is in the NDJSON log and in SQLite with the same hash. */
function expectAllAcknowledged(ledger: Ledger, dataDir: string, acks: readonly LedgerEvent[]): void {
  const runIds = [...new Set(acks.map((ack) => ack.run_id))];
  for (const runId of runIds) {
    const fromLog = new Map(logRecords(logOf(dataDir, runId)).map((event) => [event.seq, event.hash]));
    const fromDb = new Map(readAll(ledger, runId).map((event) => [event.seq, event.hash]));
    const lost = acks.filter((ack) => ack.run_id === runId && (fromLog.get(ack.seq) !== ack.hash || fromDb.get(ack.seq) !== ack.hash));
    expect(lost.map((ack) => `${runId}#${ack.seq}`), 'acknowledged events missing after recovery').toEqual([]);
  }
}

describe('a full disk (tmpfs)', () => {
  const scenarios = [
    { name: 'small records', recordBytes: 200, size: '1m' },
    { name: '20 KiB records', recordBytes: 20_000, size: '2m' },
    // Batches of ~1 MiB: the NDJSON write itself runs out of space part-way (a short write, then ENOSPC).
    // Sized so two rounds fit whole (logs ~2 MiB + WAL ~2.1 MiB) and the third's NDJSON write does
    // not: 4 MiB sat within 40 KiB of SQLite filling first once markers moved with each batch.
    { name: '250 KiB records', recordBytes: 250_000, size: '4608k', failsIn: /ENOSPC/ },
  ] as Array<{ name: string; recordBytes: number; size: string; failsIn?: RegExp }>;
  for (const scenario of scenarios) {
    it.skipIf(!tmpfs.ok)(
      `with ${scenario.name}: appends fail stop with ledger_failed, acknowledged events survive, and the ledger recovers once space is back`,
      { timeout: 120_000 },
      async () => {
        const mnt = mountTmpfs(`tmpfs-${scenario.recordBytes}`, scenario.size);
        const dataDir = path.join(mnt, 'data');
        const ledger = await openLedger({ dataDir });
        openLedgers.push(ledger);
        const runs = [ledger.newRunId(), ledger.newRunId()];
        const acks: LedgerEvent[] = [];
        for (const runId of runs) acks.push(await ledger.append(runId, created()));
        let failure: LedgerError | null = null;
        for (let round = 0; !failure; round++) {
          expect(round, 'the disk never filled').toBeLessThan(200_000);
          const group = Array.from({ length: 4 }, (_, i) =>
            ledger.append(runs[(round + i) % 2]!, chunk(`r${round}.${i} ${'d'.repeat(scenario.recordBytes)}`), { durability: i % 2 ? 'stream' : 'critical' }),
          );
          for (const result of await Promise.allSettled(group)) {
            if (result.status === 'fulfilled') acks.push(result.value);
            else failure ??= result.reason as LedgerError;
          }
        }
        console.log(`[full-disk] ${scenario.name}: ${acks.length} acknowledged, then: ${failure.message}`);
        expect(failure).toBeInstanceOf(LedgerError);
        expect(failure.code).toBe('ledger_failed');
        expect(ledger.health()).toMatchObject({ status: 'failed' });
        expect(ledger.health().error).toBeTruthy();

        // Later appends are refused before any I/O.
        const sizes = runs.map((runId) => fs.statSync(logOf(dataDir, runId)).size);
        let settled = false;
        const later = ledger.append(runs[0]!, chunk('later')).catch((error: LedgerError) => {
          settled = true;
          return error;
        });
        await Promise.resolve();
        expect(settled, 'a later append rejects at once').toBe(true);
        expect(((await later) as LedgerError).code).toBe('ledger_failed');
        expect(runs.map((runId) => fs.statSync(logOf(dataDir, runId)).size)).toEqual(sizes);
        // Everything acknowledged is still readable from the failed ledger.
        for (const runId of runs) {
          const stored = new Map(readAll(ledger, runId).map((event) => [event.seq, event.hash]));
          expect(acks.filter((ack) => ack.run_id === runId && stored.get(ack.seq) !== ack.hash)).toEqual([]);
        }
        expectLogsHoldExactlyTheAcks(dataDir, acks);
        if (scenario.failsIn) expect(failure.message).toMatch(scenario.failsIn);
        await ledger.close();

        remount(mnt, '64m');
        const reopened = await openLedger({ dataDir });
        openLedgers.push(reopened);
        expect(reopened.recovery.quarantined).toEqual([]);
        expect(reopened.health()).toMatchObject({ status: 'ok', quarantinedRuns: [] });
        expectAllAcknowledged(reopened, dataDir, acks);
        const report = reopened.verify();
        expect(report.ok, JSON.stringify(report.runs.map((run) => run.problems))).toBe(true);
        for (const runId of runs) await reopened.append(runId, chunk('space is back'));
        expect(reopened.verify().ok).toBe(true);
        await reopened.close();
      },
    );
  }
});

describe('a file-size limit (RLIMIT_FSIZE, no root needed)', () => {
  beforeAll(() => requireDist());

  for (const recordBytes of [3_000, 100_000]) {
    it.skipIf(!bash)(
      `with ${recordBytes}-byte records: a write cut short by EFBIG fails the ledger stop, and a reopen without the limit loses nothing`,
      { timeout: 120_000 },
      async () => {
        const dataDir = path.join(root, `fsize-${recordBytes}`, 'data');
        // bash counts `ulimit -f` in 1024-byte blocks: a 1 MiB limit per file.
        const child = spawnFixture('fill-writer.mjs', [dataDir, String(recordBytes)], { shellPrefix: `ulimit -f 1024`, shell: bash! });
        const exited = closed(child);
        const stderr = stderrOf(child);
        const acks: LedgerEvent[] = [];
        const lines: Record<string, string> = {};
        onLines(child, (line) => {
          const [kind, ...rest] = line.split(' ');
          if (kind === 'ACK') {
            const [runId, seq, hash] = rest as [string, string, string];
            acks.push({ run_id: runId, seq: Number(seq), hash } as LedgerEvent);
          } else if (kind) lines[kind] = rest.join(' ');
        });
        const { code } = await exited;
        expect(code, `the writer failed: ${stderr()}`).toBe(0);
        console.log(`[full-disk] RLIMIT_FSIZE, ${recordBytes}-byte records: ${acks.length} acknowledged, then: ${lines.FAILED}`);
        expect(lines.FAILED?.split(' ')[0]).toBe('ledger_failed');
        expect(JSON.parse(lines.STATUS!)).toMatchObject({ status: 'failed' });
        expect(lines.LATER).toBe('ledger_failed true');
        expect(Number(lines.READABLE)).toBe(acks.length);
        expect(lines.CLOSED).toBe('');

        expectLogsHoldExactlyTheAcks(dataDir, acks);
        const reopened = await openLedger({ dataDir });
        openLedgers.push(reopened);
        expect(reopened.recovery.quarantined).toEqual([]);
        expectAllAcknowledged(reopened, dataDir, acks);
        expect(reopened.verify().ok).toBe(true);
        const runIds = [...new Set(acks.map((ack) => ack.run_id))];
        for (const runId of runIds) await reopened.append(runId, chunk('limit lifted'));
        expect(reopened.verify().ok).toBe(true);
        await reopened.close();
      },
    );
  }
});
