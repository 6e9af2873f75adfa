// Torn tails and mid-log damage (I3), fuzzed with a seeded PRNG. Replay a failure with
// KEEL_FUZZ_SEED=<seed printed in the failure>. The expected outcome of every case is computed
// here, independently of the ledger's scanner: a record survives damage only if its bytes
// (newline included) are unchanged, because any change breaks its hash or canonical encoding.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA_VERSION, type LedgerEvent } from '../src/contract/schemas/ledger.js';
import { openLedger, seal, type Ledger } from '../src/ledger/index.js';
import { brokenFiles, chunk, created, deleteDatabase, fastTempDir, fuzzSeed, logOf, prng, randomText, readAll, rejection, type Prng } from './fixtures/ledger-kit.js';

const TORN_CASES = Number(process.env.KEEL_TORN_CASES ?? 2_100);
const QUARANTINE_CASES = Number(process.env.KEEL_QUARANTINE_CASES ?? 300);
const NO_SQLITE_CASES = Number(process.env.KEEL_NO_SQLITE_CASES ?? 150);
const MAX_EXTRAS = 8;

interface Base {
  dir: string;
  runA: string;
  runB: string;
  /** Committed records of A (in both stores). */
  committedCount: number;
  committed: Buffer;
  /** Valid records continuing A's chain, written to the NDJSON file only (never committed). */
  extras: Buffer[];
  runBLog: Buffer;
}

const seed = fuzzSeed();
const roots: string[] = [];

/** A committed base log per size, built once through the real ledger and copied per case. */
async function buildBase(rand: Prng, committedCount: number): Promise<Base> {
  const dir = path.join(fastTempDir('keel-torn-base-'), 'data');
  roots.push(path.dirname(dir));
  const ledger = await openLedger({ dataDir: dir });
  const runA = ledger.newRunId();
  const runB = ledger.newRunId();
  await ledger.append(runA, created('A'));
  await ledger.append(runB, created('B'));
  for (let i = 1; i < committedCount; i++) await ledger.append(runA, chunk(randomText(rand, 300)), { durability: i % 2 ? 'stream' : 'critical' });
  for (let i = 0; i < 3; i++) await ledger.append(runB, chunk(`b${i}`));
  await ledger.close();
  const committed = fs.readFileSync(logOf(dir, runA));
  const lines = committed.toString('utf8').split('\n').filter(Boolean);
  expect(lines).toHaveLength(committedCount);
  let last = JSON.parse(lines.at(-1)!) as LedgerEvent;
  const extras: Buffer[] = [];
  for (let i = 0; i < MAX_EXTRAS; i++) {
    const { event, line } = seal({
      schema_version: LEDGER_SCHEMA_VERSION,
      run_id: runA,
      seq: last.seq + 1,
      ts: new Date().toISOString(),
      type: 'message.chunk',
      payload: { text: randomText(rand, 200) },
      prev: last.hash,
    });
    extras.push(Buffer.from(`${line}\n`));
    last = event;
  }
  return { dir, runA, runB, committedCount, committed, extras, runBLog: fs.readFileSync(logOf(dir, runB)) };
}

/** A fresh copy of the base (keel.db included) whose log of A holds `logA`. */
function materialize(base: Base, logA: Buffer, options: { withDatabase?: boolean } = {}): string {
  const dir = path.join(fastTempDir('keel-torn-case-'), 'data');
  fs.mkdirSync(path.join(dir, 'ledger'), { recursive: true, mode: 0o700 });
  if (options.withDatabase ?? true) fs.copyFileSync(path.join(base.dir, 'keel.db'), path.join(dir, 'keel.db'));
  fs.copyFileSync(logOf(base.dir, base.runB), logOf(dir, base.runB));
  fs.writeFileSync(logOf(dir, base.runA), logA, { mode: 0o600 });
  return dir;
}

const removeCase = (dir: string) => fs.rmSync(path.dirname(dir), { recursive: true, force: true });

type DamageKind = 'truncate' | 'zero-fill' | 'bit-flips';

