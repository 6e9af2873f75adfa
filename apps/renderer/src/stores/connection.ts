import type { ConnectionStatus, HealthStatus } from '@keel/core/contract';
import { create } from 'zustand';

interface ConnectionState {
  status: ConnectionStatus;
  /** When the connection was last (re)established; null before the first. */
  connectedAt: number | null;
  lastHeartbeatAt: number | null;
  /** The engine's health as the latest heartbeat said (null before the first). */
  engine: HealthStatus | null;
  /** Why the host closed the connection, when it said (too slow, too many connections). */
  why: string | null;
  /** The server refused this page's token (checked when the socket cannot connect); true until a connection succeeds. */
  tokenRejected: boolean;
  setTokenRejected(rejected: boolean): void;
  setStatus(status: ConnectionStatus, why?: string): void;
  heartbeat(engine: HealthStatus): void;
}

export const useConnection = create<ConnectionState>((set) => ({
  status: 'connecting',
  connectedAt: null,
  lastHeartbeatAt: null,
  engine: null,
  why: null,
  tokenRejected: false,
  setTokenRejected: (tokenRejected) => set({ tokenRejected }),
  setStatus: (status, why) => set(status === 'connected' ? { status, connectedAt: Date.now(), why: null, tokenRejected: false } : { status, why: why ?? null }),
  heartbeat: (engine) => set({ lastHeartbeatAt: Date.now(), engine }),
}));
