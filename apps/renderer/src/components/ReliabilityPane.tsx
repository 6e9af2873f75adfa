import { useCallback, useEffect, useMemo, useState } from 'react';
import type { HarnessProgress, ReliabilityOverview } from '@keel/core/contract';
import { useKeel } from '../lib/client-context.js';
import { describeError } from '../lib/errors.js';
import { HarnessControl } from './reliability/HarnessControl.js';
import { RunFacts } from './reliability/RunFacts.js';
import { ScenarioTable } from './reliability/ScenarioTable.js';
import { SloTile } from './reliability/SloTile.js';
import './reliability/reliability.css';

/**
 * The right pane's reliability view: the latest scorecard's SLO tiles (with a trend over the
 * history), its scenarios, a "Run harness" button with live progress, and the selected run's
 * reliability facts. Every number comes from core (I9); this only shows them.
 */
export function ReliabilityPane() {
  const { client } = useKeel();
  const [overview, setOverview] = useState<ReliabilityOverview | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [progress, setProgress] = useState<HarnessProgress>({ kind: 'idle' });
  const [runError, setRunError] = useState<string | null>(null);

  const load = useCallback(() => {
    client.invoke('reliability.overview', {}).then(
      (value) => {
        setOverview(value);
        setLoadError(null);
      },
      (error: unknown) => setLoadError(describeError(error)),
    );
  }, [client]);

  useEffect(load, [load]);
  useEffect(
    () =>
      client.subscribe(
        'reliability.progress',
        {},
        {
          onEvent(event) {
            setProgress(event);
            // The scorecard so far is written after each scenario (and kept when a run fails part-way).
            if (event.kind === 'finished' || event.kind === 'failed' || (event.kind === 'running' && event.index > 0 && event.done === 0)) load();
          },
        },
      ),
    [client, load],
  );

  const run = () => {
    setRunError(null);
    client.invoke('reliability.run', {}).then(
      (value) => {
        if (!value.started) setRunError('A harness run is already going.');
      },
      (error: unknown) => setRunError(describeError(error)),
    );
  };

  const trends = useMemo(() => {
    const byId = new Map<string, Array<number | null>>();
    // A run stopped part-way measured only some scenarios: its SLOs are not a point of the trend.
    for (const entry of overview?.history ?? []) {
      if (entry.incomplete) continue;
      for (const slo of entry.slos) byId.set(slo.id, [...(byId.get(slo.id) ?? []), slo.value]);
    }
    return byId;
  }, [overview]);

  const latest = overview?.latest ?? null;
  return (
    <section className="pane reliability-pane" aria-labelledby="reliability-title" data-testid="reliability-pane">
      <div className="reliability-head">
        <h2 id="reliability-title">Reliability</h2>
        {latest && (
          <span className={`reliability-overall ${latest.verdict === 'pass' ? 'status-ok' : 'status-failed'}`} data-testid="reliability-verdict">
            {latest.verdict === 'pass' ? 'PASS' : 'FAIL'}
          </span>
        )}
        {latest?.incomplete && (
          <span
            className="reliability-incomplete muted"
            title="The run stopped, or is still going, before every scenario finished: the verdict and SLOs cover only the scenarios done."
            data-testid="reliability-incomplete"
          >
            incomplete: {latest.incomplete.scenariosDone} of {latest.incomplete.scenariosPlanned} scenarios
          </span>
        )}
      </div>
      <HarnessControl progress={progress} onRun={run} error={runError} />
      {loadError && <p className="status-failed">Could not read the scorecards: {loadError}</p>}
      {!latest ? (
        <div className="empty-state" data-testid="reliability-empty">
          <p>No scorecard yet.</p>
          <p className="muted">
            The reliability harness injects real faults — the agent killed mid-stream or while an approval waits, a hung agent, garbage output, a forgotten session, a restart
            storm, the host killed mid-run, torn and damaged logs, a full disk — and measures whether Keel recovered, lost or invented anything, and how fast.
          </p>
          <p className="muted">
            Press <strong>Run harness</strong>, or run <code>keel reliability --quick</code>; each scorecard lands in the data folder's <code>reliability/</code> and shows here, with a trend once there are two.
          </p>
        </div>
      ) : (
        <>
          <p className="reliability-meta muted" data-testid="reliability-meta">
            Latest: <time dateTime={latest.createdAt}>{new Date(latest.createdAt).toLocaleString()}</time> · {latest.profile} · seed {latest.seed} · Keel {latest.keelVersion}
            {latest.gitSha ? ` (${latest.gitSha.slice(0, 8)})` : ''} · {latest.machine.cores} cores · {overview!.history.length} scorecard{overview!.history.length === 1 ? '' : 's'}
          </p>
          <div className="slo-tiles" data-testid="slo-tiles">
            {latest.slos.map((slo) => (
              <SloTile key={slo.id} slo={slo} trend={trends.get(slo.id) ?? []} />
            ))}
          </div>
          <h3>Scenarios</h3>
          <ScenarioTable scenarios={latest.scenarios} />
          {overview!.unreadable.length > 0 && <p className="status-degraded">{overview!.unreadable.length} scorecard file(s) could not be read: {overview!.unreadable[0]!.reason}</p>}
        </>
      )}
      <h3>Selected run</h3>
      <RunFacts />
    </section>
  );
}
