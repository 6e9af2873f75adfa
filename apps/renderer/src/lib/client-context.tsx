import { createContext, useContext, type ReactNode } from 'react';
import type { Connection } from './transport.js';

const ClientContext = createContext<Connection | null>(null);

export function ClientProvider({ connection, children }: { connection: Connection; children: ReactNode }) {
  return <ClientContext.Provider value={connection}>{children}</ClientContext.Provider>;
}

export function useKeel(): Connection {
  const connection = useContext(ClientContext);
  if (!connection) throw new Error('useKeel() outside <ClientProvider>.');
  return connection;
}
