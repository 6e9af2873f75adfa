import type { AppInfo, AppMode, EngineHealth, HealthStatus } from '../contract/schemas/app.js';
import type { RunSummary } from '../contract/schemas/ledger.js';
import type { AppMenuCommand } from '../contract/schemas/diagnostics.js';
import { KeelRpcError } from '../contract/errors.js';
import { KEEL_VERSION } from '../contract/version.js';
import { laterCalls, NO_CALLS, openLedger, type CallsInFlight, type Ledger } from '../ledger/index.js';
import { agentCatalog, AutoResumer, IdleStopper, RunManager, RunViews, type RuntimeTuning } from '../runs/index.js';
import { checkpointProcedures } from './checkpoint-procedures.js';
import { changesProcedures } from './changes-procedures.js';
import { inspectDataDir } from './data-dir.js';
import { policyHandlers } from './policy-handlers.js';
import { reliabilityHandlers } from './reliability-handlers.js';
import { createRouter, type Handlers, type Router } from './router.js';
import { autoTitleRuns, runMetaProcedures } from './run-meta.js';
import { finishPendingDeletes, runListHandlers } from './run-list.js';
import { RunListMarks } from './run-list-marks.js';
import type { RunListUpdate } from '../contract/streams.js';
import { settingsProcedures } from './settings-procedures.js';
import { checkWorkspace, workspaceProcedures } from './workspace-procedures.js';
import { agentProcedures, requireWorkingAgent } from './agent-procedures.js';
import { SettingsStore } from './settings-store.js';
import { followRunEvents } from './run-events.js';
import { appLog, closeAppLog, openAppLog } from '../logging/index.js';
import { diagnosticsProcedures, type DiagnosticsDoors } from './diagnostics-procedures.js';
import { ReplayService } from './replay-service.js';
import { DiagnosticsActivity } from './diagnostics-activity.js';
import { BundleUploads } from './bundle-upload.js';
import { LiveOtlpExport } from '../sinks/index.js';
import { watchLiveExport } from './live-export-status.js';

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
  /** The live OTLP exporter's supervisor (the `liveOtlpExport` setting). */
  readonly liveExport: LiveOtlpExport;
  /** Settles once start-up's fold of the runs behind their view snapshot is done: how many it stored (0 if it failed). */
  readonly startupFold: Promise<number>;
  info(): AppInfo;
  /** A command of the native application menu, for the renderer (`app.menu`); false when no renderer listens. */
  menuCommand(command: AppMenuCommand['command']): boolean;
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
  const runListMarks = new RunListMarks(options.dataDir);
  if (runListMarks.problem) appLog().warn(runListMarks.problem);
  // Before any run is opened: a run whose deletion a killed host left pending gets no controller.
  await finishPendingDeletes({ ledger, dataDir: options.dataDir, marks: runListMarks }).catch((error: unknown) =>
    appLog().error({ err: error }, 'could not finish deleting the files of a deleted run'),
  );
  const isDeleted = (runId: string) => runListMarks.mark(runId)?.deletedAt !== undefined;
  const runs = await RunManager.open({ ledger, dataDir: options.dataDir, tuning, isDeleted });
  const stopAutoTitle = autoTitleRuns(ledger);
  const idleStop = new IdleStopper(runs, { idleMs: () => settings.current().idleStopMinutes * 60_000 });
  const autoResume = new AutoResumer(ledger, runs, () => ({ enabled: settings.current().autoResume, limit: settings.current().autoResumeLimit }));
  // Set once the router exists: its calls begun in the last 2 s.
  let calls: CallsInFlight = NO_CALLS;
  const views = new RunViews(ledger, { isDeleted, calls: laterCalls(() => calls) });
  // Once start-up's ledger check is done: runs far behind their view snapshot (written outside
  // this host, imported, or snapshotted by an older fold version) are folded and snapshotted, so
  // their first open starts from a snapshot (issue 16).
  const startupFold = ledger
    .backgroundCheck()
    .then(() => views.foldBehind())
    .catch((error: unknown) => {
      appLog().warn({ err: error }, 'could not fold the runs behind their view snapshots');
      return 0;
    });
  const replay = new ReplayService(ledger, options.dataDir);
  const diagnostics = new DiagnosticsActivity();
  const uploads = new BundleUploads(options.dataDir);
  const runList = runListFeed(ledger, runListMarks);
  const reliability = reliabilityHandlers({ ledger, dataDir: options.dataDir });
  // Opt-in: new events as OpenTelemetry spans, from a child process that reads the ledger read-only.
  const liveExport = new LiveOtlpExport({ dataDir: options.dataDir, onProblem: (message) => appLog().warn(message) });
  await liveExport.set(settings.current().liveOtlpExport);
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
      'runs.list': () => runListMarks.list(ledger.runs()),
      'run.view': ({ runId }) => {
        summary(runId);
        return views.view(runId);
      },
      'run.viewWindow': ({ runId, itemsFrom, itemsLimit }) => {
        summary(runId);
        return views.window(runId, itemsFrom, itemsLimit);
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
      ...changesProcedures(runs, options.dataDir),
      ...settingsProcedures(settings, (view) => liveExport.set(view.settings.liveOtlpExport)),
      'sinks.liveExport': () => liveExport.current(),
      ...workspaceProcedures(),
      ...agentProcedures(ledger, runs),
      ...runMetaProcedures(ledger),
      ...runListHandlers({
        ledger,
        runs,
        dataDir: options.dataDir,
        marks: runListMarks,
        onChanged: (runId) => runList.mark(runId),
        onRemoved: () => runList.resnapshot(),
        onDeleted: (runId) => {
          replay.forget(runId);
          views.forget(runId);
        },
      }),
      ...policyHandlers({ runs, dataDir: options.dataDir }),
      ...reliability.procedures,
      ...diagnosticsProcedures(ledger, options.dataDir, replay, options, diagnostics, uploads),
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
        sink.next({ kind: 'snapshot', runs: runListMarks.list(ledger.runs()) });
        return runList.subscribe((update) => sink.next(update));
      },
      'run.events': ({ runId, fromSeq }, sink) => {
        summary(runId);
        return followRunEvents(ledger, runId, fromSeq ?? 1, sink);
      },
      ...reliability.streams,
      ...diagnostics.streams(),
      'replay.progress': (source, sink) => replay.watchProgress(source, (progress) => sink.next(progress)),
      'sinks.liveExportStatus': (_params, sink) => watchLiveExport(liveExport, (status) => sink.next(status)),
    },
  };

  const router = createRouter(handlers);
  // Start-up's full ledger check and the rest folds step aside while a client's call (begun in the last 2 s) is answered.
  calls = router.callsInFlight(2_000);
  ledger.yieldBackgroundCheckTo(calls);
  return {
    dataDir: options.dataDir,
    router,
    ledger,
    runs,
    liveExport,
    startupFold,
    info,
    menuCommand(command) {
      diagnostics.menuCommand(command);
      return diagnostics.menuListenerCount > 0;
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      runList.close();
      reliability.close();
      await liveExport.close();
      autoResume.close();
      stopAutoTitle();
      idleStop.close();
      await runs.close();
      views.close();
      replay.close();
      uploads.close();
      await ledger.close();
      closeAppLog();
    },
  };
}

