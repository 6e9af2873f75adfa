import { useMemo, useState } from 'react';
import { splitRows, type DiffRow } from '../../lib/diff.js';
import type { DiffLayout } from './changes-range.js';

/** Rows drawn at first; "Show more" adds as many again (a large diff never renders at once). */
export const ROWS_PER_PAGE = 1500;

const skipText = (count: number) => `⋯ ${count} unchanged line${count === 1 ? '' : 's'}`;
const SIGN = { add: '+', del: '−', same: ' ' } as const;

/** A file's diff rows, unified (old and new line numbers, one column) or side by side. */
export function DiffRows({ rows, layout, label }: { rows: readonly DiffRow[]; layout: DiffLayout; label: string }) {
  const [limit, setLimit] = useState(ROWS_PER_PAGE);
  const split = useMemo(() => (layout === 'split' ? splitRows(rows) : null), [rows, layout]);
  const total = split ? split.length : rows.length;
  const more = total - limit;
  return (
    <div className={`chg-table ${layout}`} role="table" aria-label={label} data-testid="changes-diff-table" data-layout={layout}>
      {split
        ? split.slice(0, limit).map((row, index) =>
            row.op === 'skip' ? (
              <div key={index} className="chg-row skip" role="row">
                <span className="chg-text chg-skip">{skipText(row.count)}</span>
              </div>
            ) : (
              <div key={index} className="chg-row pair" role="row">
                <span className="chg-no">{row.left?.no ?? ''}</span>
                <span className={`chg-text ${row.left ? row.left.op : 'blank'}`}>{row.left?.text ?? ''}</span>
                <span className="chg-no">{row.right?.no ?? ''}</span>
                <span className={`chg-text ${row.right ? row.right.op : 'blank'}`}>{row.right?.text ?? ''}</span>
              </div>
            ),
          )
        : rows.slice(0, limit).map((row, index) =>
            row.op === 'skip' ? (
              <div key={index} className="chg-row skip" role="row">
                <span className="chg-no" />
                <span className="chg-no" />
                <span className="chg-text chg-skip">{skipText(row.count)}</span>
              </div>
            ) : (
              <div key={index} className={`chg-row ${row.op}`} role="row">
                <span className="chg-no">{row.op === 'add' ? '' : row.oldNo}</span>
                <span className="chg-no">{row.op === 'del' ? '' : row.newNo}</span>
                <span className={`chg-text ${row.op}`}>
                  <span className="chg-sign" aria-hidden="true">
                    {SIGN[row.op]}
                  </span>
                  {row.text}
                </span>
              </div>
            ),
          )}
      {more > 0 && (
        <div className="chg-more">
          <button type="button" onClick={() => setLimit(limit + ROWS_PER_PAGE)} data-testid="changes-show-more">
            {more <= ROWS_PER_PAGE ? `Show the last ${more} line${more === 1 ? '' : 's'}` : `Show ${ROWS_PER_PAGE} more lines (${more} left)`}
          </button>
        </div>
      )}
    </div>
  );
}
