/** Waits `ms`, or less if `signal` aborts first (never rejects: cancellation is checked by the caller). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A promise that never settles: how a hung agent "answers". */
export const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
