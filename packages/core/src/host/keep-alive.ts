import { appLog } from '../logging/index.js';

/**
 * A host (server or app) outlives a bug in one run: an unhandled rejection is logged, loudly,
 * instead of taking every run down with it. Installed once by each long-lived entry point.
 */
export function reportUnhandledRejections(log: (message: string) => void = (message) => appLog().error(message.trimEnd())): void {
  if (process.listenerCount('unhandledRejection') > 0) return;
  process.on('unhandledRejection', (reason) => {
    log(`keel: an unhandled rejection was caught (the host keeps running): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
  });
}
