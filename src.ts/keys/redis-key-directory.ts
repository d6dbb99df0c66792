import { GatewayError } from '../errors/index.js';
import { parseApiKey, serializeApiKeyEntry, type ApiKeyEntry } from './index.js';
import { RedisConnection } from '../stores/redis/redis-connection.js';
import { checkPrefix, DEFAULT_PREFIX, KEY_FORMAT_VERSION } from '../stores/redis/redis-keys.js';

/** Options for {@link RedisKeyDirectory}. */
export interface RedisKeyDirectoryOptions {
  /** A shared connection (retained, released on `close()`), or a URL for a connection of its own. One of the two is required. */
  connection?: RedisConnection;
  /** `redis://...`: the directory opens (and closes) its own connection. */
  url?: string;
  /** First part of every key: `[A-Za-z0-9_.-]{1,64}`. Default: `zgw`. */
  prefix?: string;
}

/** A client key kept in Redis: its entry (hash and limits, never the key) and when it was made. */
export interface StoredApiKey {
  readonly entry: ApiKeyEntry;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** The stored entries, and the ids of fields that could not be read (skipped). */
export interface StoredApiKeys {
  readonly keys: StoredApiKey[];
  readonly unreadable: string[];
}

/**
 * Client keys kept in Redis, shared by every instance with the same Redis and prefix: a hash
 * `<prefix>:v1:keys` (field: the key's id; value: JSON of its entry, with `hash` and never the key,
 * and `createdAt`), and a counter `<prefix>:v1:keys#version` raised by every change, so gateways
 * find out cheaply whether to read the keys again. Rejects with GatewayError('store_unavailable')
 * when Redis cannot be used.
 */
export class RedisKeyDirectory {
  readonly connection: RedisConnection;
  readonly #hash: string;
  readonly #version: string;
  #closed = false;

  constructor(options: RedisKeyDirectoryOptions) {
    if ((options.connection === undefined) === (options.url === undefined)) {
      throw new GatewayError('invalid_config', 'Give a RedisKeyDirectory either a connection or a url', { param: 'url' });
    }
    const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.connection = options.connection ? options.connection.retain() : new RedisConnection({ url: options.url as string }).retain();
    this.#hash = `${prefix}:${KEY_FORMAT_VERSION}:keys`;
    this.#version = `${prefix}:${KEY_FORMAT_VERSION}:keys#version`;
  }

  /** Stores a new key. Rejects with GatewayError('invalid_request') when its id is taken. */
  async create(entry: ApiKeyEntry, createdAt: Date = new Date()): Promise<StoredApiKey> {
    const stored: StoredApiKey = { entry, createdAt: createdAt.toISOString() };
    const value = JSON.stringify({ ...serializeApiKeyEntry(entry), createdAt: stored.createdAt });
    const results = await this.connection.run('HSETNX', (client) => client.multi().hsetnx(this.#hash, entry.id, value).incr(this.#version).exec());
    const created = results?.[0]?.[1];
    if (created !== 1) throw new GatewayError('invalid_request', `A key with id "${entry.id}" already exists in the store`, { param: 'id' });
    return stored;
  }

  /** Removes the key with this id. True when it existed. */
  async revoke(id: string): Promise<boolean> {
    const results = await this.connection.run('HDEL', (client) => client.multi().hdel(this.#hash, id).incr(this.#version).exec());
    return results?.[0]?.[1] === 1;
  }

  /** The change counter: a different value means the keys changed. `'0'` before any change. */
  async version(): Promise<string> {
    return (await this.connection.run('GET', (client) => client.get(this.#version))) ?? '0';
  }

  /** Every stored key, oldest first; a field that does not hold a valid entry is skipped and named in `unreadable`. */
  async list(): Promise<StoredApiKeys> {
    const fields = await this.connection.run('HGETALL', (client) => client.hgetall(this.#hash));
    const keys: StoredApiKey[] = [];
    const unreadable: string[] = [];
    for (const [id, value] of Object.entries(fields)) {
      try {
        const { createdAt, ...entry } = JSON.parse(value) as Record<string, unknown>;
        keys.push({ entry: parseApiKey(entry, { param: `keys.${id}` }), createdAt: typeof createdAt === 'string' ? createdAt : '' });
      } catch {
        unreadable.push(id);
      }
    }
    keys.sort((left, right) => left.createdAt.localeCompare(right.createdAt) || left.entry.id.localeCompare(right.entry.id));
    return { keys, unreadable };
  }

  /** Lets go of the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.connection.release();
  }
}
