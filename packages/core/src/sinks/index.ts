// Sinks: what Keel ships off the machine for teams — a PostgreSQL mirror of the ledger and
// OpenTelemetry traces of runs. They only read the ledger (opened read-only by a separate
// process), never block or change it, and everything they send passes redaction first.
export { Backoff, pause } from './backoff.js';
export { ChainCheck, ChainMismatchError } from './chain-check.js';
export { isSensitiveKey, redactValue, redactValues, SinkRedactionError, sinkRedactor, type TextRedactor } from './redaction.js';
export { checkOtlpEndpoint, checkPostgresUrl, isLoopbackHost, SinkConfigError } from './remote-url.js';
export { LATEST_MIRROR_VERSION, migrateMirror, mirrorMigrations, type MirrorMigration } from './postgres/migrations.js';
export { mirrorOnce, type LedgerSource, type MirrorOptions } from './postgres/mirror.js';
export { verifyMirror } from './postgres/verify.js';
export { connectMirror, isFatalSinkError, runPostgresSink, type PostgresSinkOptions } from './postgres/sink.js';
export { readSinkSettings, sinksDir } from './settings.js';
export { traceIdOf, runSpanIdOf, spanIdOf } from './otlp/ids.js';
export type { SpanRecord, SpanAttributes } from './otlp/span-record.js';
export { TraceFold, genAiSystemOf } from './otlp/trace-fold.js';
export { parseOtlpHeaders, resolveOtlpTarget, type OtlpTarget } from './otlp/endpoint-config.js';
export { ExportPositionFile } from './otlp/position.js';
export { exportOtlp, OtlpExportError, type OtlpExportOptions } from './otlp/exporter.js';
export { LiveOtlpExport, liveExportMain, type LiveExportOptions } from './otlp/live-export.js';
