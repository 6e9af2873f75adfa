// A full disk (I1, I3; DESIGN §5): the ledger on a small tmpfs fills up; appends must fail stop
// (never retried and trusted), everything acknowledged must survive, and once space is back the
// ledger reopens clean. Needs Linux and root (mount -t tmpfs); skipped with the reason otherwise.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { AppendInput } from '../../contract/schemas/ledger.js';
import { openLedger } from '../../ledger/index.js';
import { readRunEvents } from '../../runs/index.js';
import { checkDurability, type Acknowledgement } from '../checkers.js';
import { describeError, randomInt, Tally, type Scenario } from '../scenario.js';

function mount(dir: string, size: string): string | null {
  fs.mkdirSync(dir, { recursive: true });
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  return result.status === 0 ? null : (result.stderr || result.error?.message || `mount exited ${result.status}`).trim();
}

function unmount(dir: string): void {
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Why a tmpfs cannot be mounted here, or null when it can (probed with a real mount). */
export function tmpfsUnavailable(workDir: string): string | null {
  if (process.platform !== 'linux') return `mounting a small tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a small tmpfs needs root (uid 0); run as root or in a container to include it';
  const probe = path.join(workDir, 'tmpfs-probe');
  const failure = mount(probe, '1m');
  if (failure) return `mount -t tmpfs failed: ${failure}`;
  unmount(probe);
  return null;
}

const created: AppendInput = { type: 'run.created', payload: { workspace: '/tmp/keel-reliability-workspace', agent: { kind: 'builtin' }, title: 'full disk' } };

export const fullDisk: Scenario = {
  name: 'full-disk',
  description: 'The ledger fills a 1 MiB tmpfs: appends fail stop with ledger_failed, every acknowledged event survives, and after space is back the ledger reopens, verifies and takes appends.',
  iterations: { unit: 1, quick: 1, full: 20 },
  unavailable: tmpfsUnavailable,
  async run(ctx) {
    const tally = new Tally();
    for (let index = 1; index <= ctx.iterations; index++) {
      const label = `case ${index}`;
      const mnt = path.join(ctx.workDir, `tmpfs-${index}`);
      let ok = false;
      const failure = mount(mnt, '1m');
      if (failure) {
        tally.problem(`${label}: mount failed: ${failure}`);
        tally.add({ attempts: 1 });
        continue;
      }
      try {
        const dataDir = path.join(mnt, 'data');
        const acks: Acknowledgement[] = [];
        const ledger = await openLedger({ dataDir });
        const runId = ledger.newRunId();
        let refusal: unknown = null;
        try {
          const first = await ledger.append(runId, created);
          acks.push({ runId, seq: first.seq, hash: first.hash });
          const recordBytes = randomInt(ctx.rand, 200, 60_000);
          for (let round = 0; refusal === null && round < 100_000; round++) {
            const group = Array.from({ length: 4 }, (_, i) =>
              ledger.append(runId, { type: 'message.chunk', payload: { text: `r${round}.${i} ${'d'.repeat(recordBytes)}` } }, { durability: i % 2 ? 'stream' : 'critical' }),
            );
            for (const result of await Promise.allSettled(group)) {
              if (result.status === 'fulfilled') acks.push({ runId, seq: result.value.seq, hash: result.value.hash });
              else refusal ??= result.reason;
            }
          }
        } finally {
          await ledger.close();
        }
        const failStopped = (refusal as { code?: string } | null)?.code === 'ledger_failed';
        spawnSync('mount', ['-o', 'remount,size=64m', mnt]);
        const reopened = await openLedger({ dataDir });
        try {
          const events = readRunEvents(reopened, runId);
          const durability = checkDurability(acks, new Map([[runId, events]]), (event) => event.type === 'ledger.repaired' || event.seq <= acks.length);
          for (const problem of durability.problems.slice(0, 5)) tally.problem(`${label}: ${problem}`);
          tally.add({ acknowledged: durability.acknowledged, lost: durability.lost, unexpected: durability.unexpected });
          const appended = await reopened.append(runId, { type: 'note', payload: { text: 'space is back' } }).then(
            () => true,
            () => false,
          );
          const problems = [
            ...(failStopped ? [] : [`the full disk did not fail the ledger stop (${describeError(refusal)})`]),
            ...(reopened.recovery.quarantined.length === 0 ? [] : ['the run was quarantined after the full disk']),
            ...(reopened.verify().ok ? [] : ['verify failed after space came back']),
            ...(appended ? [] : ['appends were refused after space came back']),
          ];
          for (const problem of problems) tally.problem(`${label}: ${problem}`);
          ok = problems.length === 0 && durability.lost === 0 && durability.unexpected === 0;
        } finally {
          await reopened.close();
        }
      } catch (error) {
        tally.problem(`${label}: ${describeError(error)}`);
      } finally {
        unmount(mnt);
        fs.rmSync(mnt, { recursive: true, force: true });
      }
      tally.add({ attempts: 1, recovered: ok ? 1 : 0 });
      ctx.progress(index);
    }
    return tally.outcome();
  },
};
