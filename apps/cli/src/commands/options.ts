import type { Command } from 'commander';

/** `--data DIR`, accepted by every command that touches Keel's data. */
export const withDataOption = (command: Command) =>
  command.option('--data <dir>', 'data directory (default: $KEEL_DATA_DIR, else the platform default)');

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be an integer from 0 to 65535, got "${value}".`);
  return port;
}
