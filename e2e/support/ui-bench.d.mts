import type { Browser, Page } from '@playwright/test';
import type { KeelClient } from '@keel/core/contract';

export declare const TARGETS: { firstRenderMs: number; longestTaskMs: number; reopenStreamMs: number };

export interface MainThreadFigures {
  /** Longest top-level task of the renderer's main thread (Chromium trace), ms. */
  longestTaskMs: number;
  tasks: number;
  tasksOver50Ms: number;
  /** What the page's own PerformanceObserver('longtask') saw (only tasks over 50 ms). */
  longTasksObserved: number;
  longestLongTaskObservedMs: number;
  longTaskObserverSupported: boolean;
  longestFrameMs: number;
  frames: number;
  windowMs: number;
}

export interface ScrollStop {
  where: string;
  first: number;
  last: number;
  of: number;
}

export interface UiBenchResult {
  generated: { runId: string; items?: number };
  /** First open after the server started: the host folds the run cold. */
  open: { domMs: number; firstRenderMs: number; mainThread: MainThreadFigures };
  /** The same run opened again later: the host's folded view is warm. */
  reopen: { domMs: number; firstRenderMs: number; mainThread: MainThreadFigures };
  reopenStream: { domMs: number; firstRenderMs: number };
  scroll: { stops: ScrollStop[]; mainThread: MainThreadFigures };
  streaming: { runId: string; chunks: number; seconds: number | null; perSecond: number | null; mainThread: MainThreadFigures };
}

export declare function writeStreamingScript(dir: string, options?: { chunks?: number; burst?: number; pauseMs?: number }): string;
export declare function recordMainThread(browser: Browser, page: Page, label?: string): Promise<() => Promise<MainThreadFigures>>;
export declare function measureOpen(page: Page, runId: string): Promise<{ domMs: number; firstRenderMs: number }>;
export declare function scrollThrough(page: Page, options?: { wheelSteps?: number; stepPx?: number }): Promise<ScrollStop[]>;
export declare function streamRate(dataDir: string, runId: string): { chunks: number; perSecond: number | null; seconds: number | null };
export declare function runUiBench(options: {
  browser: Browser;
  page: Page;
  keel: { url: string; dataDir: string };
  client: KeelClient;
  generatedRunId: string;
  /** Where the streaming run's script and workspace go (default: the system temp dir). */
  scratchDir?: string;
  log?: (line: string) => void;
}): Promise<UiBenchResult>;
export declare function summaryLines(result: UiBenchResult): string[];
