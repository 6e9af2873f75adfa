// kill -9 of the HOST at a seeded moment while its run streams, then reopen — Jepsen-style: every
// event the host saw committed (ACK) must be stored with that hash, nothing may be stored that the
// host never attempted (a prompt it never printed, output of a dead generation, a seq gap), the
// reopen must reconcile the run by itself (not active, orphaned agent gone, ledger verified), and
// at the end the run must resume with no prompt received twice.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { LedgerEvent } from '../../contract/schemas/ledger.js';
import { openLedger } from '../../ledger/index.js';
import { nodeChildEnv } from '../../runtime/index.js';
import { readRunEvents, RunManager } from '../../runs/index.js';
import { checkDurability, countDuplicatedPrompts, staleGenerationEvents, type Acknowledgement } from '../checkers.js';
import { HOST_KILL_RESTART, hostChildMain, parseHostLine } from '../host-protocol.js';
import { agentReceivedPrompts, guarded, writeScript } from '../run-kit.js';
import { describeError, randomInt, Tally, type Scenario } from '../scenario.js';

/** A fresh run every this many kills keeps each reopen's work (and the scenario's time) flat. */
const KILLS_PER_RUN = 25;
/** A host that has not made its planned commits by then is killed anyway (the machine is slow). */
const HOST_DEADLINE_MS = 60_000;
const ACTIVE = new Set(['starting', 'running', 'awaiting_approval']);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Alive and still the built-in agent (a pid may be reused by another process after a kill). */
function isOurAgent(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('builtin/main.js');
  } catch {
    return process.platform !== 'linux';
  }
}

interface KillResult {
  runId: string;
  acks: Acknowledgement[];
  prompts: string[];
  /** Killed at the deadline, before it made the planned number of commits. */
  late: boolean;
}

/**
 * Starts the host child, SIGKILLs it after `killAfterAcks` commits — or after `deadlineMs` if it
 * has not made that many by then (a slow machine: the kill still lands mid-run, and `late` says
 * so) — and resolves once it is gone, with everything it printed.
 */
function runAndKill(args: string[], killAfterAcks: number, deadlineMs: number): Promise<KillResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [hostChildMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: nodeChildEnv() });
    const result: KillResult = { runId: '', acks: [], prompts: [], late: false };
    const deadline = setTimeout(() => {
      if (killed) return;
      killed = true;
      result.late = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    let stderr = '';
    let killed = false;
    let acksAfterReady = 0;
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = parseHostLine(line);
      if (parsed.kind === 'ready') result.runId = parsed.runId;
      else if (parsed.kind === 'prompt') result.prompts.push(parsed.text);
      else if (parsed.kind === 'ack') {
        result.acks.push({ runId: parsed.runId, seq: parsed.seq, hash: parsed.hash });
        if (result.runId && ++acksAfterReady >= killAfterAcks && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      if (killed && signal === 'SIGKILL') resolve(result);
      else {
        const lines = stderr.trim().split('\n');
        const cause = lines.find((line) => /Error|error:/.test(line)) ?? lines.at(-1) ?? '';
        reject(new Error(`the host exited by itself (code ${code}, signal ${signal}): ${cause.trim()}`));
      }
    });
  });
}

export const hostKill: Scenario = {
  name: 'host-kill',
  description:
    'kill -9 of the host process at a seeded moment while its run streams, then reopen: nothing acknowledged lost, nothing unexpected stored, the run reconciled by itself, and at the end it resumes with no prompt sent twice.',
  iterations: { unit: 2, quick: 4, full: 1000 },
  unavailable: () => (fs.existsSync(hostChildMain) ? null : `${hostChildMain} is missing: build the core first (npx tsc -b)`),
  async run(ctx) {
    const tally = new Tally();
    const dataDir = path.join(ctx.workDir, 'data');
    const workspace = path.join(ctx.workDir, 'ws');
    fs.mkdirSync(workspace, { recursive: true });
    const turn = { steps: [{ message: 'Streaming for the host-kill scenario.' }, { stream: { count: 150, delayMs: 2 } }, { message: 'Done.' }] };
    const script = writeScript(ctx.workDir, 'reliability-host-kill', Array.from({ length: 8 }, () => turn));
    const acks = new Map<string, Acknowledgement[]>();
    const prompts = new Set<string>();
    let runId = 'new';
    const worst: Worst = new Map();
    for (let index = 1; index <= ctx.iterations; index++) {
      const label = `kill ${index}`;
      let recovered = false;
      try {
        const killAfter = randomInt(ctx.rand, 1, 200);
        const result = await runAndKill([dataDir, workspace, script, runId, `host-kill prompt ${index}`], killAfter, HOST_DEADLINE_MS);
        if (result.late) tally.problem(`${label}: the host made ${result.acks.length} of ${killAfter} commits in ${HOST_DEADLINE_MS / 1000} s and was killed then`);
        for (const ack of result.acks) {
          const list = acks.get(ack.runId);
          if (list) list.push(ack);
          else acks.set(ack.runId, [ack]);
        }
        for (const text of result.prompts) prompts.add(text);
        if (!result.runId) throw new Error(`the host never became ready within ${HOST_DEADLINE_MS / 1000} s`);
        runId = result.runId;
        // Every reopen checks the run it killed; every run (all the earlier ones too) is checked
        // again at each fresh run and at the end, so the scenario's cost stays linear in kills.
        const scope = index % KILLS_PER_RUN === 0 || index === ctx.iterations ? 'all' : 'run';
        recovered = await reopenAndCheck(dataDir, runId, acks, prompts, worst, tally, label, scope);
      } catch (error) {
        tally.problem(`${label}: ${describeError(error)}`);
      }
      tally.add({ attempts: 1, recovered: recovered ? 1 : 0 });
      // A fresh run every KILLS_PER_RUN kills, but not after the last: the final resume needs it.
      if (index % KILLS_PER_RUN === 0 && index < ctx.iterations) runId = 'new';
      ctx.progress(index);
    }
    const sum = (pick: (counts: { lost: number; unexpected: number }) => number) => [...worst.values()].reduce((total, counts) => total + pick(counts), 0);
    tally.add({ acknowledged: [...acks.values()].reduce((total, list) => total + list.length, 0), lost: sum((c) => c.lost), unexpected: sum((c) => c.unexpected) });
    if (ctx.iterations > 0 && runId !== 'new') {
      const resumed = await resume(dataDir, runId, tally).catch((error: unknown) => {
        tally.problem(`resume after the last kill: ${describeError(error)}`);
        return false;
      });
      if (!resumed && tally.counters.recovered > 0) tally.add({ recovered: -1 });
    }
    return tally.outcome();
  },
};

