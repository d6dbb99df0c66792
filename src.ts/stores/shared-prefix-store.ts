import type { FleetLoadStore } from './fleet-load-store.js';

/**
 * A compact form of the prefix index shared by gateway instances (block key → the provider that
 * last served it, with a TTL), e.g. in Redis. Implementations never throw: a store that cannot be
 * reached reads as empty and drops writes (affinity then uses the local index only).
 */
export interface SharedPrefixStore {
  /** False while the store cannot be used (then it is not asked: no wait at all). */
  readonly available: boolean;
  /** The provider recorded for each key (same order; undefined where none), or undefined when the store failed. One round trip. */
  read(keys: readonly string[]): Promise<ReadonlyArray<string | undefined> | undefined>;
  /** Records `provider` for each key for `ttlMs`, in one pipelined round trip, not awaited by anyone; failures are dropped. */
  write(keys: readonly string[], provider: string, ttlMs: number): void;
  /** Bytes sent and received so far (keys, values, protocol overhead estimated), and round trips. */
  readonly traffic: { readonly roundTrips: number; readonly bytesOut: number; readonly bytesIn: number; readonly failures: number };
  /** Where instances share their per-provider in-flight counts, when the store can (see `FleetLoad`). */
  readonly fleetLoad?: FleetLoadStore | undefined;
  close(): Promise<void>;
}
