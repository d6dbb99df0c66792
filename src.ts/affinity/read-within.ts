import type { SharedPrefixStore } from '../stores/shared-prefix-store.js';

/** `read`, or undefined if it has not answered within `timeoutMs` (the answer is then ignored). */
export async function readWithin(store: SharedPrefixStore, keys: readonly string[], timeoutMs: number): Promise<{ values: ReadonlyArray<string | undefined> | undefined; timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const result = await Promise.race([store.read(keys), timeout]);
    return result === 'timeout' ? { values: undefined, timedOut: true } : { values: result, timedOut: false };
  } finally {
    clearTimeout(timer);
  }
}
