import type { AppInfo, AppMode, EngineHealth, HealthStatus } from '../contract/schemas/app.js';
import { inspectDataDir } from './data-dir.js';
import { createRouter, type Handlers, type Router } from './router.js';
import { KEEL_VERSION } from './version.js';

export interface WorkstationOptions {
  dataDir: string;
  mode: AppMode;
  /** Default heartbeat period for `app.health`. */
  heartbeatMs?: number;
}

export interface Workstation {
  readonly dataDir: string;
  readonly router: Router;
  info(): AppInfo;
  close(): Promise<void>;
}

function engineHealth(dataDir: string): EngineHealth {
  const dir = inspectDataDir(dataDir);
  const status: HealthStatus = !dir.exists || !dir.writable ? 'failed' : dir.problems.length > 0 ? 'degraded' : 'ok';
  return { status, dataDir: dir };
}

/**
 * The host: composes Keel's services and implements the contract. Electron main and the
 * headless server are two thin doors onto the same Workstation.
 */
export function createWorkstation(options: WorkstationOptions): Workstation {
  const startedAt = new Date();
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const timers = new Set<ReturnType<typeof setInterval>>();

  const info = (): AppInfo => ({
    name: 'Keel',
    version: KEEL_VERSION,
    dataDir: options.dataDir,
    platform: process.platform,
    arch: process.arch,
    mode: options.mode,
    nodeVersion: process.versions.node,
    startedAt: startedAt.toISOString(),
    engine: engineHealth(options.dataDir),
  });

  const handlers: Handlers = {
    procedures: {
      'app.info': () => info(),
    },
    streams: {
      'app.health': (params, sink) => {
        let seq = 0;
        const beat = () =>
          sink.next({
            seq: seq++,
            ts: new Date().toISOString(),
            uptimeMs: Date.now() - startedAt.getTime(),
            status: engineHealth(options.dataDir).status,
          });
        beat();
        const timer = setInterval(beat, params.intervalMs ?? heartbeatMs);
        timers.add(timer);
        return () => {
          clearInterval(timer);
          timers.delete(timer);
        };
      },
    },
  };

  return {
    dataDir: options.dataDir,
    router: createRouter(handlers),
    info,
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
    },
  };
}
