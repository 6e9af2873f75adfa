import type { ReplaySource } from '@keel/core/contract';
import { create } from 'zustand';

/** Which run the replay viewer shows, and at which seq; mirrored in the URL (`?run=ID&seq=N[&bundle=ID]`). */
interface ReplayState {
  source: ReplaySource | null;
  seq: number | null;
  open(source: ReplaySource, seq?: number | null): void;
  setSeq(seq: number): void;
  close(): void;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The replay a URL asks for, if any: `?run=ID&seq=N`, with `&bundle=ID` for an imported run. */
export function deepLink(search: string): { source: ReplaySource; seq: number | null } | null {
  const params = new URLSearchParams(search);
  const runId = params.get('run');
  if (!runId || !ID.test(runId)) return null;
  const bundleId = params.get('bundle');
  const seqText = params.get('seq');
  const seq = seqText !== null && /^\d+$/.test(seqText) ? Number(seqText) : null;
  return { source: bundleId && ID.test(bundleId) ? { runId, bundleId } : { runId }, seq };
}

function writeLink(source: ReplaySource | null, seq: number | null): void {
  const url = new URL(globalThis.location?.href ?? 'http://localhost/');
  for (const key of ['run', 'seq', 'bundle']) url.searchParams.delete(key);
  if (source) {
    url.searchParams.set('run', source.runId);
    if (seq !== null) url.searchParams.set('seq', String(seq));
    if (source.bundleId) url.searchParams.set('bundle', source.bundleId);
  }
  globalThis.history?.replaceState(null, '', url.toString());
}

export const useReplay = create<ReplayState>((set, get) => ({
  source: null,
  seq: null,
  open(source, seq = null) {
    set({ source, seq });
    writeLink(source, seq);
  },
  setSeq(seq) {
    set({ seq });
    writeLink(get().source, seq);
  },
  close() {
    set({ source: null, seq: null });
    writeLink(null, null);
  },
}));
