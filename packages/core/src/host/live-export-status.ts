import { performance } from 'node:perf_hooks';
import type { LiveExportStatus } from '../contract/index.js';
import type { LiveOtlpExport } from '../sinks/index.js';

/** `sinks.liveExportStatus` sends at most one message per this window: a batch acknowledged every few ms is said once. */
export const LIVE_EXPORT_STATUS_EVERY_MS = 250;

/**
 * `sinks.liveExportStatus`: the exporter's status as it stands, then its changes, the latest one
 * at most every `everyMs` (a change inside the window goes out at its end). Returns the unsubscribe.
 */
export function watchLiveExport(liveExport: LiveOtlpExport, send: (status: LiveExportStatus) => void, everyMs = LIVE_EXPORT_STATUS_EVERY_MS): () => void {
  let sentAt = performance.now();
  let latest: LiveExportStatus | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    if (!latest) return;
    send(latest);
    latest = null;
    sentAt = performance.now();
  };
  send(liveExport.current());
  const stop = liveExport.onStatus((status) => {
    latest = status;
    if (timer) return;
    const wait = sentAt + everyMs - performance.now();
    if (wait <= 0) flush();
    else {
      timer = setTimeout(flush, wait);
      timer.unref?.(); // a status nobody may be left to read never holds the host open
    }
  });
  return () => {
    stop();
    if (timer) clearTimeout(timer);
  };
}
