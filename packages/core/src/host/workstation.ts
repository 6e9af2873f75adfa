import type { AppInfo, AppMode, EngineHealth, HealthStatus } from '../contract/schemas/app.js';
import type { RunSummary } from '../contract/schemas/ledger.js';
import { KeelRpcError } from '../contract/errors.js';
import { KEEL_VERSION } from '../contract/version.js';
import { openLedger, type Ledger } from '../ledger/index.js';
import { agentCatalog, AutoResumer, IdleStopper, RunManager, RunViews, type RuntimeTuning } from '../runs/index.js';
import { checkpointProcedures } from './checkpoint-procedures.js';
import { inspectDataDir } from './data-dir.js';
import { policyHandlers } from './policy-handlers.js';
import { reliabilityHandlers } from './reliability-handlers.js';
import { createRouter, type Handlers, type Router } from './router.js';
import { autoTitleRuns, runMetaProcedures } from './run-meta.js';
import { settingsProcedures } from './settings-procedures.js';
import { checkWorkspace, workspaceProcedures } from './workspace-procedures.js';
import { agentProcedures, requireWorkingAgent } from './agent-procedures.js';
import { SettingsStore } from './settings-store.js';
import { followRunEvents } from './run-events.js';
import { appLog, closeAppLog, openAppLog } from '../logging/index.js';
import { diagnosticsProcedures, type DiagnosticsDoors } from './diagnostics-procedures.js';
import { ReplayService } from './replay-service.js';

export interface WorkstationOptions extends DiagnosticsDoors {
  dataDir: string;
  mode: AppMode;
  /** Default heartbeat period for `app.health`. */
  heartbeatMs?: number;
  /** Restart, watchdog and approval timing for runs (tests shorten them). */
  runtime?: RuntimeTuning;
  /** A native folder picker; only the Electron door has one. */
  chooseFolder?: (title: string) => Promise<string | null>;
}

/** `runs.changed` sends at most one message per this window (changes within it are coalesced). */
export const RUN_LIST_WINDOW_MS = 100;

export interface Workstation {
  readonly dataDir: string;
  readonly router: Router;
  readonly ledger: Ledger;
  readonly runs: RunManager;
  info(): AppInfo;
  close(): Promise<void>;
}

/**
 * The host: composes Keel's services and implements the contract. Electron main and the
 * headless server are two thin doors onto the same Workstation.
 */
