/** Runs `run` when the page is idle; returns a function that cancels it if it has not run. */
export type WhenIdle = (run: () => void) => () => void;

/**
 * The browser's idle callback, run at the latest after `timeoutMs` (a busy page still gets it);
 * a short timer where there is none (jsdom in tests, older engines).
 */
export function whenIdle(run: () => void, timeoutMs = 1_000): () => void {
  if (typeof requestIdleCallback === 'function') {
    const id = requestIdleCallback(() => run(), { timeout: timeoutMs });
    return () => cancelIdleCallback(id);
  }
  const timer = setTimeout(run, 50);
  return () => clearTimeout(timer);
}
