import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { DOCTOR_SCHEMA_VERSION, type DoctorCheck, type DoctorReport, type DoctorStatus } from '../contract/index.js';
import { ledgerPaths, nativeBindingOption, openLedger, type Ledger } from '../ledger/index.js';
import { agentCatalog } from '../runs/index.js';
import { gitVersion, inspectWorkspace } from '../workspace/index.js';
import { checkDataDirModes, checkFreeSpace, findKeelProcesses, writerLockState } from './doctor-system.js';

export interface DoctorOptions {
  dataDir: string;
  /** The host's own ledger, when a running Keel asks (otherwise opened read-only here). */
  ledger?: Ledger;
  /** How long an agent's `--version` may take. */
  versionTimeoutMs?: number;
  now?: () => Date;
}

const MIN_GIT = [2, 30];
const REBUILD_FIX = 'The NDJSON logs are the truth: stop Keel, move keel.db (and keel.db-wal) aside, then run `keel ledger backfill` to rebuild it.';

/**
 * `keel doctor`: the health of a Keel installation, read-only. Each check is ok | warn | fail
 * with one sentence and a fix: the data directory (modes, free space), keel.db (SQLite
 * integrity_check), the ledger (verify summary), the writer lock, agents and their versions,
 * git, and every workspace a run used (repository, clean or dirty, `.keel/` ignored, refs and
 * worktrees nobody owns, a stale index.lock), and agent processes nobody owns.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  const { dataDir } = options;
  const checks: DoctorCheck[] = [];
  const add = (id: string, subject: string, status: DoctorStatus, summary: string, fix: string | null = null, details?: Record<string, unknown>) =>
    checks.push({ id, subject, status, summary, fix, ...(details ? { details } : {}) });

  // ---- the data directory ------------------------------------------------------------------
  if (!fs.existsSync(dataDir)) {
    add('data_dir.exists', dataDir, 'fail', 'The data directory does not exist.', 'Start Keel once (it creates it), or pass --data DIR / set KEEL_DATA_DIR to the right one.');
    return finish(dataDir, checks, started, now);
  }
  add('data_dir.exists', dataDir, 'ok', 'The data directory exists.');
  const modes = checkDataDirModes(dataDir);
  if (modes.length === 0) add('data_dir.mode', dataDir, 'ok', 'Folders are private (700) and files private (600).');
  else
    add('data_dir.mode', dataDir, 'warn', `${modes.length} path(s) can be read by other users, e.g. ${modes[0]!.path} (mode ${modes[0]!.mode}).`, `chmod -R go-rwx '${dataDir}'`, {
      paths: modes.slice(0, 50),
    });
  const space = checkFreeSpace(dataDir);
  if (space === null) add('data_dir.space', dataDir, 'warn', 'The free space of the volume could not be read.', null);
  else {
    const gib = (space / 1024 ** 3).toFixed(1);
    if (space < 64 * 1024 * 1024) add('data_dir.space', dataDir, 'fail', `Only ${(space / 1024 ** 2).toFixed(0)} MiB free: Keel stops runs it can no longer record.`, 'Free space on this volume, or move the data directory (--data).', { freeBytes: space });
    else if (space < 1024 ** 3) add('data_dir.space', dataDir, 'warn', `${gib} GiB free on the data directory's volume.`, 'Free space, or prune old checkpoints with `keel gc --older-than 30d`.', { freeBytes: space });
    else add('data_dir.space', dataDir, 'ok', `${gib} GiB free.`, null, { freeBytes: space });
  }

  // ---- keel.db, the ledger, the writer lock --------------------------------------------------
  const paths = ledgerPaths(dataDir);
  checks.push(integrityCheck(paths.database));
  const lock = writerLockState(paths.lock);
  if (lock.state === 'held') add('ledger.lock', paths.lock, 'ok', `The ledger is in use by a running Keel${lock.pid ? ` (pid ${lock.pid})` : ''}.`);
  else if (lock.state === 'stale_owner')
    add('ledger.lock', paths.lock, 'warn', `No Keel holds the lock, but ${lock.ownerFile} still names pid ${lock.pid}: a Keel that was killed.`, 'Nothing to do: the next start takes the lock and replaces it (the lock itself died with its process).');
  else if (lock.state === 'error') add('ledger.lock', paths.lock, 'warn', `The writer lock could not be checked: ${lock.detail}`, null);
  else add('ledger.lock', paths.lock, 'ok', lock.state === 'absent' ? 'No ledger lock yet (Keel never wrote here).' : 'The writer lock is free: no Keel is running on this data directory.');

  let ledger: Ledger | null = options.ledger ?? null;
  let opened = false;
  if (!ledger && fs.existsSync(paths.database)) {
    try {
      ledger = await openLedger({ dataDir, readOnly: true });
      opened = true;
    } catch (error) {
      add('ledger.verify', dataDir, 'fail', `The ledger could not be opened: ${(error as Error).message}`, 'Run `keel ledger verify` for details.');
    }
  }
  const knownRuns = new Set<string>();
  const workspaces = new Map<string, string[]>();
  try {
    if (ledger) {
      for (const run of ledger.runs()) {
        knownRuns.add(run.id);
        if (run.workspace) workspaces.set(run.workspace, [...(workspaces.get(run.workspace) ?? []), run.id]);
      }
      const report = ledger.verify();
      const disagree = report.runs.filter((run) => !run.agree);
      const quarantined = report.runs.filter((run) => run.quarantined);
      const summary = `${report.runs.length} run(s) verified: ${report.runs.length - disagree.length} agree, ${disagree.length} disagree, ${quarantined.length} quarantined.`;
      if (report.ok) add('ledger.verify', dataDir, 'ok', summary, null, { runs: report.runs.length });
      else
        add('ledger.verify', dataDir, disagree.length > 0 || report.sqliteCheck?.ok === false ? 'fail' : 'warn', summary, 'Run `keel ledger verify` for the per-run problems; `keel ledger backfill` refills SQLite from the NDJSON logs (the truth).', {
          disagree: disagree.slice(0, 50).map((run) => ({ runId: run.runId, problems: run.problems.slice(0, 5) })),
          quarantined: quarantined.map((run) => run.runId),
        });
    } else if (!checks.some((check) => check.id === 'ledger.verify')) add('ledger.verify', dataDir, 'ok', 'No ledger yet: no run was ever recorded here.');
  } finally {
    if (opened) await ledger?.close().catch(() => undefined);
  }

  // ---- agents and git ---------------------------------------------------------------------
  const catalog = agentCatalog();
  add('agents.builtin', 'built-in agent', catalog.builtinScripts.length > 0 ? 'ok' : 'fail', `The built-in agent has ${catalog.builtinScripts.length} script(s).`, catalog.builtinScripts.length > 0 ? null : 'Reinstall Keel: the built-in scripts are missing.');
  if (catalog.detected.length === 0) add('agents.found', 'PATH', 'ok', 'No external agent on PATH (codex, claude-agent-acp, gemini, codex-acp); the built-in agent works without one.');
  for (const agent of catalog.detected) {
    const version = await commandVersion(agent.path, options.versionTimeoutMs ?? 5_000);
    if (version.ok) add('agents.version', agent.name, 'ok', `${agent.name} ${version.text} at ${agent.path}.`, null, { path: agent.path, version: version.text });
    else add('agents.version', agent.name, 'warn', `${agent.path} did not answer --version: ${version.text}`, `Run \`${agent.path} --version\` yourself; reinstall it if it fails.`, { path: agent.path });
  }
  const git = await gitVersion(dataDir);
  if (!git) add('git.version', 'git', 'fail', 'git was not found on PATH: checkpoints and restore need it.', 'Install git (2.30 or newer).');
  else {
    const [major = 0, minor = 0] = git.split('.').map(Number);
    const old = major < MIN_GIT[0]! || (major === MIN_GIT[0] && minor < MIN_GIT[1]!);
    add('git.version', 'git', old ? 'warn' : 'ok', `git ${git}.`, old ? 'Update git to 2.30 or newer.' : null, { version: git });
  }

  // ---- workspaces -------------------------------------------------------------------------
  // A tag starts with its run id: processes of runs this data directory does not hold belong to another Keel.
  const processes = findKeelProcesses()?.filter((entry) => knownRuns.has(entry.tag.split('.')[0]!)) ?? null;
  for (const [workspace, runIds] of workspaces) await workspaceChecks(workspace, runIds, knownRuns, add, now().getTime());

  // ---- agent processes nobody owns ----------------------------------------------------------
  if (processes === null) add('processes.orphaned', 'processes', 'ok', 'Agent processes cannot be listed on this platform; nothing checked.');
  else if (processes.length === 0) add('processes.orphaned', 'processes', 'ok', 'No agent process of Keel is running.');
  else if (lock.state === 'held') add('processes.orphaned', 'processes', 'ok', `${processes.length} agent process(es) belong to the running Keel.`, null, { processes });
  else {
    const pids = processes.map((entry) => entry.pid);
    add('processes.orphaned', 'processes', 'fail', `${processes.length} agent process(es) of Keel run with no Keel running: ${pids.slice(0, 10).join(', ')}.`, `Start Keel (it sweeps them), or stop them: kill ${pids.join(' ')}`, { processes });
  }
  return finish(dataDir, checks, started, now);
}

async function workspaceChecks(workspace: string, runIds: string[], knownRuns: ReadonlySet<string>, add: (id: string, subject: string, status: DoctorStatus, summary: string, fix?: string | null, details?: Record<string, unknown>) => void, now: number): Promise<void> {
  const inspected = await inspectWorkspace(workspace, now);
  if (!inspected.exists) {
    add('workspace.exists', workspace, 'warn', `The workspace of ${runIds.length} run(s) is gone.`, '`keel gc` prunes the checkpoints of runs whose workspace is gone.', { runs: runIds.slice(0, 20) });
    return;
  }
  if (!inspected.repo) {
    add('workspace.git', workspace, 'ok', "Not a git repository: its checkpoints live in Keel's private repository in the data directory.");
    return;
  }
  add('workspace.git', workspace, 'ok', `A git repository (${inspected.repo.workTree}).`);
  if (inspected.changes !== null) add('workspace.clean', workspace, 'ok', inspected.changes === 0 ? 'Clean: nothing uncommitted.' : `Dirty: ${inspected.changes} uncommitted change(s) (Keel's checkpoints include them).`, null, { changes: inspected.changes });
  if (inspected.keelFilesNotIgnored.length > 0)
    add('workspace.keel_ignored', workspace, 'warn', `${inspected.keelFilesNotIgnored.length} file(s) under .keel/ would be committed: ${inspected.keelFilesNotIgnored.slice(0, 5).join(', ')}.`, "Add `.keel/*` and `!.keel/policy.yaml` to .gitignore (only the policy file is meant to be versioned).");
  const orphanRuns = [...inspected.refRuns.keys()].filter((runId) => !knownRuns.has(runId));
  if (orphanRuns.length > 0)
    add('workspace.orphaned_refs', workspace, 'warn', `Checkpoint refs of ${orphanRuns.length} run(s) the ledger does not know (${orphanRuns.slice(0, 3).join(', ')}).`, `keel gc --workspace '${workspace}' (add --dry-run to see what goes)`, { runs: orphanRuns });
  else add('workspace.orphaned_refs', workspace, 'ok', `${inspected.refRuns.size} run(s) with checkpoints here, all known to the ledger.`);
  if (inspected.prunableWorktrees.length > 0 || inspected.keelBranches.length > 0)
    add('workspace.orphaned_worktrees', workspace, 'warn', `${inspected.prunableWorktrees.length} worktree(s) whose folder is gone, ${inspected.keelBranches.length} keel/ branch(es) without a worktree.`, '`git worktree prune` forgets the missing worktrees; delete keel/ branches you no longer need with `git branch -D`.', {
      prunable: inspected.prunableWorktrees,
      branches: inspected.keelBranches,
    });
  if (inspected.indexLock && inspected.indexLock.ageMs > 10 * 60_000)
    add('workspace.stale_lock', workspace, 'warn', `${inspected.indexLock.path} is ${Math.round(inspected.indexLock.ageMs / 60_000)} minutes old: git refuses to write the index while it exists.`, `If no git command is running in this repository: rm '${inspected.indexLock.path}'`);
  for (const problem of inspected.problems) add('workspace.inspect', workspace, 'warn', problem);
}

function integrityCheck(database: string): DoctorCheck {
  const base = { id: 'sqlite.integrity', subject: database };
  if (!fs.existsSync(database)) return { ...base, status: 'ok', summary: 'No keel.db yet.', fix: null };
  let db: Database.Database | null = null;
  try {
    db = new Database(database, { readonly: true, fileMustExist: true, timeout: 5_000, ...nativeBindingOption() });
    const messages = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check);
    if (messages.length === 1 && messages[0] === 'ok') return { ...base, status: 'ok', summary: 'SQLite integrity_check: ok.', fix: null };
    return {
      ...base,
      status: 'fail',
      summary: `SQLite integrity_check found ${messages.length} problem(s): ${messages[0] ?? ''}`.slice(0, 500),
      fix: REBUILD_FIX,
      details: { messages: messages.slice(0, 50) },
    };
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const fix = code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' ? 'Check the file permissions of keel.db; then `keel ledger verify`.' : REBUILD_FIX;
    return { ...base, status: 'fail', summary: `keel.db could not be checked: ${(error as Error).message}`, fix };
  } finally {
    db?.close();
  }
}

function commandVersion(file: string, timeoutMs: number): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: timeoutMs, maxBuffer: 64 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      if (error) resolve({ ok: false, text: (error.killed ? `no answer within ${timeoutMs} ms` : error.message).slice(0, 300) });
      else resolve({ ok: true, text: (`${stdout}`.trim() || `${stderr}`.trim()).split('\n')[0]!.slice(0, 200) });
    });
  });
}

function finish(dataDir: string, checks: DoctorCheck[], started: number, now: () => Date): DoctorReport {
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const check of checks) counts[check.status]++;
  const status: DoctorStatus = counts.fail > 0 ? 'fail' : counts.warn > 0 ? 'warn' : 'ok';
  return { schema_version: DOCTOR_SCHEMA_VERSION, generatedAt: now().toISOString(), dataDir: path.resolve(dataDir), status, counts, checks, durationMs: Math.round(performance.now() - started) };
}
