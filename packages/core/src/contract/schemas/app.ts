import { z } from 'zod';
import { AgentKind, LedgerHealth } from './ledger.js';

export const AppMode = z.enum(['electron', 'headless']);
export type AppMode = z.infer<typeof AppMode>;

export const HealthStatus = z.enum(['ok', 'degraded', 'failed']);
export type HealthStatus = z.infer<typeof HealthStatus>;

export const DataDirHealth = z.object({
  path: z.string(),
  exists: z.boolean(),
  writable: z.boolean(),
  /** Permission bits as an octal string, e.g. "700". */
  mode: z.string().nullable(),
  privateMode: z.boolean(),
  freeBytes: z.number().nullable(),
  problems: z.array(z.string()),
});
export type DataDirHealth = z.infer<typeof DataDirHealth>;

export const EngineHealth = z.object({
  status: HealthStatus,
  dataDir: DataDirHealth,
  ledger: LedgerHealth,
});
export type EngineHealth = z.infer<typeof EngineHealth>;

export const AppInfo = z.object({
  name: z.literal('Keel'),
  version: z.string(),
  dataDir: z.string(),
  platform: z.string(),
  arch: z.string(),
  mode: AppMode,
  nodeVersion: z.string(),
  startedAt: z.string(),
  engine: EngineHealth,
});
export type AppInfo = z.infer<typeof AppInfo>;

export const Heartbeat = z.object({
  seq: z.number().int().nonnegative(),
  ts: z.string(),
  uptimeMs: z.number().nonnegative(),
  status: HealthStatus,
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** What a new run can use: the built-in agent's scripts and the agents found on PATH. */
export const AgentCatalog = z.object({
  builtinScripts: z.array(z.object({ name: z.string(), description: z.string() })),
  detected: z.array(
    z.object({
      kind: AgentKind,
      name: z.string(),
      /** The command line to start it (for runs.create). */
      command: z.array(z.string()),
      /** Where it was found on PATH. */
      path: z.string(),
    }),
  ),
});
export type AgentCatalog = z.infer<typeof AgentCatalog>;