/** One random damage inside [lo, hi) of `bytes` (a copy is returned). */
function damage(rand: Prng, bytes: Buffer, kind: DamageKind, lo: number, hi: number): { damaged: Buffer; description: string } {
  switch (kind) {
    case 'truncate': {
      const at = rand.int(lo, hi);
      return { damaged: Buffer.from(bytes.subarray(0, at)), description: `truncate at ${at}` };
    }
    case 'zero-fill': {
      const start = rand.int(lo, hi - 1);
      const end = rand.next() < 0.5 ? hi : rand.int(start + 1, hi);
      const damaged = Buffer.from(bytes);
      damaged.fill(0, start, end);
      return { damaged, description: `zero-fill [${start}, ${end})` };
    }
    case 'bit-flips': {
      const damaged = Buffer.from(bytes);
      const flips: string[] = [];
      for (let i = rand.int(1, 8); i > 0; i--) {
        const at = rand.int(lo, hi - 1);
        const bit = rand.int(0, 7);
        damaged[at]! ^= 1 << bit;
        flips.push(`${at}:${bit}`);
      }
      return { damaged, description: `bit flips ${flips.join(',')}` };
    }
  }
}

/** Distinct (byte, bit) flips inside [lo, hi): every flipped byte differs from the original. */
function distinctFlips(rand: Prng, bytes: Buffer, lo: number, hi: number): { damaged: Buffer; first: number; description: string } {
  const damaged = Buffer.from(bytes);
  const chosen = new Set<string>();
  let first = Number.POSITIVE_INFINITY;
  const count = rand.int(1, 8);
  while (chosen.size < count) {
    const at = rand.int(lo, hi - 1);
    const bit = rand.int(0, 7);
    const key = `${at}:${bit}`;
    if (chosen.has(key)) continue;
    chosen.add(key);
    damaged[at]! ^= 1 << bit;
    first = Math.min(first, at);
  }
  return { damaged, first, description: `bit flips ${[...chosen].join(',')}` };
}

/** Longest prefix of `records` whose bytes are intact in `damaged` at their original offsets. */
function intactPrefix(records: readonly Buffer[], damaged: Buffer): { count: number; bytes: number } {
  let bytes = 0;
  let count = 0;
  for (const record of records) {
    const end = bytes + record.length;
    if (end > damaged.length || !damaged.subarray(bytes, end).equals(record)) break;
    bytes = end;
    count += 1;
  }
  return { count, bytes };
}

const splitRecords = (log: Buffer): Buffer[] => {
  const out: Buffer[] = [];
  let start = 0;
  for (let at = log.indexOf(10); at !== -1; at = log.indexOf(10, start)) {
    out.push(log.subarray(start, at + 1));
    start = at + 1;
  }
  return out;
};

/** Asserts the outcome of a torn tail (damage past the committed records or, without SQLite, in the last line). */
async function expectTornTailOutcome(
  ledger: Ledger,
  dir: string,
  base: Base,
  damaged: Buffer,
  prefix: { count: number; bytes: number },
  where: string,
): Promise<void> {
  const { runA, runB } = base;
  expect(ledger.recovery.quarantined, where).toEqual([]);
  const cut = damaged.length > prefix.bytes;
  const broken = brokenFiles(dir, runA);
  if (!cut) {
    expect(fs.readFileSync(logOf(dir, runA)).equals(damaged), `${where}: an undamaged log is left alone`).toBe(true);
    expect(broken, where).toEqual([]);
    expect(ledger.recovery.repaired, where).toEqual([]);
  } else {
    expect(broken, `${where}: one .broken file`).toHaveLength(1);
    expect(fs.readFileSync(broken[0]!).equals(damaged.subarray(prefix.bytes)), `${where}: the cut bytes are kept byte for byte`).toBe(true);
    expect(ledger.recovery.repaired, where).toEqual([runA]);
    const log = fs.readFileSync(logOf(dir, runA));
    expect(log.subarray(0, prefix.bytes).equals(damaged.subarray(0, prefix.bytes)), `${where}: the valid prefix is kept`).toBe(true);
    const tail = log.subarray(prefix.bytes).toString('utf8');
    expect(tail.endsWith('\n') && tail.indexOf('\n') === tail.length - 1, `${where}: exactly one record follows the prefix`).toBe(true);
    const repaired = JSON.parse(tail) as LedgerEvent;
    expect(repaired, where).toMatchObject({
      type: 'ledger.repaired',
      seq: prefix.count + 1,
      payload: { truncatedBytes: damaged.length - prefix.bytes, keptThroughSeq: prefix.count, brokenFile: path.basename(broken[0]!) },
    });
  }
  const stored = readAll(ledger, runA);
  const logged = fs.readFileSync(logOf(dir, runA), 'utf8').split('\n').filter(Boolean);
  expect(stored.length, where).toBe(prefix.count + (cut ? 1 : 0));
  expect(
    stored.map((event) => event.hash),
    `${where}: SQLite holds exactly the kept records`,
  ).toEqual(logged.map((line) => (JSON.parse(line) as LedgerEvent).hash));
  const report = ledger.verify();
  expect(report.ok, `${where}: verify ${JSON.stringify(report.runs.map((run) => run.problems))}`).toBe(true);
  expect(readAll(ledger, runB).length, `${where}: run B untouched`).toBe(4);
  // The repaired run takes appends again.
  const next = await ledger.append(runA, chunk('after repair'));
  expect(next.seq, where).toBe(stored.length + 1);
}

