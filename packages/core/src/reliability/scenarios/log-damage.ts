// Damage to a run's NDJSON log (I3): a torn tail (an append in flight when the power went) is cut
// to the last valid record, the cut bytes kept in a `.broken-*` file and a `ledger.repaired` event
// written; damage in the middle quarantines the run read-only and deletes nothing.
import fs from 'node:fs';
import path from 'node:path';
import type { AppendInput, LedgerEvent } from '../../contract/schemas/ledger.js';
import { ledgerPaths, openLedger } from '../../ledger/index.js';
import { readRunEvents } from '../../runs/index.js';
import { checkDurability, type Acknowledgement } from '../checkers.js';
import { describeError, randomInt, Tally, type Scenario, type ScenarioContext } from '../scenario.js';

const created: AppendInput = { type: 'run.created', payload: { workspace: '/tmp/keel-reliability-workspace', agent: { kind: 'builtin' }, title: 'log damage' } };
const chunk = (rand: () => number, index: number): AppendInput => ({
  type: 'message.chunk',
  payload: { text: `c${index} ${'y'.repeat(randomInt(rand, 0, 400))}` },
});

/** A fresh data dir holding one run of acknowledged events; the ledger is closed on return. */
async function writeRun(dataDir: string, rand: () => number, count: number): Promise<{ runId: string; acks: Acknowledgement[] }> {
  const ledger = await openLedger({ dataDir });
  try {
    const runId = ledger.newRunId();
    const acks: Acknowledgement[] = [];
    const first = await ledger.append(runId, created);
    acks.push({ runId, seq: first.seq, hash: first.hash });
    const pending = Array.from({ length: count - 1 }, (_, i) => ledger.append(runId, chunk(rand, i + 1), { durability: rand() < 0.5 ? 'critical' : 'stream' }));
    for (const event of await Promise.all(pending)) acks.push({ runId, seq: event.seq, hash: event.hash });
    return { runId, acks };
  } finally {
    await ledger.close();
  }
}

const brokenFiles = (dataDir: string, runId: string) =>
  fs.readdirSync(ledgerPaths(dataDir).logDir).filter((name) => name.startsWith(`${runId}.ndjson.broken-`));

