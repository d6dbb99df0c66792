import type { SharedPrefixStore } from '../shared-prefix-store.js';
import { RedisConnection } from './redis-connection.js';
import { RedisFleetLoad } from './redis-fleet-load.js';
import { checkPrefix, DEFAULT_PREFIX, KEY_FORMAT_VERSION } from './redis-keys.js';

/** Options for {@link RedisPrefixStore}. */
export interface RedisPrefixStoreOptions {
  /** The gateway's shared connection (retained, released on `close()`). */
  connection: RedisConnection;
  /** First part of every key: `[A-Za-z0-9_.-]{1,64}`. Default: `zgw`. */
  prefix?: string;
}

/** RESP framing per key or value, estimated: `$<len>\r\n...\r\n`. */
const FRAME_BYTES = 8;

/**
 * The shared form of the prefix index in Redis: one string key per written block,
 * `<prefix>:v1:affinity:<block hash, base64>`, holding the id of the provider that last served
 * it, expiring with `PX`. A read is one `MGET`; a write is one pipeline of `SET ... PX` (one round
 * trip, not awaited). It never throws: while the connection is not ready it reads nothing (without
 * asking) and drops writes; a failed command counts in `traffic.failures`. Keys never collide with
 * the other stores' (`responses`, `sessions`, `counter` namespaces).
 */
export class RedisPrefixStore implements SharedPrefixStore {
  readonly #connection: RedisConnection;
  readonly #base: string;
  readonly traffic = { roundTrips: 0, bytesOut: 0, bytesIn: 0, failures: 0 };
  /** The per-provider in-flight exchange between instances (same connection, counted in `traffic`). */
  readonly fleetLoad: RedisFleetLoad;
  #closed = false;

  constructor(options: RedisPrefixStoreOptions) {
    const base = `${checkPrefix(options.prefix ?? DEFAULT_PREFIX)}:${KEY_FORMAT_VERSION}:`;
    this.#base = `${base}affinity:`;
    this.#connection = options.connection.retain();
    this.fleetLoad = new RedisFleetLoad(this.#connection, base, () => this.available, this.traffic);
  }

  get available(): boolean {
    return !this.#closed && this.#connection.ready;
  }

  async read(keys: readonly string[]): Promise<ReadonlyArray<string | undefined> | undefined> {
    if (!this.available || keys.length === 0) return undefined;
    const names = keys.map((key) => this.#base + key);
    this.traffic.roundTrips += 1;
    this.traffic.bytesOut += 16 + names.reduce((sum, name) => sum + name.length + FRAME_BYTES, 0);
    try {
      const values = await this.#connection.client.mget(...names);
      this.traffic.bytesIn += 8 + values.reduce((sum, value) => sum + (value === null ? 5 : value.length + FRAME_BYTES), 0);
      return values.map((value) => value ?? undefined);
    } catch {
      this.traffic.failures += 1;
      return undefined;
    }
  }

  write(keys: readonly string[], provider: string, ttlMs: number): void {
    if (!this.available || keys.length === 0) return;
    const pipeline = this.#connection.client.pipeline();
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    for (const key of keys) {
      const name = this.#base + key;
      pipeline.set(name, provider, 'PX', ttl);
      this.traffic.bytesOut += 24 + name.length + provider.length + ttl.length + 4 * FRAME_BYTES;
      this.traffic.bytesIn += 5;
    }
    this.traffic.roundTrips += 1;
    pipeline.exec().then(
      (results) => {
        if (results?.some(([error]) => error)) this.traffic.failures += 1;
      },
      () => void (this.traffic.failures += 1),
    );
  }

  /** Lets go of the connection (it quits when no other store uses it). Idempotent; the data stays in Redis until it expires. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#connection.release();
  }
}
