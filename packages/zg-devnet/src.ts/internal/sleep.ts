/** Resolves after `ms`, or at once when `signal` aborts (never rejects). @internal */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A day: "forever" for a stalled answer, which ends when its signal aborts. @internal */
export const FOREVER_MS = 24 * 3600 * 1000;
