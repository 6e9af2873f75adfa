import type { LiveExportStatus } from '@keel/core/contract';
import { useEffect, useState } from 'react';
import { useKeel } from '../../lib/client-context.js';

const STATE_WORDS: Record<LiveExportStatus['state'], string> = {
  off: 'Off.',
  starting: 'Starting…',
  running: 'Sending.',
  retrying: 'Waiting for the collector (retrying).',
  failed: 'Not sending.',
};

/** The live OpenTelemetry export switch and what the exporter is doing (issue 17). */
export function LiveExportSetting({ enabled, onChange }: { enabled: boolean; onChange(enabled: boolean): void }) {
  const { client } = useKeel();
  const [status, setStatus] = useState<LiveExportStatus | null>(null);

  // The host says every change while the dialog is shown (sinks.liveExportStatus); a stream that ends on a failure leaves it unknown.
  useEffect(
    () => client.subscribe('sinks.liveExportStatus', {}, { onEvent: setStatus, onEnd: (error) => { if (error) setStatus(null); } }),
    [client],
  );

  return (
    <label className="choice">
      <input type="checkbox" checked={enabled} onChange={(event) => onChange(event.target.checked)} data-testid="settings-live-export" />
      <span>
        Send new events to an OpenTelemetry collector as they happen (live export)
        <small className="muted block" data-testid="settings-live-export-status">
          {status ? STATE_WORDS[status.state] : 'Status unknown.'}
          {status?.endpoint ? <> To <code>{status.endpoint}</code>{status.spansSent > 0 ? `, ${status.spansSent} spans sent` : ''}.</> : null}
          {status?.problem ? <span className={status.state === 'failed' ? 'status-failed' : undefined}> {status.problem}</span> : null}
          {!enabled ? <> The collector is the one <code>keel export otlp</code> uses. Everything sent is redacted first.</> : null}
        </small>
      </span>
    </label>
  );
}
