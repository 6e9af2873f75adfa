import type { AgentCatalog, AgentSpec } from '@keel/core/contract';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { agentLabel, splitCommandLine } from '../../lib/agent.js';
import { useKeel } from '../../lib/client-context.js';
import { toShownError, type ShownError } from '../../lib/errors.js';
import { ErrorBox } from '../ErrorBox.js';

/**
 * Change the agent of an existing run (issue 15): a built-in script or a custom ACP command.
 * Keel checks the new agent (on PATH, answers the ACP handshake) before recording the change;
 * a running agent process restarts as the new one.
 */
export function EditAgentDialog({ runId, agent, onClose }: { runId: string; agent: AgentSpec | null; onClose(): void }) {
  const { client } = useKeel();
  const ids = useId();
  const [catalog, setCatalog] = useState<AgentCatalog | null>(null);
  const [source, setSource] = useState<'builtin' | 'custom'>(agent?.kind === 'builtin' ? 'builtin' : 'custom');
  const [script, setScript] = useState(agent?.kind === 'builtin' ? (agent.script ?? 'hello') : 'edit-and-test');
  const [line, setLine] = useState(agent && agent.kind !== 'builtin' ? (agent.command ?? []).join(' ') : '');
  const [error, setError] = useState<ShownError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    client
      .invoke('agents.list', {})
      .then((found) => live && setCatalog(found))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [client]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    let next: AgentSpec;
    if (source === 'builtin') next = { kind: 'builtin', script };
    else {
      const command = splitCommandLine(line);
      if (command.length === 0) {
        setError({ code: null, message: 'Type the command line that starts the ACP agent.', issues: [] });
        return;
      }
      next = { kind: 'acp', command };
    }
    setBusy(true);
    try {
      await client.invoke('run.setAgent', { runId, agent: next });
      onClose();
    } catch (failure) {
      setError(toShownError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && !busy && onClose()}>
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={`${ids}-title`} data-testid="edit-agent-dialog">
        <form onSubmit={submit} noValidate>
          <h2 id={`${ids}-title`}>Change the agent</h2>
          <p className="muted small">
            Now: {agentLabel(agent)}. The conversation stays; the next turn runs on the new agent (a running agent restarts).
          </p>
          <fieldset className="field">
            <legend>Agent</legend>
            <label className="choice">
              <input type="radio" name="edit-agent-source" checked={source === 'builtin'} onChange={() => setSource('builtin')} data-testid="edit-agent-builtin" />
              <span>Built-in scripted agent</span>
            </label>
            {source === 'builtin' && (
              <div className="choice-detail">
                <select value={script} onChange={(event) => setScript(event.target.value)} aria-label="Script" data-testid="edit-agent-script">
                  {(catalog?.builtinScripts ?? [{ name: script, description: '' }]).map((entry) => (
                    <option key={entry.name} value={entry.name}>
                      {entry.name}
                    </option>
                  ))}
                </select>
              </div>
            )}
            <label className="choice">
              <input type="radio" name="edit-agent-source" checked={source === 'custom'} onChange={() => setSource('custom')} data-testid="edit-agent-custom" />
              <span>ACP agent command</span>
            </label>
            {source === 'custom' && (
              <div className="choice-detail">
                <input
                  type="text"
                  value={line}
                  onChange={(event) => setLine(event.target.value)}
                  placeholder="e.g. gemini --acp"
                  spellCheck={false}
                  autoComplete="off"
                  aria-label="Agent command line"
                  data-testid="edit-agent-command"
                />
                <small className="muted">Checked before it is saved: found on PATH, and answers the ACP handshake within 10 s.</small>
              </div>
            )}
          </fieldset>
          {error && <ErrorBox error={error} testId="edit-agent-error" />}
          <div className="dialog-actions">
            <button type="button" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy} data-testid="edit-agent-save">
              {busy ? 'Checking the agent…' : 'Change agent'}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
