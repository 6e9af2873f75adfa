import { formatSloValue, type SloResult } from '@keel/core/contract';
import { Sparkline } from './Sparkline.js';

const VERDICT_WORD: Record<SloResult['verdict'], string> = { met: 'met', missed: 'missed', no_data: 'no data' };

/** One SLO: value, target, verdict and its trend over the scorecard history. */
export function SloTile({ slo, trend }: { slo: SloResult; trend: ReadonlyArray<number | null> }) {
  return (
    <div className={`slo-tile slo-${slo.verdict}`} data-testid={`slo-${slo.id}`}>
      <div className="slo-head">
        <span className="slo-label">{slo.label}</span>
        <span className={`slo-verdict slo-verdict-${slo.verdict}`}>{VERDICT_WORD[slo.verdict]}</span>
      </div>
      <div className="slo-value">{formatSloValue(slo.unit, slo.value)}</div>
      <div className="slo-target muted">
        target {slo.comparator} {formatSloValue(slo.unit, slo.target)}
      </div>
      <Sparkline values={trend} target={slo.target} label={slo.label} />
    </div>
  );
}
