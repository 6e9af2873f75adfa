import { z } from 'zod';

/**
 * The user's settings, one file in the data directory (settings.json), written atomically and
 * versioned (I10). Every field has a default, so an older file (or none) reads as complete.
 */
export const SETTINGS_SCHEMA_VERSION = 1;

export const Theme = z.enum(['system', 'light', 'dark']);
export type Theme = z.infer<typeof Theme>;

export const Settings = z.object({
  schema_version: z.number().int().min(1),
  /** After an auto-resumable stop (the agent restarted, hung, lost its engine), continue the turn by itself. */
  autoResume: z.boolean().default(true),
  /** Consecutive automatic continues before Keel waits for a person. */
  autoResumeLimit: z.number().int().min(1).max(10).default(3),
  /** Stop a run's agent after this many idle minutes (0 = never); the next prompt starts it again. */
  idleStopMinutes: z.number().int().min(0).max(24 * 60).default(30),
  /** A pending approval times out after this many seconds (0 = never). */
  approvalTimeoutSeconds: z.number().int().min(0).max(7 * 24 * 3600).default(15 * 60),
  theme: Theme.default('system'),
  /** The built-in script the New run dialog offers first. */
  defaultScript: z.string().min(1).max(200).default('edit-and-test'),
  /** Send new events as OpenTelemetry spans to the collector configured for `keel export otlp` (opt-in). */
  liveOtlpExport: z.boolean().default(false),
  /** Tell the person (desktop notification, tab title, favicon and dock badges) when a run waits for an approval or finishes while Keel is not in front. */
  notifications: z.boolean().default(true),
});
export type Settings = z.infer<typeof Settings>;

/** What a person may change (everything but the version), each optional. */
export const SettingsPatch = Settings.omit({ schema_version: true }).partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

/** What `settings.get` answers: the settings and where they live. */
export const SettingsView = z.object({
  settings: Settings,
  file: z.string(),
  dataDir: z.string(),
});
export type SettingsView = z.infer<typeof SettingsView>;
