import { performance } from 'node:perf_hooks';
import type { ReplayIndexProgress } from '../contract/index.js';

/** An `indexing` figure goes to a watcher at most this often; a change of state always goes at once. */
export const REPLAY_PROGRESS_EVERY_MS = 100;

interface Watcher {
  send(progress: ReplayIndexProgress): void;
  /** The last message this watcher got, and when: its own throttle, so a late joiner's first figure does not hold back the others. */
  sent: ReplayIndexProgress;
  sentAt: number;
}

const same = (a: ReplayIndexProgress, b: ReplayIndexProgress) => a.state === b.state && a.eventsRead === b.eventsRead && a.eventsTotal === b.eventsTotal;

/**
 * Who watches which run's replay index (`replay.progress`), keyed as ReplayService keys its
 * runs. The service reports at slice boundaries only; this drops repeats and holds `indexing`
 * figures to one per `everyMs` per watcher, so a 1M-event index sends ~70 messages, not thousands.
 */
export class ReplayProgressFeed {
  private readonly watchers = new Map<string, Set<Watcher>>();

  constructor(private readonly everyMs = REPLAY_PROGRESS_EVERY_MS) {}

  /** Sends `current` at once, then what `report` passes on for `key`, until the returned function is called. */
  watch(key: string, current: ReplayIndexProgress, send: (progress: ReplayIndexProgress) => void): () => void {
    const watcher: Watcher = { send, sent: current, sentAt: performance.now() };
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(watcher);
    send(current);
    return () => {
      set.delete(watcher);
      if (set.size === 0 && this.watchers.get(key) === set) this.watchers.delete(key);
    };
  }

  /** Whether anyone watches `key` (the service builds no figures for nobody). */
  watched(key: string): boolean {
    return this.watchers.has(key);
  }

  report(key: string, progress: ReplayIndexProgress): void {
    const set = this.watchers.get(key);
    if (!set) return;
    const now = performance.now();
    for (const watcher of [...set]) {
      if (same(watcher.sent, progress)) continue;
      if (progress.state === 'indexing' && watcher.sent.state === 'indexing' && now - watcher.sentAt < this.everyMs) continue;
      watcher.sent = progress;
      watcher.sentAt = now;
      watcher.send(progress);
    }
  }

  close(): void {
    this.watchers.clear();
  }
}
