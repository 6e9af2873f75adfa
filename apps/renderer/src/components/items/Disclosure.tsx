import type { ReactNode } from 'react';
import { useExpanded } from '../../stores/ui.js';

/**
 * A header that opens and closes its body. The open state lives in the UI store under
 * `stateKey`, so it survives the item scrolling out of the virtualized list and back.
 */
export function Disclosure({
  stateKey,
  summary,
  children,
  defaultOpen = false,
  className,
  testId,
  preview,
}: {
  stateKey: string;
  summary: ReactNode;
  children: ReactNode;
  /** Shown instead of the body while closed. */
  preview?: ReactNode;
  defaultOpen?: boolean;
  className?: string;
  testId?: string;
}) {
  const [open, setOpen] = useExpanded(stateKey, defaultOpen);
  return (
    <div className={`disclosure${open ? ' open' : ''}${className ? ` ${className}` : ''}`} data-testid={testId} data-open={open}>
      <button type="button" className="disclosure-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span className="chevron" aria-hidden="true">
          {open ? '▾' : '▸'}
        </span>
        {summary}
      </button>
      {open ? <div className="disclosure-body">{children}</div> : preview !== undefined && <div className="disclosure-preview">{preview}</div>}
    </div>
  );
}
