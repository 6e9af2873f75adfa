import fs from 'node:fs';
import path from 'node:path';
import { KeelRpcError } from '../contract/errors.js';
import { Settings, SETTINGS_SCHEMA_VERSION, SettingsPatch, type SettingsView } from '../contract/schemas/settings.js';
import { writeFileAtomic } from '../fsutil/index.js';

export const SETTINGS_FILE = 'settings.json';

/**
 * The user's settings in the data directory: read once, every change written atomically
 * (temp, fsync, rename, fsync dir) with its schema_version (I10). A missing file means the
 * defaults; a damaged one is set aside as settings.json.broken (never silently lost) and the
 * defaults used; a newer version than this build knows is read for the fields it shares.
 */
export class SettingsStore {
  private settings: Settings;
  readonly file: string;
  /** Set when the stored file could not be read; shown once in the log. */
  readonly problem: string | null = null;

  constructor(readonly dataDir: string) {
    this.file = path.join(dataDir, SETTINGS_FILE);
    const loaded = readSettings(this.file);
    this.settings = loaded.settings;
    this.problem = loaded.problem;
  }

  current(): Settings {
    return this.settings;
  }

  view(): SettingsView {
    return { settings: this.settings, file: this.file, dataDir: this.dataDir };
  }

  update(patch: unknown): SettingsView {
    const parsed = SettingsPatch.safeParse(patch);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new KeelRpcError('invalid_input', `That setting is not valid: ${first ? `${first.path.join('.')} — ${first.message}` : 'unknown field'}.`);
    }
    const next = Settings.parse({ ...this.settings, ...parsed.data, schema_version: SETTINGS_SCHEMA_VERSION });
    writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
    this.settings = next;
    return this.view();
  }
}

function readSettings(file: string): { settings: Settings; problem: string | null } {
  const defaults = Settings.parse({ schema_version: SETTINGS_SCHEMA_VERSION });
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { settings: defaults, problem: null };
  }
  try {
    const parsed = Settings.safeParse(JSON.parse(text));
    if (parsed.success) return { settings: parsed.data, problem: null };
    throw new Error(parsed.error.issues[0]?.message ?? 'not settings');
  } catch (error) {
    try {
      fs.renameSync(file, `${file}.broken`);
    } catch {
      // Keep going with the defaults; the next save replaces the file.
    }
    return { settings: defaults, problem: `settings.json could not be read (${(error as Error).message}); it was kept as settings.json.broken and the defaults are used.` };
  }
}