async function eachCase(ctx: ScenarioContext, body: (dataDir: string, index: number, tally: Tally) => Promise<boolean>): Promise<Tally> {
  const tally = new Tally();
  for (let index = 1; index <= ctx.iterations; index++) {
    const dataDir = path.join(ctx.workDir, `case-${index}`);
    let ok = false;
    try {
      ok = await body(dataDir, index, tally);
    } catch (error) {
      tally.problem(`case ${index}: ${describeError(error)}`);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    tally.add({ attempts: 1, recovered: ok ? 1 : 0 });
    ctx.progress(index);
  }
  return tally;
}

export const tornTail: Scenario = {
  name: 'torn-tail',
  description: 'A partial record (or garbage) after the last acknowledged one, as a crash mid-append leaves: reopen cuts it, keeps the bytes in a .broken file, records ledger.repaired, loses nothing acknowledged.',
  iterations: { unit: 2, quick: 10, full: 200 },
  async run(ctx) {
    const tally = await eachCase(ctx, async (dataDir, index, tally) => {
      const label = `case ${index}`;
      const { runId, acks } = await writeRun(dataDir, ctx.rand, randomInt(ctx.rand, 2, 30));
      const log = ledgerPaths(dataDir).logOf(runId);
      const lastLine = fs.readFileSync(log, 'utf8').trimEnd().split('\n').at(-1)!;
      // A record cut short (the next one being written), or bytes that were never a record.
      const torn =
        ctx.rand() < 0.6
          ? Buffer.from(lastLine.replace(/"seq":\d+/, `"seq":${acks.length + 1}`).slice(0, randomInt(ctx.rand, 1, lastLine.length - 1)))
          : Buffer.from(Array.from({ length: randomInt(ctx.rand, 1, 300) }, () => randomInt(ctx.rand, 0, 255)).filter((byte) => byte !== 0x0a));
      fs.appendFileSync(log, torn);
      const ledger = await openLedger({ dataDir });
      try {
        const events = readRunEvents(ledger, runId);
        const durability = checkDurability(acks, new Map([[runId, events]]), (event) => event.type === 'ledger.repaired' || event.seq <= acks.length);
        for (const problem of durability.problems) tally.problem(`${label}: ${problem}`);
        tally.add({ acknowledged: durability.acknowledged, lost: durability.lost, unexpected: durability.unexpected });
        const repaired = events.filter((event) => event.type === 'ledger.repaired');
        const broken = brokenFiles(dataDir, runId);
        const kept = broken.length === 1 && fs.readFileSync(path.join(ledgerPaths(dataDir).logDir, broken[0]!)).equals(torn);
        const problems = [
          ...(ledger.recovery.quarantined.length > 0 ? ['the run was quarantined for a torn tail'] : []),
          ...(repaired.length === 1 ? [] : [`${repaired.length} ledger.repaired events (expected 1)`]),
          ...(kept ? [] : ['the cut bytes are not kept, byte for byte, in one .broken file']),
          ...(ledger.verify(runId).ok ? [] : ['verify failed after the repair']),
        ];
        for (const problem of problems) tally.problem(`${label}: ${problem}`);
        return problems.length === 0 && durability.lost === 0 && durability.unexpected === 0;
      } finally {
        await ledger.close();
      }
    });
    return tally.outcome();
  },
};

export const midFileDamage: Scenario = {
  name: 'mid-file-damage',
  description: 'One byte changed inside an acknowledged record in the middle of a log: reopen quarantines the run read-only and says why, refuses appends to it, and deletes or rewrites nothing.',
  iterations: { unit: 1, quick: 5, full: 100 },
  async run(ctx) {
    const tally = await eachCase(ctx, async (dataDir, index, tally) => {
      const label = `case ${index}`;
      const { runId, acks } = await writeRun(dataDir, ctx.rand, randomInt(ctx.rand, 4, 30));
      const log = ledgerPaths(dataDir).logOf(runId);
      const bytes = fs.readFileSync(log);
      const lines = bytes.toString('utf8').split('\n').filter(Boolean);
      const target = randomInt(ctx.rand, 1, lines.length - 2); // never the last record: that would be a torn tail
      const offset = lines.slice(0, target).reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0) + randomInt(ctx.rand, 1, Buffer.byteLength(lines[target]!) - 2);
      const damaged = Buffer.from(bytes);
      damaged[offset] = damaged[offset]! === 0x61 ? 0x62 : 0x61;
      fs.writeFileSync(log, damaged);
      const ledger = await openLedger({ dataDir });
      try {
        // Damage behind the log's verified marker is found by the check that follows open.
        await ledger.backgroundCheck();
        const summary = ledger.run(runId);
        const refused = await ledger.append(runId, chunk(ctx.rand, 0)).then(
          () => false,
          () => true,
        );
        const unchanged = fs.readFileSync(log).equals(damaged);
        // Nothing acknowledged may be deleted: every acknowledged record other than the damaged one is still in the file.
        const stillThere = new Set(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).flatMap((line) => {
          try {
            const event = JSON.parse(line) as LedgerEvent;
            return [`${event.seq}:${event.hash}`];
          } catch {
            return [];
          }
        }));
        const lost = acks.filter((ack) => ack.seq !== target + 1 && !stillThere.has(`${ack.seq}:${ack.hash}`)).length;
        tally.add({ acknowledged: acks.length - 1, lost });
        const problems = [
          ...(summary?.quarantined ? [] : ['the run was not quarantined']),
          ...(summary?.quarantineReason ? [] : ['the quarantine gives no reason']),
          ...(refused ? [] : ['an append to the quarantined run was accepted']),
          ...(unchanged ? [] : ['the damaged log was rewritten']),
          ...(brokenFiles(dataDir, runId).length === 0 ? [] : ['bytes were cut from a quarantined run']),
          ...(lost === 0 ? [] : [`${lost} acknowledged records are gone from the log`]),
        ];
        for (const problem of problems) tally.problem(`${label}: ${problem}`);
        return problems.length === 0;
      } finally {
        await ledger.close();
      }
    });
    return tally.outcome();
  },
};