describe('torn tails past the committed records', () => {
  const bases: Base[] = [];
  const counts: Record<string, number> = {};

  beforeAll(async () => {
    const rand = prng(seed);
    for (const size of [1, 6, 40]) bases.push(await buildBase(rand, size));
  });

  afterAll(() => {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
    console.log(`[torn-tail] seed=${seed} cases ${JSON.stringify(counts)}`);
  });

  const kinds: DamageKind[] = ['truncate', 'zero-fill', 'bit-flips'];
  const perIt = Math.ceil(TORN_CASES / (kinds.length * 3));
  for (const [kindIndex, kind] of kinds.entries()) {
    for (const baseIndex of [0, 1, 2]) {
      it(`${kind} after the last committed record of a ${['1', '6', '40'][baseIndex]}-record log keeps exactly the longest valid prefix (${perIt} cases)`, async () => {
        const caseSeed = (seed + kindIndex * 7919 + baseIndex * 104_729) >>> 0;
        const rand = prng(caseSeed);
        const base = bases[baseIndex]!;
        for (let i = 0; i < perIt; i++) {
          const extras = base.extras.slice(0, rand.int(1, MAX_EXTRAS));
          const full = Buffer.concat([base.committed, ...extras]);
          const { damaged, description } = damage(rand, full, kind, base.committed.length, full.length);
          const where = `seed ${seed} (KEEL_FUZZ_SEED=${seed}), ${kind} base ${base.committedCount} case ${i}: ${extras.length} uncommitted, ${description}`;
          const prefix = intactPrefix([...splitRecords(base.committed), ...extras], damaged);
          expect(prefix.count, where).toBeGreaterThanOrEqual(base.committedCount);
          const dir = materialize(base, damaged);
          try {
            const ledger = await openLedger({ dataDir: dir });
            try {
              await expectTornTailOutcome(ledger, dir, base, damaged, prefix, where);
            } finally {
              await ledger.close();
            }
          } finally {
            removeCase(dir);
          }
          counts[kind] = (counts[kind] ?? 0) + 1;
        }
      });
    }
  }

  it(`damage inside committed records quarantines the run, deletes nothing and leaves other runs alone (${QUARANTINE_CASES} cases)`, async () => {
    const rand = prng((seed ^ 0x5bd1e995) >>> 0);
    for (let i = 0; i < QUARANTINE_CASES; i++) {
      const base = bases[i % bases.length]!;
      const extras = base.extras.slice(0, rand.int(0, MAX_EXTRAS));
      const full = Buffer.concat([base.committed, ...extras]);
      const records = splitRecords(base.committed);
      // Flips confined to one committed record, or spread from one over the rest of the committed bytes.
      const target = rand.int(0, records.length - 1);
      const start = records.slice(0, target).reduce((sum, record) => sum + record.length, 0);
      const end = rand.next() < 0.7 ? start + records[target]!.length : base.committed.length;
      const { damaged, first, description } = distinctFlips(rand, full, start, end);
      const firstDamagedSeq = intactPrefix(records, damaged).count + 1;
      expect(firstDamagedSeq, 'the first flip decides the damaged record').toBe(splitRecords(base.committed.subarray(0, first)).length + 1);
      const where = `seed ${seed} (KEEL_FUZZ_SEED=${seed}), quarantine case ${i}: base ${base.committedCount}, ${extras.length} uncommitted, ${description}`;
      const dir = materialize(base, damaged);
      try {
        for (const pass of ['first open', 'second open']) {
          const ledger = await openLedger({ dataDir: dir });
          try {
            const at = `${where} (${pass})`;
            // Damage behind the verified marker is found by the check that follows open (issue 16).
            await ledger.backgroundCheck();
            const runA = ledger.run(base.runA);
            expect(runA?.quarantined, at).toBe(true);
            expect(runA?.quarantineReason, at).toContain(`record ${firstDamagedSeq} `);
            expect(ledger.health().quarantinedRuns, at).toEqual([base.runA]);
            const report = ledger.verify();
            expect(report.ok, at).toBe(false);
            expect(report.runs.find((run) => run.runId === base.runA)?.quarantined, at).toBe(true);
            expect(ledger.verify(base.runB).ok, `${at}: run B verifies`).toBe(true);
            const refused = await rejection(ledger.append(base.runA, chunk('refused')));
            expect(refused.code, at).toBe('run_quarantined');
            await ledger.append(base.runB, chunk(`b still writable ${pass}`));
            expect(fs.readFileSync(logOf(dir, base.runA)).equals(damaged), `${at}: the log is unchanged byte for byte`).toBe(true);
            expect(brokenFiles(dir, base.runA), at).toEqual([]);
          } finally {
            await ledger.close();
          }
          if (rand.next() < 0.8) break; // reopen a fifth of the cases: quarantine persists, still nothing deleted
        }
      } finally {
        removeCase(dir);
      }
    }
    counts.quarantine = QUARANTINE_CASES;
  });

  it(`without SQLite rows only a damaged last line is a torn tail; damage followed by complete lines quarantines (${NO_SQLITE_CASES} cases)`, async () => {
    const rand = prng((seed ^ 0x27d4eb2f) >>> 0);
    const outcomes = { truncated: 0, emptied: 0, quarantined: 0, intact: 0 };
    for (let i = 0; i < NO_SQLITE_CASES; i++) {
      const base = bases[i % bases.length]!;
      const extras = base.extras.slice(0, rand.int(0, MAX_EXTRAS));
      const full = Buffer.concat([base.committed, ...extras]);
      const records = [...splitRecords(base.committed), ...extras];
      const kind = rand.pick(['truncate', 'zero-fill', 'bit-flips'] as const);
      // Aim at the last record half of the time so torn tails are common.
      const lo = rand.next() < 0.5 ? full.length - records.at(-1)!.length : 0;
      const { damaged, description } = damage(rand, full, kind, lo, full.length);
      const where = `seed ${seed} (KEEL_FUZZ_SEED=${seed}), no-SQLite case ${i}: base ${base.committedCount}, ${extras.length} extra, ${description}`;
      const prefix = intactPrefix(records, damaged);
      // The damaged line ends at the first newline at or after its start; any newline after that ends a complete line.
      const damagedLineEnd = damaged.indexOf(10, prefix.bytes);
      const followed = prefix.bytes < damaged.length && damagedLineEnd !== -1 && damaged.indexOf(10, damagedLineEnd + 1) !== -1;
      const dir = materialize(base, damaged, { withDatabase: false });
      try {
        const ledger = await openLedger({ dataDir: dir });
        try {
          if (damaged.length === 0) {
            // Cut to nothing: no byte of A is left and SQLite holds none, so nothing acknowledged
            // remains to keep; recovery removes the empty log like a never-written one (I3: it
            // deletes no data, there is none). With SQLite rows the same log quarantines (below).
            outcomes.emptied += 1;
            expect(ledger.recovery.runs.find((run) => run.runId === base.runA)?.outcome, where).toBe('emptied');
            expect(fs.existsSync(logOf(dir, base.runA)), where).toBe(false);
            expect(brokenFiles(dir, base.runA), where).toEqual([]);
            expect(ledger.runs().map((run) => run.id), where).toEqual([base.runB]);
            expect(ledger.verify().ok, where).toBe(true);
          } else if (prefix.bytes === damaged.length) {
            outcomes.intact += 1;
            expect(ledger.verify().ok, where).toBe(true);
            expect(fs.readFileSync(logOf(dir, base.runA)).equals(damaged), where).toBe(true);
          } else if (followed) {
            outcomes.quarantined += 1;
            expect(ledger.recovery.quarantined, where).toEqual([base.runA]);
            expect(ledger.health().quarantinedRuns, where).toEqual([base.runA]);
            expect(ledger.verify().ok, where).toBe(false);
            expect((await rejection(ledger.append(base.runA, chunk('refused')))).code, where).toBe('run_quarantined');
            expect(fs.readFileSync(logOf(dir, base.runA)).equals(damaged), `${where}: nothing deleted`).toBe(true);
            expect(brokenFiles(dir, base.runA), where).toEqual([]);
            expect(readAll(ledger, base.runA).length, `${where}: the valid prefix is still readable`).toBe(prefix.count);
          } else if (prefix.count === 0) {
            // Not even run.created survived: the run is gone, its bytes kept.
            outcomes.emptied += 1;
            expect(fs.existsSync(logOf(dir, base.runA)), where).toBe(false);
            const broken = brokenFiles(dir, base.runA);
            expect(broken, where).toHaveLength(1);
            expect(fs.readFileSync(broken[0]!).equals(damaged), `${where}: every byte kept`).toBe(true);
            expect(ledger.runs().map((run) => run.id), where).toEqual([base.runB]);
            expect(ledger.verify().ok, where).toBe(true);
          } else {
            outcomes.truncated += 1;
            await expectTornTailOutcome(ledger, dir, base, damaged, prefix, where);
          }
          expect(ledger.verify(base.runB).ok, `${where}: run B backfilled and verified`).toBe(true);
        } finally {
          await ledger.close();
        }
      } finally {
        removeCase(dir);
      }
    }
    counts.noSqlite = NO_SQLITE_CASES;
    console.log(`[torn-tail] no-SQLite outcomes ${JSON.stringify(outcomes)}`);
    if (NO_SQLITE_CASES >= 50) {
      expect(outcomes.truncated).toBeGreaterThan(0);
      expect(outcomes.quarantined).toBeGreaterThan(0);
    }
  });

  it('a torn last line without SQLite rows is cut and a damaged middle line quarantines (deterministic)', async () => {
    const base = bases[1]!;
    const records = splitRecords(base.committed);
    // Torn last line: the last record loses its second half.
    const last = records.at(-1)!;
    const torn = base.committed.subarray(0, base.committed.length - Math.floor(last.length / 2));
    let dir = materialize(base, torn, { withDatabase: false });
    try {
      const ledger = await openLedger({ dataDir: dir });
      try {
        await expectTornTailOutcome(ledger, dir, base, torn, { count: records.length - 1, bytes: base.committed.length - last.length }, 'torn last line');
      } finally {
        await ledger.close();
      }
    } finally {
      removeCase(dir);
    }
    // A flipped byte in record 3 of 6, with complete lines after it.
    const middle = Buffer.from(base.committed);
    const offset = records[0]!.length + records[1]!.length + 10;
    middle[offset]! ^= 0x04;
    dir = materialize(base, middle, { withDatabase: false });
    try {
      const ledger = await openLedger({ dataDir: dir });
      try {
        expect(ledger.recovery.quarantined).toEqual([base.runA]);
        expect(ledger.run(base.runA)?.quarantineReason).toContain('record 3 ');
        expect(fs.readFileSync(logOf(dir, base.runA)).equals(middle)).toBe(true);
      } finally {
        await ledger.close();
      }
    } finally {
      removeCase(dir);
    }
  });

  it('a log cut to 0 bytes quarantines its run while SQLite holds its events, and is removed only when nothing holds any', async () => {
    const base = bases[1]!;
    for (const withDatabase of [true, false]) {
      const dir = materialize(base, Buffer.alloc(0), { withDatabase });
      try {
        const ledger = await openLedger({ dataDir: dir });
        try {
          if (withDatabase) {
            // SQLite acknowledged 6 events: the empty log is kept, the run quarantined, its events still readable.
            expect(ledger.recovery.quarantined).toEqual([base.runA]);
            expect(ledger.run(base.runA)?.quarantineReason).toContain('repair --from-sqlite');
            expect(fs.readFileSync(logOf(dir, base.runA)).length).toBe(0);
            expect(readAll(ledger, base.runA).map((event) => `${JSON.stringify(event)}\n`).join('')).toBe(base.committed.toString('utf8'));
            expect(ledger.verify().ok).toBe(false);
          } else {
            expect(ledger.recovery.runs.find((run) => run.runId === base.runA)?.outcome).toBe('emptied');
            expect(fs.existsSync(logOf(dir, base.runA))).toBe(false);
            expect(ledger.runs().map((run) => run.id)).toEqual([base.runB]);
            expect(ledger.verify().ok).toBe(true);
          }
          expect(brokenFiles(dir, base.runA)).toEqual([]);
          expect(readAll(ledger, base.runB)).toHaveLength(4);
        } finally {
          await ledger.close();
        }
      } finally {
        removeCase(dir);
      }
    }
  });

  it('two torn-tail repairs stamped at the same instant keep both sets of cut bytes', async () => {
    const base = bases[1]!;
    const dir = materialize(base, Buffer.concat([base.committed, Buffer.from('{"first torn tail":')]));
    const now = () => new Date('2030-01-01T00:00:00.000Z');
    try {
      const first = await openLedger({ dataDir: dir, now });
      expect(first.recovery.repaired).toEqual([base.runA]);
      await first.close();
      fs.appendFileSync(logOf(dir, base.runA), '{"second torn tail":');
      const second = await openLedger({ dataDir: dir, now });
      expect(second.recovery.repaired).toEqual([base.runA]);
      await second.close();
      const kept = brokenFiles(dir, base.runA).map((file) => fs.readFileSync(file, 'utf8')).sort();
      expect(kept).toEqual(['{"first torn tail":', '{"second torn tail":']);
    } finally {
      removeCase(dir);
    }
  });

  it('a log file created but never written (killed between create and first write) leaves verify ok', async () => {
    // The writer creates <run>.ndjson (O_CREAT) and is killed before its first byte lands.
    const base = bases[0]!;
    const dir = materialize(base, base.committed);
    try {
      const ghost = '01GHOSTRUNNEVERWRITTEN0000';
      fs.writeFileSync(logOf(dir, ghost), '', { mode: 0o600 });
      const ledger = await openLedger({ dataDir: dir });
      try {
        expect(ledger.recovery.quarantined).toEqual([]);
        const report = ledger.verify();
        expect(report.ok, JSON.stringify(report.runs.filter((run) => !run.agree))).toBe(true);
        // The id is free: nothing was ever committed under it.
        const first = await ledger.append(ghost, created('ghost'));
        expect(first.seq).toBe(1);
      } finally {
        await ledger.close();
      }
    } finally {
      removeCase(dir);
    }
  });

  it('without keel.db, the whole committed log is backfilled and verifies', async () => {
    const base = bases[2]!;
    const dir = materialize(base, base.committed);
    deleteDatabase(dir);
    try {
      const ledger = await openLedger({ dataDir: dir });
      try {
        expect(readAll(ledger, base.runA).length).toBe(base.committedCount);
        expect(ledger.verify().ok).toBe(true);
      } finally {
        await ledger.close();
      }
    } finally {
      removeCase(dir);
    }
  });
});
