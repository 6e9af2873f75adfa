import { useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';

/** "Export diagnostics…": the host writes the bundle (a save dialog in the app) and says where. */
export function ExportDiagnosticsButton({ runId }: { runId: string }) {
  const { client } = useKeel();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const result = await client.invoke('diagnostics.export', { runIds: [runId] });
      setMessage(result.file ? { ok: true, text: `Wrote ${result.file} (${result.redactions} redaction${result.redactions === 1 ? '' : 's'})` } : null);
    } catch (failure) {
      setMessage({ ok: false, text: describeError(failure) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="export-diagnostics">
      <button type="button" onClick={() => void run()} disabled={busy} data-testid="export-diagnostics">
        {busy ? 'Exporting…' : 'Export diagnostics…'}
      </button>
      {message && (
        <span className={`small ${message.ok ? 'status-ok' : 'status-failed'}`} data-testid="export-diagnostics-result" role="status">
          {message.text}
        </span>
      )}
    </span>
  );
}
