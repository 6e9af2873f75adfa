import type { ScenarioResult } from '@keel/core/contract';

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);

/** Every scenario of the latest scorecard: verdict and its counters. */
export function ScenarioTable({ scenarios }: { scenarios: readonly ScenarioResult[] }) {
  return (
    <table className="scenario-table" data-testid="scenario-table">
      <thead>
        <tr>
          <th scope="col">Scenario</th>
          <th scope="col">Verdict</th>
          <th scope="col" title="faults injected / recovered">Recovered</th>
          <th scope="col" title="acknowledged events, lost, unexpected">Ack / lost / unexp.</th>
          <th scope="col" title="recovery time p50 / p95 (restart decided to session bound)">Recovery</th>
        </tr>
      </thead>
      <tbody>
        {scenarios.map((scenario) => {
          const c = scenario.counters;
          return (
            <tr key={scenario.name} className={`scenario-${scenario.verdict}`} title={[scenario.description, ...scenario.problems].join('\n')}>
              <th scope="row">{scenario.name}</th>
              <td className={`scenario-verdict-${scenario.verdict}`}>{scenario.verdict === 'skipped' ? `skipped: ${scenario.skipReason ?? ''}` : scenario.verdict}</td>
              <td>
                {c.recovered}/{c.attempts}
              </td>
              <td>
                {c.acknowledged} / {c.lost} / {c.unexpected}
              </td>
              <td>{scenario.recovery ? `${ms(scenario.recovery.p50)} / ${ms(scenario.recovery.p95)}` : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
