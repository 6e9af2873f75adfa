import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

/** Where the app log lives in a data directory. */
export const appLogDir = (dataDir: string) => path.join(dataDir, 'logs');
export const APP_LOG_FILE = 'keel.log';

/**
 * Field names whose values never reach the log, at any depth pino can address: a caller that
 * passes a request or an env by mistake still leaks nothing (I12).
 */
const REDACT_PATHS = ['password', 'token', 'secret', 'authorization', 'apiKey', 'api_key', 'privateKey', 'private_key', 'env', 'headers.authorization']
  .flatMap((key) => [key, `*.${key}`]);

const baseOptions = {
  base: { pid: process.pid },
  redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
  timestamp: pino.stdTimeFunctions.isoTime,
};

/** Before `openAppLog`: warnings and errors to stderr, as JSON lines. */
let logger: Logger = pino({ ...baseOptions, level: 'warn' }, pino.destination({ fd: 2, sync: true }));
let file: RotatingFileStream | null = null;

/** The app's logger: `appLog().warn({ runId }, 'message')`. Never log payloads, prompts or env. */
export function appLog(): Logger {
  return logger;
}

export interface AppLogOptions {
  level?: 'debug' | 'info' | 'warn' | 'error';
  /** Rotate past this size (rotating-file-stream syntax: `5M`). */
  size?: string;
  /** Rotated files kept beside the current one. */
  maxFiles?: number;
}

/**
 * Opens Keel's structured app log at `<data>/logs/keel.log` (JSON lines, mode 0600), rotated
 * by size (keel.log.1, .2, ... up to `maxFiles`); warnings and errors also go to stderr.
 * Called once by each long-lived entry point (server, app); tests and one-shot CLI commands
 * keep the stderr-only default.
 */
export function openAppLog(dataDir: string, options: AppLogOptions = {}): Logger {
  closeAppLog();
  const dir = appLogDir(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const maxFiles = options.maxFiles ?? 5;
  file = createStream((time: number | Date | null, index?: number) => (time ? `${APP_LOG_FILE}.${index ?? 1}` : APP_LOG_FILE), {
    path: dir,
    size: options.size ?? '5M',
    maxFiles,
    mode: 0o600,
    history: '.keel.log.history',
  });
  logger = pino(
    { ...baseOptions, level: options.level ?? 'info' },
    pino.multistream([
      { level: options.level ?? 'info', stream: file },
      { level: 'warn', stream: pino.destination({ fd: 2, sync: true }) },
    ]),
  );
  return logger;
}

/** Closes the log file; later messages go to stderr again. */
export function closeAppLog(): void {
  if (!file) return;
  file.end();
  file = null;
  logger = pino({ ...baseOptions, level: 'warn' }, pino.destination({ fd: 2, sync: true }));
}
