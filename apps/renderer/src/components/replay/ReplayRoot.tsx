import { useEffect } from 'react';
import { DiagnosticsDoor } from './DiagnosticsDoor.js';
import { ReplayViewer } from './ReplayViewer.js';
import { deepLink, useReplay } from './replay-store.js';
import './replay.css';

/**
 * Mounted once: opens the replay a deep link asks for (`?run=ID&seq=N`), shows the viewer while
 * one is open, and the diagnostics door (app menu commands, a dropped bundle, import notices).
 */
export function ReplayRoot() {
  const source = useReplay((state) => state.source);
  useEffect(() => {
    const link = deepLink(globalThis.location?.search ?? '');
    if (link) useReplay.getState().open(link.source, link.seq);
  }, []);
  return (
    <>
      <DiagnosticsDoor />
      {source ? <ReplayViewer key={`${source.bundleId ?? ''}/${source.runId}`} source={source} /> : null}
    </>
  );
}

/** The run header's entry points: "Replay" and "Export diagnostics…". */
export function ReplayButton({ runId }: { runId: string }) {
  return (
    <button type="button" className="replay-open" onClick={() => useReplay.getState().open({ runId })} data-testid="open-replay">
      Replay
    </button>
  );
}
