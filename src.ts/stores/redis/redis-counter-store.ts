import { GatewayError } from '../../errors/index.js';
import { TOTAL_WINDOW, checkCounterArguments, windowIndex, type CounterStore, type WindowSnapshot } from '../counter-store.js';
import { RedisConnection } from './redis-connection.js';
import { checkPrefix, DEFAULT_PREFIX, KEY_FORMAT_VERSION } from './redis-keys.js';
import { COUNTER_ADD, COUNTER_ADD_AND_READ } from './redis-script.js';

/** Options for {@link RedisCounterStore}. */
export interface RedisCounterStoreOptions {
  /** A shared connection (retained, released on `close()`), or a URL for one of the store's own. One of the two is required. */
  connection?: RedisConnection;
  /** `redis://...`: the store opens (and closes) its own connection. */
  url?: string;
  /** First part of every key: `[A-Za-z0-9_.-]{1,64}`. Default: `zgw`. */
  prefix?: string;
  /** Clock in epoch ms that windows are placed with (every instance should keep time with NTP). Default: `Date.now`. */
  now?: () => number;
  /** Kept beyond a window's end (when it stops being the previous window) before Redis drops it, ms: room for clocks that differ between instances. Default: 5000. */
  expiryMarginMs?: number;
}

/**
 * A {@link CounterStore} in Redis, shared by every gateway instance on the same Redis and prefix:
 * what makes a client key's `rpm`, `tpm` and budget hold across instances. The semantics are the
 * memory store's: fixed windows numbered `floor(t / windowMs)` by this store's clock, a window
 * older than the previous one reads 0n and is never written, a window that returns to 0n is
 * deleted, {@link TOTAL_WINDOW} counters never expire. Each window is one key,
 * `<prefix>:v1:counter:<windowMs|total>:<window number>:<counter>`, holding a decimal integer of any
 * size; changes run in Lua scripts, so each is atomic (and exact beyond 64 bits, where INCRBY
 * would stop). A window's key expires (`PX`) `expiryMarginMs` after the window stops being the
 * previous one. `snapshot` is one round trip (a script, or MGET when it only reads).
 *
 * Operations reject with GatewayError('store_unavailable') when Redis cannot be reached or is
 * slower than the connection's command timeout, and with GatewayError('internal_error') for
 * invalid arguments (before anything is sent). Throws GatewayError('invalid_config') for invalid options.
 */
export class RedisCounterStore implements CounterStore {
  readonly kind = 'redis';
  readonly connection: RedisConnection;
  readonly #base: string;
  readonly #now: () => number;
  readonly #marginMs: number;
  #closed = false;

  constructor(options: RedisCounterStoreOptions) {
    const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    const margin = options.expiryMarginMs ?? 5000;
    if (!Number.isSafeInteger(margin) || margin < 0) {
      throw new GatewayError('invalid_config', `expiryMarginMs must be a non-negative integer, got ${String(margin)}`, { param: 'expiryMarginMs' });
    }
    if ((options.connection === undefined) === (options.url === undefined)) {
      throw new GatewayError('invalid_config', 'Give a RedisCounterStore either a connection or a url', { param: 'url' });
    }
    this.connection = options.connection ? options.connection.retain() : new RedisConnection({ url: options.url as string }).retain();
    this.#base = `${prefix}:${KEY_FORMAT_VERSION}:counter:`;
    this.#now = options.now ?? Date.now;
    this.#marginMs = margin;
  }

  async increment(key: string, amount: number | bigint, windowMs: number, at?: number): Promise<bigint> {
    const delta = checkCounterArguments(key, windowMs, amount, at);
    const now = this.#now();
    const index = windowIndex(at ?? now, windowMs);
    if (index < windowIndex(now, windowMs) - 1) return 0n;
    const total = await this.connection.run('INCRBY', (client) => COUNTER_ADD.run(client, [this.#key(key, windowMs, index)], [delta.toString(), this.#ttl(windowMs, index, now)]));
    return BigInt(String(total));
  }

  async decrement(key: string, amount: number | bigint, windowMs: number, at?: number): Promise<bigint> {
    const delta = checkCounterArguments(key, windowMs, amount, at);
    return this.increment(key, -delta, windowMs, at);
  }

  async read(key: string, windowMs: number, at?: number): Promise<bigint> {
    checkCounterArguments(key, windowMs, 0n, at);
    const now = this.#now();
    const index = windowIndex(at ?? now, windowMs);
    if (index < windowIndex(now, windowMs) - 1) return 0n;
    const value = await this.connection.run('GET', (client) => client.get(this.#key(key, windowMs, index)));
    return BigInt(value ?? '0');
  }

  async snapshot(key: string, windowMs: number, amount: number | bigint = 0n): Promise<WindowSnapshot> {
    const delta = checkCounterArguments(key, windowMs, amount);
    const now = this.#now();
    const index = windowIndex(now, windowMs);
    const keys = windowMs === TOTAL_WINDOW ? [this.#key(key, windowMs, index)] : [this.#key(key, windowMs, index), this.#key(key, windowMs, index - 1)];
    const values =
      delta === 0n
        ? await this.connection.run('MGET', (client) => client.mget(...keys))
        : await this.connection.run('INCRBY', (client) => COUNTER_ADD_AND_READ.run(client, keys, [delta.toString(), this.#ttl(windowMs, index, now)]));
    if (!Array.isArray(values)) throw new GatewayError('internal_error', 'Redis answered a counter snapshot with something other than a list');
    const [current, previous] = values as Array<string | null | undefined>;
    return {
      current: BigInt(current ?? '0'),
      previous: windowMs === TOTAL_WINDOW ? 0n : BigInt(previous ?? '0'),
      windowStart: windowMs === TOTAL_WINDOW ? 0 : index * windowMs,
      now,
    };
  }

  /** Rejects unless Redis answers. */
  ping(): Promise<void> {
    return this.connection.ping();
  }

  /** Lets go of the connection (it quits when no other store uses it). Idempotent; the counters stay in Redis. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.connection.release();
  }

  #key(key: string, windowMs: number, index: number): string {
    return `${this.#base}${windowMs === TOTAL_WINDOW ? 'total' : windowMs}:${index}:${key}`;
  }

  /** How long Redis keeps the window, ms ('0': a total, kept): until it stops being the previous window, plus the margin. */
  #ttl(windowMs: number, index: number, now: number): string {
    if (windowMs === TOTAL_WINDOW) return '0';
    return String(Math.max(1, (index + 2) * windowMs - now + this.#marginMs));
  }
}
