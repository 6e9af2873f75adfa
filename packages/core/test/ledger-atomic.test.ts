// Atomic file replace under kill -9 (DESIGN §5): temp file in the same directory -> fsync ->
// rename -> fsync directory. After any kill the file is one complete version, never a mix.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/fsutil/index.js';
import { openLedger } from '../src/ledger/index.js';
import { brokenFiles, chunk, closed, created, fuzzSeed, logOf, onLines, prng, requireDist, spawnFixture, stderrOf } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const KILLS = Number(process.env.KEEL_ATOMIC_KILLS ?? 60);

/** Must match contentOf in fixtures/atomic-writer.mjs. */
function contentOf(n: number): string {
  const length = 512 * 1024 + (n % 7) * 4099;
  return `keel-atomic ${n} ${length}\n${(n % 2 === 0 ? 'A' : 'B').repeat(length)}`;
}

/** The version a file holds, or a description of why it is no complete version. */
function versionOf(bytes: Buffer): number | string {
  const header = /^keel-atomic (\d+) (\d+)\n/.exec(bytes.subarray(0, 64).toString('latin1'));
  if (!header) return `no header (${bytes.length} bytes)`;
  const n = Number(header[1]);
  return bytes.equals(Buffer.from(contentOf(n))) ? n : `header says version ${n} but the content is not that version (${bytes.length} bytes)`;
}

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

describe('writeFileAtomic', () => {
  const seed = fuzzSeed();
  const rand = prng(seed);
  const root = tempDir('keel-atomic-');
  const stats = { kills: 0, versionsWritten: 0, killedMidWrite: 0, strayTempFiles: 0 };

  beforeAll(() => requireDist());
  afterAll(() => {
    console.log(`[atomic] seed=${seed} ${JSON.stringify(stats)}`);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it(`leaves exactly one complete version after each of ${KILLS} SIGKILLs mid-rewrite`, { timeout: 300_000 }, async () => {
    const dir = path.join(root, 'kill');
    fs.mkdirSync(dir);
    const target = path.join(dir, 'state.json');
    let acknowledged = -1; // the highest version whose writeFileAtomic returned
    let next = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const where = `kill ${kill} (seed ${seed})`;
      const child = spawnFixture('atomic-writer.mjs', [target, String(next)]);
      const exited = closed(child);
      const stderr = stderrOf(child);
      const after = rand.int(1, 4);
      let seen = 0;
      let killed = false;
      onLines(child, (line) => {
        const match = /^WROTE (\d+)$/.exec(line);
        if (!match) return;
        acknowledged = Math.max(acknowledged, Number(match[1]));
        stats.versionsWritten += 1;
        if (++seen !== after || killed) return;
        killed = true;
        // Jitter the kill across the write, fsync, rename and directory fsync of the next version.
        const jitterMs = rand.int(0, 6);
        if (jitterMs === 0) child.kill('SIGKILL');
        else setTimeout(() => child.kill('SIGKILL'), jitterMs);
      });
      const { signal, code } = await exited;
      expect(signal, `${where}: writer died by itself (code ${code}): ${stderr()}`).toBe('SIGKILL');
      stats.kills += 1;

      const version = versionOf(fs.readFileSync(target));
      expect(typeof version, `${where}: ${String(version)}`).toBe('number');
      // Never older than the last acknowledged version, at most the one being written when killed.
      expect([acknowledged, acknowledged + 1], where).toContain(version);
      if (version === acknowledged + 1) stats.killedMidWrite += 1;
      expect(modeOf(target), where).toBe(0o600);
      const others = fs.readdirSync(dir).filter((name) => name !== 'state.json');
      expect(
        others.filter((name) => !name.startsWith('.state.json.tmp-')),
        `${where}: only .state.json.tmp-* strays`,
      ).toEqual([]);
      stats.strayTempFiles = others.length;
      next = Math.max(acknowledged, version as number) + 1;
    }
  });

  it('creates files with mode 0600, and replaces a looser file with a 0600 one', () => {
    const dir = path.join(root, 'modes');
    fs.mkdirSync(dir);
    const fresh = path.join(dir, 'fresh.json');
    writeFileAtomic(fresh, '{"a":1}');
    expect(modeOf(fresh)).toBe(0o600);
    expect(fs.readFileSync(fresh, 'utf8')).toBe('{"a":1}');
    const loose = path.join(dir, 'loose.json');
    fs.writeFileSync(loose, 'old', { mode: 0o644 });
    fs.chmodSync(loose, 0o644);
    writeFileAtomic(loose, Buffer.from('new'));
    expect(modeOf(loose)).toBe(0o600);
    expect(fs.readFileSync(loose, 'utf8')).toBe('new');
    expect(fs.readdirSync(dir).sort()).toEqual(['fresh.json', 'loose.json']);
  });

  it('a failed write leaves the old content and no temp file', () => {
    const dir = path.join(root, 'fail');
    fs.mkdirSync(dir);
    const target = path.join(dir, 'target');
    writeFileAtomic(target, 'old');
    // Renaming a file over a non-empty directory fails after the temp file was written.
    const blocked = path.join(dir, 'blocked');
    fs.mkdirSync(path.join(blocked, 'inside'), { recursive: true });
    expect(() => writeFileAtomic(blocked, 'new')).toThrow();
    expect(fs.readFileSync(target, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir).sort()).toEqual(['blocked', 'target']);
  });

  it('the ledger creates its directories 0700 and every file 0600 (log, database, WAL, lock, broken, export)', async () => {
    const dataDir = path.join(root, 'ledger-modes', 'data');
    const ledger = await openLedger({ dataDir });
    const runId = ledger.newRunId();
    await ledger.append(runId, created());
    await ledger.append(runId, chunk('x'));
    const exported = path.join(root, 'ledger-modes', 'export.ndjson');
    ledger.export(runId, exported);
    const files = ['keel.db', 'keel.db-wal', 'keel.db-shm', 'ledger.lock', path.join('ledger', `${runId}.ndjson`)];
    const modes = Object.fromEntries(files.map((file) => [file, modeOf(path.join(dataDir, file))]));
    await ledger.close();
    expect(modeOf(dataDir)).toBe(0o700);
    expect(modeOf(path.join(dataDir, 'ledger'))).toBe(0o700);
    expect(modes).toEqual(Object.fromEntries(files.map((file) => [file, 0o600])));
    expect(modeOf(exported)).toBe(0o600);
    // A torn tail: the .broken copy is private too.
    fs.appendFileSync(logOf(dataDir, runId), '{"torn":');
    const reopened = await openLedger({ dataDir });
    await reopened.close();
    const broken = brokenFiles(dataDir, runId);
    expect(broken).toHaveLength(1);
    expect(modeOf(broken[0]!)).toBe(0o600);
  });
});
