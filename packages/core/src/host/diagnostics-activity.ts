import type { AppMenuCommand, BundleExportProgress } from '../contract/index.js';
import type { StreamHandlers } from './router.js';

type Listener<T> = (value: T) => void;

/** Progress is sent at most this often while an entry streams (the last figure of each entry always is). */
const PROGRESS_EVERY_MS = 100;

/**
 * What the diagnostics streams carry: the host's bundle export progress (`diagnostics.progress`,
 * its state first, then every change) and the commands of the native menu (`app.menu`, which
 * the Electron door pushes with `menuCommand`).
 */
export class DiagnosticsActivity {
  private status: BundleExportProgress = { state: 'idle' };
  private readonly progressListeners = new Set<Listener<BundleExportProgress>>();
  private readonly menuListeners = new Set<Listener<AppMenuCommand>>();
  private lastSent = 0;

  get progress(): BundleExportProgress {
    return this.status;
  }

  /** An export starts, moves, ends: every change goes to every subscriber (running ones throttled). */
  report(next: BundleExportProgress): void {
    const now = Date.now();
    if (next.state === 'running' && this.status.state === 'running' && this.status.entry === next.entry && next.done < next.total && now - this.lastSent < PROGRESS_EVERY_MS) {
      this.status = next;
      return;
    }
    this.lastSent = now;
    this.status = next;
    for (const listener of this.progressListeners) listener(next);
  }

  menuCommand(command: AppMenuCommand['command']): void {
    for (const listener of this.menuListeners) listener({ command });
  }

  /** How many renderers listen for menu commands (the menu can tell when nobody would act). */
  get menuListenerCount(): number {
    return this.menuListeners.size;
  }

  streams(): Pick<StreamHandlers, 'diagnostics.progress' | 'app.menu'> {
    return {
      'diagnostics.progress': (_params, sink) => {
        sink.next(this.status);
        const listener = (progress: BundleExportProgress) => sink.next(progress);
        this.progressListeners.add(listener);
        return () => this.progressListeners.delete(listener);
      },
      'app.menu': (_params, sink) => {
        const listener = (command: AppMenuCommand) => sink.next(command);
        this.menuListeners.add(listener);
        return () => this.menuListeners.delete(listener);
      },
    };
  }
}