/** Per run, the most lost and unexpected events any check found (a later check must not find more). */
type Worst = Map<string, { lost: number; unexpected: number }>;

/** The reopen after a kill: reconcile, then check durability, staleness and the run's state. */
async function reopenAndCheck(
  dataDir: string,
  runId: string,
  acks: ReadonlyMap<string, readonly Acknowledgement[]>,
  prompts: ReadonlySet<string>,
  worst: Worst,
  tally: Tally,
  label: string,
  scope: 'run' | 'all',
): Promise<boolean> {
  const ledger = await openLedger({ dataDir });
  try {
    const manager = await RunManager.open({ ledger, dataDir, tuning: { restart: HOST_KILL_RESTART } });
    await manager.close();
    const explained = (event: LedgerEvent) => event.type !== 'prompt.sent' || prompts.has((event.payload as { text: string }).text);
    const checked = scope === 'all' ? ledger.runs().map((run) => run.id) : [runId];
    let grew = false;
    let events: LedgerEvent[] = [];
    for (const id of checked) {
      const stored = readRunEvents(ledger, id);
      if (id === runId) events = stored;
      const durability = checkDurability(acks.get(id) ?? [], new Map([[id, stored]]), explained);
      const stale = staleGenerationEvents(stored);
      const lost = durability.lost;
      const unexpected = durability.unexpected + stale.length;
      const before = worst.get(id) ?? { lost: 0, unexpected: 0 };
      if (lost > before.lost || unexpected > before.unexpected) {
        grew = true;
        for (const problem of durability.problems.slice(0, 5)) tally.problem(`${label}: ${problem}`);
        for (const event of stale.slice(0, 3)) tally.problem(`${label}: generation ${event.generation} recorded ${event.type} #${event.seq} after it exited`);
      }
      worst.set(id, { lost: Math.max(before.lost, lost), unexpected: Math.max(before.unexpected, unexpected) });
    }
    const lastState = [...events].reverse().find((event) => event.type === 'run.state')?.payload as { state: string } | undefined;
    // The killed host's agent (the run's last generation) must not outlive the reopen.
    const lastAgent = [...events].reverse().find((event) => event.type === 'runtime.started')?.payload as { pid: number } | undefined;
    const orphans = lastAgent && isOurAgent(lastAgent.pid) ? [lastAgent.pid] : [];
    const verify = scope === 'all' ? ledger.verify() : ledger.verify(runId);
    const problems = [
      ...(ledger.recovery.quarantined.length > 0 ? [`quarantined after reopen: ${ledger.recovery.quarantined.join(', ')}`] : []),
      ...(verify.ok ? [] : ['ledger verify failed after reopen']),
      ...(lastState && ACTIVE.has(lastState.state) ? [`the run is still ${lastState.state} after reopen`] : []),
      ...(orphans.length > 0 ? [`agent processes ${orphans.join(', ')} outlived the reopen`] : []),
    ];
    for (const problem of problems) tally.problem(`${label}: ${problem}`);
    return problems.length === 0 && !grew;
  } finally {
    await ledger.close();
  }
}

/** The run resumes after the last kill, and the agent received no prompt twice. */
async function resume(dataDir: string, runId: string, tally: Tally): Promise<boolean> {
  const ledger = await openLedger({ dataDir });
  const manager = await RunManager.open({ ledger, dataDir, tuning: { restart: HOST_KILL_RESTART } });
  try {
    const controller = manager.get(runId);
    const { turn } = await guarded(controller.prompt('Resume after the last host kill'), 'the resume prompt');
    const reason = await guarded(controller.waitForTurn(turn), 'the resumed turn');
    const events = readRunEvents(ledger, runId);
    const sent = events.filter((event) => event.type === 'prompt.sent').map((event) => (event.payload as { text: string }).text);
    const received = agentReceivedPrompts(dataDir, runId);
    const duplicates = countDuplicatedPrompts(sent, received);
    for (const problem of duplicates.problems) tally.problem(`resume: ${problem}`);
    tally.add({ duplicatedPrompts: duplicates.duplicated, promptsChecked: duplicates.checked });
    if (reason !== 'end_turn') tally.problem(`resume: the resumed turn ended ${reason}, expected end_turn`);
    return reason === 'end_turn' && duplicates.duplicated === 0;
  } finally {
    await manager.close();
    await ledger.close();
  }
}
