import fs from 'node:fs';
import path from 'node:path';
import { SinkSettings } from '../contract/schemas/sinks.js';
import { SinkConfigError } from './remote-url.js';

/** `<data>/sinks/`: sink settings and export positions. Nothing of the ledger lives here. */
export const sinksDir = (dataDir: string) => path.join(dataDir, 'sinks');

/** `<data>/sinks/settings.json`, or empty settings when there is none. A broken file is an error, not a default. */
export function readSinkSettings(dataDir: string): SinkSettings {
  const file = path.join(sinksDir(dataDir), 'settings.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { schema_version: 1 };
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SinkConfigError(`${file} is not valid JSON (${(error as Error).message}).`);
  }
  const parsed = SinkSettings.safeParse(json);
  if (!parsed.success) throw new SinkConfigError(`${file} is not valid sink settings: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}.`);
  return parsed.data;
}
