import type { SessionStore } from '../stores/index.js';

/** How the reads and writes of one store ended, counted since the gateway started. */
export interface StoreOperationCounts {
  /** `get` found an unexpired value. */
  hits: number;
  /** `get` found nothing (unknown or expired key). */
  misses: number;
  /** `get` threw (store unreachable...). */
  readErrors: number;
  /** `set` succeeded. */
  writes: number;
  /** `set` threw. */
  writeErrors: number;
}

/** Fresh zero counts. */
export function emptyStoreCounts(): StoreOperationCounts {
  return { hits: 0, misses: 0, readErrors: 0, writes: 0, writeErrors: 0 };
}

/**
 * The same store, counting how its `get`s and `set`s end into `counts` (plain numbers: nothing
 * is published per call; `/metrics` reads them when scraped). Other calls pass straight through.
 */
export function countStoreOperations<V>(store: SessionStore<V>, counts: StoreOperationCounts): SessionStore<V> {
  return {
    get kind() {
      return store.kind;
    },
    get: (key) =>
      store.get(key).then(
        (value) => {
          if (value === undefined) counts.misses += 1;
          else counts.hits += 1;
          return value;
        },
        (error: unknown) => {
          counts.readErrors += 1;
          throw error;
        },
      ),
    set: (key, value, ttlMs) =>
      store.set(key, value, ttlMs).then(
        () => {
          counts.writes += 1;
        },
        (error: unknown) => {
          counts.writeErrors += 1;
          throw error;
        },
      ),
    delete: (key) => store.delete(key),
    size: () => store.size(),
    close: () => store.close(),
  };
}
