import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors/index.js';
import type { SessionStore } from './session-store.js';

/** Options for {@link LruSessionStore}. */
export interface LruSessionStoreOptions<V = unknown> {
  /** Most entries kept; beyond it the least recently used entry is evicted. A positive integer. Default: 10000. */
  maxEntries?: number;
  /** Default time to live of an entry, in ms, from when it is set. A positive number (Infinity: never expires). Default: 1800000 (30 min). */
  ttlMs?: number;
  /** Clock in milliseconds that expiry is measured with. Default: `Date.now`. */
  now?: () => number;
  /**
   * Most bytes kept, as `sizeOf` counts them; beyond it the least recently used entries are evicted
   * (and a single entry larger than this is not kept). Default: no byte bound (only `maxEntries`).
   */
  maxBytes?: number;
  /** The size of one value, bytes (a positive integer), for `maxBytes`. Default: 1 per entry. */
  sizeOf?: (value: V) => number;
}

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_TTL_MS = 30 * 60 * 1000;

/** A stored value with the clock time at which it stops being returned. */
interface ExpiringEntry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * An in-memory {@link SessionStore}, bounded in size (least recently used entries are
 * evicted first; `get` counts as a use) and in time (an entry expires `ttlMs` after it was
 * set; reading it does not extend that). Expired entries are never returned; they are
 * dropped when next touched, and by `size()`.
 *
 * The expiry time is kept with each value and checked against the injected clock, rather
 * than delegated to lru-cache's TTL, so that a fake clock governs expiry completely.
 *
 * Throws GatewayError('invalid_config') for invalid options; `set` rejects with
 * GatewayError('internal_error') for a `ttlMs` that is not a positive number.
 * `close()` empties the store; it remains usable afterwards.
 */
export class LruSessionStore<V> implements SessionStore<V> {
  readonly kind = 'lru';
  readonly #cache: LRUCache<string, ExpiringEntry<V>>;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: LruSessionStoreOptions<V> = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new GatewayError('invalid_config', `maxEntries must be a positive integer, got ${String(maxEntries)}`, { param: 'maxEntries' });
    }
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    if (!isValidTtl(ttlMs)) {
      throw new GatewayError('invalid_config', `ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`, { param: 'ttlMs' });
    }
    const { maxBytes, sizeOf } = options;
    if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
      throw new GatewayError('invalid_config', `maxBytes must be a positive integer, got ${String(maxBytes)}`, { param: 'maxBytes' });
    }
    this.#cache = new LRUCache<string, ExpiringEntry<V>>(
      maxBytes === undefined ? { max: maxEntries } : { max: maxEntries, maxSize: maxBytes, sizeCalculation: (entry) => Math.max(1, Math.ceil(sizeOf?.(entry.value) ?? 1)) },
    );
    this.#ttlMs = ttlMs;
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<V | undefined> {
    const entry = this.#cache.get(key);
    if (entry === undefined) return undefined;
    if (this.#isExpired(entry)) {
      this.#cache.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async set(key: string, value: V, ttlMs?: number): Promise<void> {
    const lifetime = ttlMs ?? this.#ttlMs;
    if (!isValidTtl(lifetime)) {
      throw new GatewayError('internal_error', `Session TTL must be a positive number of milliseconds, got ${String(lifetime)}`);
    }
    this.#cache.set(key, { value, expiresAt: this.#now() + lifetime });
  }

  async delete(key: string): Promise<boolean> {
    const entry = this.#cache.peek(key);
    if (entry === undefined) return false;
    this.#cache.delete(key);
    return !this.#isExpired(entry);
  }

  async size(): Promise<number> {
    const expired: string[] = [];
    for (const [key, entry] of this.#cache.entries()) {
      if (this.#isExpired(entry)) expired.push(key);
    }
    for (const key of expired) this.#cache.delete(key);
    return this.#cache.size;
  }

  async close(): Promise<void> {
    this.#cache.clear();
  }

  #isExpired(entry: ExpiringEntry<V>): boolean {
    return this.#now() >= entry.expiresAt;
  }
}

function isValidTtl(ttlMs: number): boolean {
  return typeof ttlMs === 'number' && ttlMs > 0 && !Number.isNaN(ttlMs);
}
