import type { ConnectionStatus } from '@keel/core/contract';
import { create } from 'zustand';

interface ConnectionState {
  status: ConnectionStatus;
  /** When the connection was last (re)established; null before the first. */
  connectedAt: number | null;
  lastHeartbeatAt: number | null;
  setStatus(status: ConnectionStatus): void;
  heartbeat(): void;
}

export const useConnection = create<ConnectionState>((set) => ({
  status: 'connecting',
  connectedAt: null,
  lastHeartbeatAt: null,
  setStatus: (status) => set(status === 'connected' ? { status, connectedAt: Date.now() } : { status }),
  heartbeat: () => set({ lastHeartbeatAt: Date.now() }),
}));
