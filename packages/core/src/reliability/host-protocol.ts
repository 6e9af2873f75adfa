import { fileURLToPath } from 'node:url';

/** The killed host's restart backoff (fast: the scenario measures the host's recovery, not the wait). */
export const HOST_KILL_RESTART = { baseMs: 20, capMs: 100, maxAttempts: 5 } as const;

/** The compiled host child (always in dist/: it runs as a plain Node process). src/ and dist/ sit at the same depth. */
export const hostChildMain = fileURLToPath(new URL('../../dist/reliability/host-child.js', import.meta.url));

export type HostLine = { kind: 'ready'; runId: string } | { kind: 'prompt'; text: string } | { kind: 'ack'; runId: string; seq: number; hash: string } | { kind: 'other'; line: string };

export function parseHostLine(line: string): HostLine {
  const space = line.indexOf(' ');
  const word = space < 0 ? line : line.slice(0, space);
  const rest = space < 0 ? '' : line.slice(space + 1);
  if (word === 'READY') return { kind: 'ready', runId: rest };
  if (word === 'PROMPT') return { kind: 'prompt', text: rest };
  if (word === 'ACK') {
    const [runId, seq, hash] = rest.split(' ');
    if (runId && seq && hash) return { kind: 'ack', runId, seq: Number(seq), hash };
  }
  return { kind: 'other', line };
}
