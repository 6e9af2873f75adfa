import type { ConnectionStatus, HealthStatus } from '@keel/core/contract';
import { create } from 'zustand';

interface ConnectionState {
  status: ConnectionStatus;
  /** When the connection was last (re)established; null before the first. */
  connectedAt: number | null;
  lastHeartbeatAt: number | null;
  /** The engine's health as the latest heartbeat said (null before the first). */
  engine: HealthStatus | null;
  setStatus(status: ConnectionStatus): void;
  heartbeat(engine: HealthStatus): void;
}

export const useConnection = create<ConnectionState>((set) => ({
  status: 'connecting',
  connectedAt: null,
  lastHeartbeatAt: null,
  engine: null,
  setStatus: (status) => set(status === 'connected' ? { status, connectedAt: Date.now() } : { status }),
  heartbeat: (engine) => set({ lastHeartbeatAt: Date.now(), engine }),
}));