export async function openWorkstation(options: WorkstationOptions): Promise<Workstation> {
  const startedAt = new Date();
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const timers = new Set<ReturnType<typeof setInterval>>();
  const ledger = await openLedger({ dataDir: options.dataDir });
  openAppLog(options.dataDir);
  const settings = new SettingsStore(options.dataDir);
  if (settings.problem) appLog().warn(settings.problem);
  // The approval timeout setting applies to runs opened from now on (tests pass their own tuning).
  const tuning = { approvalTimeoutMs: settings.current().approvalTimeoutSeconds * 1000, ...options.runtime };
  const runs = await RunManager.open({ ledger, dataDir: options.dataDir, tuning });
  const stopAutoTitle = autoTitleRuns(ledger);
  const idleStop = new IdleStopper(runs, { idleMs: () => settings.current().idleStopMinutes * 60_000 });
  const autoResume = new AutoResumer(ledger, runs, () => ({ enabled: settings.current().autoResume, limit: settings.current().autoResumeLimit }));
  const views = new RunViews(ledger);
  const replay = new ReplayService(ledger, options.dataDir);
  const runList = runListFeed(ledger);
  const reliability = reliabilityHandlers({ ledger, dataDir: options.dataDir });
  const summary = (runId: string) => {
    const found = ledger.run(runId);
    if (!found) throw new KeelRpcError('not_found', `No run ${runId}.`);
    return found;
  };

  const engineHealth = (): EngineHealth => {
    const dataDir = inspectDataDir(options.dataDir);
    const ledgerHealth = ledger.health();
    const status: HealthStatus =
      !dataDir.exists || !dataDir.writable || ledgerHealth.status === 'failed'
        ? 'failed'
        : dataDir.problems.length > 0 || ledgerHealth.quarantinedRuns.length > 0
          ? 'degraded'
          : 'ok';
    return { status, dataDir, ledger: ledgerHealth };
  };

  const info = (): AppInfo => ({
    name: 'Keel',
    version: KEEL_VERSION,
    dataDir: options.dataDir,
    platform: process.platform,
    arch: process.arch,
    mode: options.mode,
    nodeVersion: process.versions.node,
    startedAt: startedAt.toISOString(),
    engine: engineHealth(),
  });

  const handlers: Handlers = {
    procedures: {
      'app.info': () => info(),
      'ledger.verify': ({ runId }) => {
        if (runId) summary(runId);
        return ledger.verify(runId);
      },
      'runs.create': async (input) => {
        // `~` expanded; a missing folder or a file said in plain words (a non-git folder is allowed: the dialog offers git init).
        const workspace = checkWorkspace(input.workspace);
        if (workspace.status !== 'git' && workspace.status !== 'not_git') throw new KeelRpcError('invalid_input', workspace.problem ?? 'That workspace cannot be used.');
        // A custom agent is checked now (on PATH, answers the ACP handshake), not at the first prompt.
        await requireWorkingAgent(input.agent, workspace.resolved);
        const controller = await runs.create({ ...input, workspace: workspace.resolved });
        return summary(controller.runId);
      },
      'runs.list': () => ledger.runs(),
      'run.view': ({ runId }) => {
        summary(runId);
        return views.view(runId);
      },
      'run.prompt': ({ runId, text }) => runs.get(runId).prompt(text),
      'run.cancel': async ({ runId, force }) => {
        await runs.get(runId).cancel(force ?? false);
        return {};
      },
      'approval.decide': async ({ runId, approvalId, decision }) => {
        await runs.get(runId).decide(approvalId, decision);
        return {};
      },
      'agents.list': () => agentCatalog(),
      'app.chooseFolder': async ({ title }) => {
        if (!options.chooseFolder) throw new KeelRpcError('unavailable', 'There is no folder picker in headless mode; type the path.');
        return { path: await options.chooseFolder(title ?? 'Choose a workspace folder') };
      },
      'runtime.restart': async ({ runId }) => {
        await runs.get(runId).restartRuntime();
        return {};
      },
      ...checkpointProcedures(runs, options.dataDir),
      ...settingsProcedures(settings),
      ...workspaceProcedures(),
      ...agentProcedures(ledger, runs),
      ...runMetaProcedures(ledger),
      ...policyHandlers({ runs, dataDir: options.dataDir }),
      ...reliability.procedures,
      ...diagnosticsProcedures(ledger, options.dataDir, replay, options),
    },
    streams: {
      'app.health': (params, sink) => {
        let seq = 0;
        const beat = () =>
          sink.next({
            seq: seq++,
            ts: new Date().toISOString(),
            uptimeMs: Date.now() - startedAt.getTime(),
            status: engineHealth().status,
          });
        beat();
        const timer = setInterval(beat, params.intervalMs ?? heartbeatMs);
        timers.add(timer);
        return () => {
          clearInterval(timer);
          timers.delete(timer);
        };
      },
      'runs.changed': (_params, sink) => {
        sink.next({ kind: 'snapshot', runs: ledger.runs() });
        return runList.subscribe((runs) => sink.next({ kind: 'changed', runs }));
      },
      'run.events': ({ runId, fromSeq }, sink) => {
        summary(runId);
        return followRunEvents(ledger, runId, fromSeq ?? 1, sink);
      },
      ...reliability.streams,
    },
  };

  return {
    dataDir: options.dataDir,
    router: createRouter(handlers),
    ledger,
    runs,
    info,
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      runList.close();
      reliability.close();
      autoResume.close();
      stopAutoTitle();
      idleStop.close();
      await runs.close();
      views.close();
      replay.close();
      await ledger.close();
      closeAppLog();
    },
  };
}

/**
 * The live run list behind `runs.changed`: one commit listener for all subscribers. A commit
 * marks its run; the first mark opens a window of RUN_LIST_WINDOW_MS, at whose end every
 * subscriber gets the marked runs' current summaries (ledger.run, a map lookup) in one message.
 * So a streaming turn costs at most one small message per window, whatever its event rate.
 * A subscriber that joins while a window is open may get a change its snapshot already shows;
 * applying a summary twice changes nothing.
 */
function runListFeed(ledger: Ledger) {
  const listeners = new Set<(runs: RunSummary[]) => void>();
  const marked = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const send = () => {
    timer = null;
    const changed: RunSummary[] = [];
    for (const runId of marked) {
      const found = ledger.run(runId);
      if (found) changed.push(found);
    }
    marked.clear();
    if (changed.length === 0) return;
    for (const listener of [...listeners]) {
      try {
        listener(changed);
      } catch (error) {
        // One broken subscriber must not starve the others or throw out of a timer (the host).
        appLog().error({ err: error }, 'a runs.changed subscriber failed');
      }
    }
  };
  const stopListening = ledger.onCommit((event) => {
    if (listeners.size === 0) return;
    marked.add(event.run_id);
    timer ??= setTimeout(send, RUN_LIST_WINDOW_MS);
  });

  return {
    subscribe(listener: (runs: RunSummary[]) => void): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      stopListening();
      if (timer) clearTimeout(timer);
      timer = null;
      marked.clear();
      listeners.clear();
    },
  };
}
