import fs from 'node:fs';
import type { Command } from 'commander';
import {
  ApprovalMode,
  openLedger,
  RunManager,
  stopReasonInfo,
  splitCommandLine,
  STOP_REASONS,
  type AgentSpec,
  type LedgerEvent,
} from '@keel/core';
import { dataDirFor } from './open-ledger.js';
import { withDataOption } from './options.js';
import { createTranscriptPrinter } from './run-printer.js';
import { storeViewSnapshot } from './view-snapshot.js';

interface RunOptions {
  data?: string;
  workspace: string;
  agent: 'builtin' | 'codex' | 'acp';
  agentCmd?: string;
  script?: string;
  prompt?: string;
  approve: string;
  json?: boolean;
  fault: string[];
  continue: number;
  hangTimeout?: number;
  worktree?: boolean;
}

const DEFAULT_PROMPT = 'Run your script.';

function agentSpec(options: RunOptions): AgentSpec {
  switch (options.agent) {
    case 'builtin':
      return { kind: 'builtin', script: options.script ?? 'hello', ...(options.fault.length > 0 ? { faults: options.fault } : {}) };
    case 'codex':
      return { kind: 'codex', command: options.agentCmd ? splitCommandLine(options.agentCmd) : ['codex', 'app-server'] };
    case 'acp':
      if (!options.agentCmd) throw new Error('--agent acp needs --agent-cmd "COMMAND ARGS".');
      return { kind: 'acp', command: splitCommandLine(options.agentCmd) };
  }
}

/**
 * `keel run`: one non-interactive run to the end of its turn. Approvals follow --approve;
 * a turn the runtime interrupted (auto-resumable stop reasons) is continued with a new
 * prompt up to --continue times; the exit code is the final stop reason's.
 */
async function run(options: RunOptions): Promise<number> {
  const approvalMode = ApprovalMode.parse(options.approve);
  if (!fs.statSync(options.workspace, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--workspace ${options.workspace} is not a directory.`);
  const ledger = await openLedger({ dataDir: dataDirFor(options.data, 'create') });
  const manager = await RunManager.open({
    ledger,
    dataDir: ledger.dataDir,
    tuning: options.hangTimeout === undefined ? {} : { hangTimeoutMs: options.hangTimeout },
  });
  const print = options.json ? (event: LedgerEvent) => process.stdout.write(`${JSON.stringify(event)}\n`) : createTranscriptPrinter();
  let runId: string | null = null;
  const stopPrinting = ledger.onCommit((event) => {
    if (event.run_id === runId) print(event);
  });
  try {
    const controller = await manager.create({ workspace: options.workspace, agent: agentSpec(options), approvalMode, ...(options.worktree ? { worktree: true } : {}) });
    runId = controller.runId;
    for (const event of ledger.read(runId)) print(event);
    await controller.start();
    let stopReason: string = controller.runState === 'stopped' ? 'agent_unavailable' : 'end_turn';
    let prompt = options.prompt ?? DEFAULT_PROMPT;
    for (let attempt = 0; controller.runState !== 'stopped'; attempt++) {
      const { turn } = await controller.prompt(prompt);
      stopReason = await controller.waitForTurn(turn);
      if (!stopReasonInfo(stopReason).autoResumable || attempt >= options.continue) break;
      const state = await controller.waitForState((s) => s === 'idle' || s === 'stopped');
      if (state === 'stopped') break;
      prompt = 'Continue where you stopped.';
    }
    const finalState = controller.runState;
    // The run's last state event (a page at a time: a long run is never held in memory).
    let stateStop: { stopReason?: string } | undefined;
    for (const event of ledger.eventsOfTypes(runId, ['run.state'])) stateStop = event.payload as { stopReason?: string };
    if (finalState === 'stopped' && stateStop?.stopReason) stopReason = stateStop.stopReason;
    const info = stopReasonInfo(stopReason);
    if (!options.json) process.stdout.write(`\nrun ${runId}: ${info.code} — ${info.diagnosis}\n`);
    return info.exitCode;
  } finally {
    await manager.close();
    stopPrinting(); // after close: the agent's expected exit is part of the transcript too
    if (runId) await storeViewSnapshot(ledger, runId);
    // A ledger that failed (storage_failed, already reported) refuses to close cleanly; that is not a second error.
    await ledger.close().catch((error: unknown) => {
      if (ledger.health().status !== 'failed') throw error;
    });
  }
}

export function registerRun(program: Command): void {
  withDataOption(program.command('run'))
    .description('run an agent non-interactively on a workspace; exits with the stop reason\'s code')
    .requiredOption('--workspace <dir>', 'the folder the agent works in')
    .option('--agent <kind>', 'builtin | codex | acp', 'builtin')
    .option('--agent-cmd <command>', 'the agent command line (acp, codex)')
    .option('--script <name|file>', `built-in agent script (hello, edit-and-test, long-stream, ...)`)
    .option('--prompt <text>', 'the prompt', undefined)
    .option('--approve <mode>', 'none | reads | all: how approvals are answered', 'reads')
    .option('--fault <spec>', 'built-in agent fault, e.g. exit-at-step=3 (repeatable)', (value: string, all: string[]) => [...all, value], [])
    .option('--continue <n>', 'continue a turn the runtime interrupted up to n times', Number, 3)
    .option('--hang-timeout <ms>', 'kill the agent after this long without output during a turn', Number)
    .option('--worktree', 'work in a git worktree of the repository on a branch keel/<run> under the data directory')
    .option('--json', 'print ledger events as JSON lines')
    .addHelpText('after', `\nExit codes: ${Object.values(STOP_REASONS).map((r) => `${r.exitCode} ${r.code}`).join(', ')}`)
    .action(async (options: RunOptions) => {
      process.exitCode = await run(options);
    });
}
