// Keel's structured, rotated app log (pino). A bottom-layer folder like fsutil: no Keel imports,
// so every other folder may log through it.
export { appLog, openAppLog, closeAppLog, appLogDir, APP_LOG_FILE, type AppLogOptions } from './app-log.js';
