import type { AgentCatalog, AgentSpec, WorkspaceCheck } from '@keel/core/contract';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { splitCommandLine } from '../../lib/agent.js';
import { useKeel } from '../../lib/client-context.js';
import { toShownError, type ShownError } from '../../lib/errors.js';
import { useAppInfo } from '../../stores/app-info.js';
import { useRuns } from '../../stores/runs.js';
import { useSettings } from '../../stores/settings.js';
import { useUi } from '../../stores/ui.js';
import { ErrorBox } from '../ErrorBox.js';

const DEFAULT_SCRIPT = 'edit-and-test';
const WORKSPACE_KEY = 'keel.lastWorkspace';

type Source = 'builtin' | 'detected' | 'custom';

export function NewRunDialog() {
  const open = useUi((state) => state.newRunOpen);
  const setOpen = useUi((state) => state.setNewRunOpen);
  if (!open) return null;
  return <NewRunForm onClose={() => setOpen(false)} />;
}

function NewRunForm({ onClose }: { onClose(): void }) {
  const { client, mode: transportMode } = useKeel();
  const appMode = useAppInfo((state) => state.info?.mode) ?? (transportMode === 'electron' ? 'electron' : 'headless');
  const select = useRuns((state) => state.select);
  const ids = useId();
  const [catalog, setCatalog] = useState<AgentCatalog | null>(null);
  const [catalogError, setCatalogError] = useState<ShownError | null>(null);
  const [workspace, setWorkspace] = useState(() => safeStorage()?.getItem(WORKSPACE_KEY) ?? '');
  const [source, setSource] = useState<Source>('builtin');
  const preferredScript = useSettings((state) => state.view?.settings.defaultScript) ?? DEFAULT_SCRIPT;
  const [script, setScript] = useState(preferredScript);
  const [detected, setDetected] = useState(0);
  const [customLine, setCustomLine] = useState('');
  const [title, setTitle] = useState('');
  const [worktree, setWorktree] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  const [busy, setBusy] = useState(false);
  const workspaceRef = useRef<HTMLInputElement>(null);
  const [check, setCheck] = useState<WorkspaceCheck | null>(null);
  const [initBusy, setInitBusy] = useState(false);

  // The typed path, checked as the user types (debounced): ~ expanded, exists, a folder, a repository.
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      client
        .invoke('workspace.check', { path: workspace })
        .then((answer) => live && setCheck(answer))
        .catch(() => live && setCheck(null));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, workspace]);

  const gitInit = async () => {
    if (!check) return;
    setInitBusy(true);
    setError(null);
    try {
      setCheck(await client.invoke('workspace.init', { path: check.resolved }));
    } catch (failure) {
      setError(toShownError(failure));
    } finally {
      setInitBusy(false);
    }
  };
  const workspaceBlocked = check !== null && check.status !== 'git' && check.status !== 'not_git' ? check.problem : null;

  useEffect(() => {
    let live = true;
    client
      .invoke('agents.list', {})
      .then((answer) => {
        if (!live) return;
        setCatalog(answer);
        if (!answer.builtinScripts.some((entry) => entry.name === preferredScript) && answer.builtinScripts[0]) setScript(answer.builtinScripts[0].name);
      })
      .catch((failure: unknown) => live && setCatalogError(toShownError(failure)));
    workspaceRef.current?.focus();
    return () => {
      live = false;
    };
  }, [client]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !busy) onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [busy, onClose]);

  const browse = async () => {
    setError(null);
    try {
      const { path } = await client.invoke('app.chooseFolder', { title: 'Choose the workspace for the new run' });
      if (path) setWorkspace(path);
    } catch (failure) {
      setError(toShownError(failure));
    }
  };

  const agentSpec = (): AgentSpec => {
    if (source === 'builtin') return { kind: 'builtin', script };
    if (source === 'detected') {
      const agent = catalog?.detected[detected];
      if (!agent) throw new Error('Choose an agent found on PATH.');
      return { kind: agent.kind, command: agent.command };
    }
    const command = splitCommandLine(customLine);
    if (command.length === 0) throw new Error('Type the command line that starts the ACP agent.');
    return { kind: 'acp', command };
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    let agent: AgentSpec;
    try {
      agent = agentSpec();
    } catch (failure) {
      setError(toShownError(failure));
      return;
    }
    if (workspaceBlocked) {
      setError({ code: null, message: workspaceBlocked, issues: [] });
      workspaceRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      const run = await client.invoke('runs.create', {
        workspace: check?.resolved || workspace.trim(),
        agent,
        ...(title.trim() ? { title: title.trim() } : {}),
        ...(worktree ? { worktree: true } : {}),
      });
      safeStorage()?.setItem(WORKSPACE_KEY, workspace.trim());
      // Shown at once; runs.changed brings the same summary (and what follows) within ~100 ms.
      useRuns.getState().mergeRuns([run]);
      select(run.id);
      onClose();
    } catch (failure) {
      setError(toShownError(failure));
    } finally {
      setBusy(false);
    }
  };

  const detectedAgents = catalog?.detected ?? [];
  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && !busy && onClose()}>
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={`${ids}-title`} data-testid="new-run-dialog">
        <form onSubmit={submit} noValidate>
          <h2 id={`${ids}-title`}>New run</h2>

          <label className="field">
            <span>Workspace folder</span>
            <span className="field-row">
              <input
                ref={workspaceRef}
                type="text"
                value={workspace}
                onChange={(event) => setWorkspace(event.target.value)}
                placeholder="/path/to/your/repository"
                spellCheck={false}
                autoComplete="off"
                data-testid="new-run-workspace"
              />
              {appMode === 'electron' && (
                <button type="button" onClick={browse} data-testid="new-run-browse">
                  Browse…
                </button>
              )}
            </span>
            <WorkspaceStatus check={check} onInit={gitInit} initBusy={initBusy} />
          </label>

          <fieldset className="field">
            <legend>Agent</legend>
            <label className="choice">
              <input type="radio" name="source" checked={source === 'builtin'} onChange={() => setSource('builtin')} data-testid="new-run-source-builtin" />
              <span>Built-in scripted agent</span>
            </label>
            {source === 'builtin' && (
              <div className="choice-detail">
                <select value={script} onChange={(event) => setScript(event.target.value)} data-testid="new-run-script" aria-label="Script">
                  {(catalog?.builtinScripts ?? [{ name: script, description: '' }]).map((entry) => (
                    <option key={entry.name} value={entry.name}>
                      {entry.name}
                    </option>
                  ))}
                </select>
                <small className="muted">{catalog?.builtinScripts.find((entry) => entry.name === script)?.description ?? 'Needs no network or key.'}</small>
              </div>
            )}

            <label className={`choice${detectedAgents.length === 0 ? ' disabled' : ''}`}>
              <input
                type="radio"
                name="source"
                checked={source === 'detected'}
                disabled={detectedAgents.length === 0}
                onChange={() => setSource('detected')}
                data-testid="new-run-source-detected"
              />
              <span>Agent found on PATH {catalog && detectedAgents.length === 0 && <small className="muted">(none found: Codex, Claude Code ACP, Gemini CLI, codex-acp)</small>}</span>
            </label>
            {source === 'detected' && (
              <div className="choice-detail">
                <select value={detected} onChange={(event) => setDetected(Number(event.target.value))} data-testid="new-run-detected" aria-label="Detected agent">
                  {detectedAgents.map((agent, index) => (
                    <option key={agent.path + index} value={index}>
                      {agent.name} — {agent.command.join(' ')}
                    </option>
                  ))}
                </select>
                <small className="muted">{detectedAgents[detected]?.path}</small>
              </div>
            )}

            <label className="choice">
              <input type="radio" name="source" checked={source === 'custom'} onChange={() => setSource('custom')} data-testid="new-run-source-custom" />
              <span>Custom ACP command</span>
            </label>
            {source === 'custom' && (
              <div className="choice-detail">
                <input
                  type="text"
                  value={customLine}
                  onChange={(event) => setCustomLine(event.target.value)}
                  placeholder="e.g. npx @agentclientprotocol/claude-agent-acp"
                  spellCheck={false}
                  autoComplete="off"
                  aria-label="ACP command line"
                  data-testid="new-run-command"
                />
                <small className="muted">Split into words like a shell would (quotes work); nothing is expanded.</small>
              </div>
            )}
            {catalogError && <ErrorBox error={catalogError} />}
          </fieldset>

          <label className="field">
            <span>
              Title <small className="muted">(optional)</small>
            </span>
            <input type="text" value={title} maxLength={500} onChange={(event) => setTitle(event.target.value)} data-testid="new-run-title" />
          </label>

          <label className="field-inline">
            <input type="checkbox" checked={worktree} onChange={(event) => setWorktree(event.target.checked)} disabled={check?.status === 'not_git'} data-testid="new-run-worktree" />
            <span>
              Work in a separate git worktree <small className="muted">(branch keel/&lt;run&gt; under the data folder; your checkout stays as it is)</small>
            </span>
          </label>

          {error && <ErrorBox error={error} testId="new-run-error" />}

          <div className="dialog-actions">
            <button type="button" onClick={onClose} disabled={busy} data-testid="new-run-cancel">
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy || workspaceBlocked !== null} title={workspaceBlocked ?? undefined} data-testid="new-run-create">
              {busy ? (source === 'builtin' ? 'Creating…' : 'Checking the agent…') : 'Create run'}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

/** Under the workspace field: what the typed path is, in plain words, and git init when it is a plain folder. */
function WorkspaceStatus({ check, onInit, initBusy }: { check: WorkspaceCheck | null; onInit(): void; initBusy: boolean }) {
  if (!check) return <small className="muted">The agent works in this folder, usually a git repository. ~ is your home folder.</small>;
  if (check.status === 'git') {
    return (
      <small className="workspace-status ok" data-testid="workspace-status" data-status="git">
        ✓ Git repository: <code>{check.resolved}</code>
      </small>
    );
  }
  return (
    <small className={`workspace-status ${check.status === 'not_git' || check.status === 'empty' ? 'warn' : 'bad'}`} data-testid="workspace-status" data-status={check.status} role={check.status === 'empty' ? undefined : 'alert'}>
      {check.problem}
      {check.canInit && (
        <button type="button" className="small-button" onClick={onInit} disabled={initBusy} data-testid="workspace-git-init">
          {initBusy ? 'Running git init…' : 'Make it a repository (git init)'}
        </button>
      )}
    </small>
  );
}

function safeStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