/**
 * The live run list behind `runs.changed`: one commit listener for all subscribers. A commit
 * marks its run; the first mark opens a window of RUN_LIST_WINDOW_MS, at whose end every
 * subscriber gets the marked runs' current summaries (ledger.run, a map lookup) in one message.
 * So a streaming turn costs at most one small message per window, whatever its event rate; a
 * `run.state` commit sends at once, so every state a run passes through reaches subscribers.
 * A subscriber that joins while a window is open may get a change its snapshot already shows;
 * applying a summary twice changes nothing.
 */
function runListFeed(ledger: Ledger, marks: RunListMarks) {
  const listeners = new Set<(update: RunListUpdate) => void>();
  const marked = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const send = () => {
    timer = null;
    const changed: RunSummary[] = [];
    for (const runId of marked) {
      const found = ledger.run(runId);
      const shown = found && marks.present(found);
      if (shown) changed.push(shown);
    }
    marked.clear();
    if (changed.length === 0) return;
    publish({ kind: 'changed', runs: changed });
  };
  const publish = (update: RunListUpdate) => {
    for (const listener of [...listeners]) {
      try {
        listener(update);
      } catch (error) {
        // One broken subscriber must not starve the others or throw out of a timer (the host).
        appLog().error({ err: error }, 'a runs.changed subscriber failed');
      }
    }
  };
  const mark = (runId: string) => {
    if (listeners.size === 0) return;
    marked.add(runId);
    timer ??= setTimeout(send, RUN_LIST_WINDOW_MS);
  };
  // A state change closes the window at once: waiting -> running -> waiting within one window
  // would otherwise reach subscribers as no change, and the second approval would never notify.
  const stopListening = ledger.onCommit((event) => {
    mark(event.run_id);
    if (event.type === 'run.state' && timer) {
      clearTimeout(timer);
      send();
    }
  });

  return {
    /** A run's mark changed (archived): its summary goes out in the next window. */
    mark,
    /** A run left the list (deleted): every subscriber gets the whole list again. */
    resnapshot() {
      if (listeners.size > 0) publish({ kind: 'snapshot', runs: marks.list(ledger.runs()) });
    },
    subscribe(listener: (update: RunListUpdate) => void): () => void {
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
