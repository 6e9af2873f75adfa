import { useEffect, useId, useState } from 'react';
import { isTypingTarget, modKey } from '../lib/keyboard.js';

const SHORTCUTS: ReadonlyArray<[keys: string, what: string]> = [
  [`${modKey()}+Enter`, 'Send the prompt'],
  [`${modKey()}+K`, 'Command palette: new run, switch run, restart, cancel, export diagnostics, settings, side pane'],
  [`${modKey()}+F`, 'Find in the transcript (Enter / Shift+Enter: next / previous match, Esc: close)'],
  ['1 / A', 'Allow the oldest waiting approval once (1 also from the empty prompt box)'],
  ['2 / R', 'Allow it for this run'],
  ['3 / D', 'Deny it'],
  ['Esc', 'Close a dialog'],
  ['?', 'Show or hide this list'],
];

/** `?` (outside text fields) lists the keyboard shortcuts. */
export function ShortcutsOverlay() {
  const [open, setOpen] = useState(false);
  const ids = useId();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && open) {
        setOpen(false);
        return;
      }
      if (event.key !== '?' || event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
      event.preventDefault();
      setOpen((value) => !value);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);
  if (!open) return null;
  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && setOpen(false)}>
      <div className="dialog shortcuts-dialog" role="dialog" aria-modal="true" aria-labelledby={`${ids}-title`} data-testid="shortcuts-overlay">
        <h2 id={`${ids}-title`}>Keyboard shortcuts</h2>
        <dl className="shortcut-list">
          {SHORTCUTS.map(([keys, what]) => (
            <div key={keys}>
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={() => setOpen(false)}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
