/**
 * Human-readable lines on stderr (Keel keeps the agent's stderr in a per-run raw log).
 * stdout carries protocol lines only.
 */
export type Log = (message: string) => void;

export const stderrLog: Log = (message) => {
  process.stderr.write(`keel-builtin[${process.pid}] ${new Date().toISOString()} ${message}\n`);
};
