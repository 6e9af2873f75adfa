import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** The colour of a CSS custom property on the document (theme-aware), with a fallback. */
function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/**
 * A small trend line drawn with uPlot: one point per scorecard (oldest first), the target as a
 * dashed line. Values that were not measured are gaps.
 */
export function Sparkline({ values, target, label }: { values: ReadonlyArray<number | null>; target: number; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element || values.length === 0) return;
    const xs = values.map((_, index) => index);
    const line = cssVar('--accent', '#2b6cb0');
    const muted = cssVar('--muted', '#888');
    const plot = new uPlot(
      {
        width: 140,
        height: 36,
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: false } },
        series: [{}, { stroke: line, width: 2, points: { show: values.length < 2, size: 5, fill: line } }, { stroke: muted, width: 1, dash: [3, 3], points: { show: false } }],
      },
      [xs, values.map((value) => value), xs.map(() => target)],
      element,
    );
    return () => plot.destroy();
  }, [values, target]);
  return <div className="reliability-sparkline" ref={host} role="img" aria-label={`${label} trend over ${values.length} scorecards`} data-testid="slo-sparkline" />;
}
