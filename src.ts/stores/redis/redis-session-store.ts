import { GatewayError } from '../../errors/index.js';
import type { SessionStore } from '../session-store.js';
import { RedisConnection } from './redis-connection.js';
import { SESSION_DELETE, SESSION_SET, SESSION_SIZE } from './redis-script.js';
import { jsonValueCodec, type ValueCodec } from './value-codec.js';
import { checkNamespace, checkPrefix, DEFAULT_PREFIX, KEY_FORMAT_VERSION } from './redis-keys.js';

/** Options for {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions<V> {
  /** A shared connection (retained by the store, released on `close()`), or a URL for a connection of the store's own. One of the two is required. */
  connection?: RedisConnection;
  /** `redis://...`: the store opens (and closes) its own connection. */
  url?: string;
  /** What the store holds, e.g. `responses` or `sessions`: `[A-Za-z0-9_-]{1,64}`. Required. */
  namespace: string;
  /** First part of every key: `[A-Za-z0-9_.-]{1,64}`. Default: `zgw`. */
  prefix?: string;
  /** Default time to live, ms (positive; Infinity: never expires). Default: 1800000 (30 min). */
  ttlMs?: number;
  /** How values are turned into strings and back. Default: JSON that keeps bigints ({@link jsonValueCodec}). */
  codec?: ValueCodec<V>;
}

const DEFAULT_TTL_MS = 30 * 60 * 1000;

/**
 * A {@link SessionStore} in Redis, shared by every gateway instance that uses the same Redis,
 * prefix and namespace. A value lives under `<prefix>:v1:<namespace>:<key>`, as its codec's text
 * (JSON by default: `undefined` properties are not kept, bigints are), with its TTL kept by Redis
 * (`SET ... PX`). `size()` never scans keys: each namespace has an index, a sorted set
 * `<prefix>:v1:<namespace>#index` of keys scored by expiry time, maintained by the same atomic
 * scripts that set and delete values; expired members are dropped from it on every `set` and
 * `size()`, so the count is exact under TTL expiry (it counts a value evicted by Redis' `maxmemory`
 * policy until its TTL would have ended).
 *
 * Every operation rejects with GatewayError('store_unavailable') when Redis cannot be reached or
 * does not answer within the connection's command timeout (it never waits for a reconnection);
 * `get` rejects with GatewayError('internal_error') for a value its codec cannot read. Throws
 * GatewayError('invalid_config') for invalid options. Needs a standalone Redis 6.2 or later.
 */
export class RedisSessionStore<V> implements SessionStore<V> {
  readonly kind = 'redis';
  readonly connection: RedisConnection;
  readonly #base: string;
  readonly #index: string;
  readonly #ttlMs: number;
  readonly #codec: ValueCodec<V>;
  #closed = false;

  constructor(options: RedisSessionStoreOptions<V>) {
    const namespace = checkNamespace(options.namespace);
    const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    if (!isValidTtl(ttlMs)) throw new GatewayError('invalid_config', `ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`, { param: 'ttlMs' });
    if ((options.connection === undefined) === (options.url === undefined)) {
      throw new GatewayError('invalid_config', 'Give a RedisSessionStore either a connection or a url', { param: 'url' });
    }
    this.connection = options.connection ? options.connection.retain() : new RedisConnection({ url: options.url as string }).retain();
    this.#base = `${prefix}:${KEY_FORMAT_VERSION}:${namespace}:`;
    this.#index = `${prefix}:${KEY_FORMAT_VERSION}:${namespace}#index`;
    this.#ttlMs = ttlMs;
    this.#codec = options.codec ?? jsonValueCodec<V>();
  }

  /** The Redis key a session key is stored under. */
  redisKey(key: string): string {
    return this.#base + key;
  }

  async get(key: string): Promise<V | undefined> {
    const text = await this.connection.run('GET', (client) => client.get(this.#base + key));
    if (text === null) return undefined;
    try {
      return this.#codec.decode(text);
    } catch (error) {
      throw new GatewayError('internal_error', `The value stored under ${this.#base}${key} cannot be read`, { cause: error });
    }
  }

  async set(key: string, value: V, ttlMs?: number): Promise<void> {
    const lifetime = ttlMs ?? this.#ttlMs;
    if (!isValidTtl(lifetime)) throw new GatewayError('internal_error', `Session TTL must be a positive number of milliseconds, got ${String(lifetime)}`);
    const text = this.#codec.encode(value);
    const ttl = lifetime === Number.POSITIVE_INFINITY ? '0' : String(Math.ceil(lifetime));
    await this.connection.run('SET', (client) => SESSION_SET.run(client, [this.#base + key, this.#index], [text, ttl, key]));
  }

  async delete(key: string): Promise<boolean> {
    const deleted = await this.connection.run('DEL', (client) => SESSION_DELETE.run(client, [this.#base + key, this.#index], [key]));
    return Number(deleted) > 0;
  }

  async size(): Promise<number> {
    return Number(await this.connection.run('ZCARD', (client) => SESSION_SIZE.run(client, [this.#index], [])));
  }

  /** Rejects unless Redis answers. */
  ping(): Promise<void> {
    return this.connection.ping();
  }

  /** Lets go of the connection (it quits when no other store uses it). Idempotent; the data stays in Redis. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.connection.release();
  }
}

function isValidTtl(ttlMs: number): boolean {
  return typeof ttlMs === 'number' && ttlMs > 0 && !Number.isNaN(ttlMs);
}
