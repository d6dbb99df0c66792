import type { Redis, RedisOptions } from 'ioredis';
import { GatewayError } from '../../errors/index.js';
import { packageRequire } from '../../internal/package-require.js';
import { ALL_SCRIPTS } from './redis-script.js';

/** Options for {@link RedisConnection}. */
export interface RedisConnectionOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. Required. */
  url: string;
  /** Longest wait for one command's reply, ms; then it rejects (a hung server never hangs a request). Default: 1000. */
  commandTimeoutMs?: number;
  /** Longest wait for a TCP connection, ms. Default: 2000. */
  connectTimeoutMs?: number;
  /** Longest pause between two reconnection attempts, ms (attempts back off 100, 200, ... up to it). Default: 1000. */
  reconnectMaxDelayMs?: number;
  /** Name shown by `CLIENT LIST`. Default: `zg-gateway`. */
  connectionName?: string;
}

const URL_PATTERN = /^rediss?:\/\//i;

/** `url` with any user name and password replaced by `***`: safe to log and to show in errors. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)[^@/]*@/i, '$1***@');
}

/** Removes anything that looks like credentials in a URL from a message. */
function redactMessage(message: string): string {
  return message.replace(/(\w+:\/\/)[^@\s/]*@/g, '$1***@');
}

/**
 * One ioredis connection, shared by the Redis stores of a gateway. Configured to fail fast, so a
 * Redis that is down or hung never holds a request: no offline queue (a command sent while
 * disconnected rejects at once), a `commandTimeoutMs` bound on each reply, commands in flight
 * rejected when the connection drops (never resent: a counter increment must not count twice).
 * It reconnects by itself, forever, backing off to `reconnectMaxDelayMs`.
 *
 * Reference counted: each store `retain()`s it and `release()`s it on close; the connection quits
 * when the last user lets go. Errors it rejects with are GatewayError('store_unavailable') whose
 * message carries the URL with its password redacted. ioredis is loaded only when a connection is
 * made, so a gateway on in-process stores never loads it.
 *
 * Throws GatewayError('invalid_config') for an invalid URL or option.
 */
export class RedisConnection {
  /** The URL, user and password redacted. */
  readonly url: string;
  readonly client: Redis;
  #users = 0;
  #closing: Promise<void> | undefined;
  #lastError: string | undefined;

  constructor(options: RedisConnectionOptions) {
    if (typeof options.url !== 'string' || !URL_PATTERN.test(options.url)) {
      throw new GatewayError('invalid_config', 'The Redis URL must start with redis:// or rediss://', { param: 'store.url' });
    }
    const commandTimeout = positive(options.commandTimeoutMs ?? 1000, 'commandTimeoutMs');
    const connectTimeout = positive(options.connectTimeoutMs ?? 2000, 'connectTimeoutMs');
    const maxDelay = positive(options.reconnectMaxDelayMs ?? 1000, 'reconnectMaxDelayMs');
    this.url = redactRedisUrl(options.url);
    const RedisClass = (packageRequire('ioredis') as { Redis: new (url: string, options: RedisOptions) => Redis }).Redis;
    this.client = new RedisClass(options.url, {
      enableOfflineQueue: false,
      commandTimeout,
      connectTimeout,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(attempt * 100, maxDelay),
      connectionName: options.connectionName ?? 'zg-gateway',
    });
    // Scripts first on every connection, so no EVALSHA of the stores misses them (a miss would fall
    // back to EVAL, which could run after a command issued later).
    this.client.on('ready', () => {
      for (const script of ALL_SCRIPTS) script.load(this.client).catch(() => undefined);
    });
    // Without a listener ioredis would print every failed reconnection attempt; the stores report outages.
    this.client.on('error', (error: unknown) => {
      this.#lastError = redactMessage(error instanceof Error ? error.message : String(error));
    });
  }

  /** True while commands can be sent. */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** The last connection error, credentials redacted (for diagnostics). */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Resolves true once connected (at once when it is), false after `timeoutMs` without a connection. */
  waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ready: boolean): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ready);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(this.ready), timeoutMs);
      timer.unref();
      this.client.on('ready', onReady);
    });
  }

  /** Runs `command` on the client; any failure rejects as GatewayError('store_unavailable'). */
  async run<T>(what: string, command: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await command(this.client);
    } catch (error) {
      throw this.unavailable(what, error);
    }
  }

  /** Rejects unless Redis answers a PING. */
  async ping(): Promise<void> {
    await this.run('PING', (client) => client.ping());
  }

  /** The error the stores reject with when Redis cannot be used. */
  unavailable(what: string, cause: unknown): GatewayError {
    const reason = redactMessage(cause instanceof Error ? cause.message : String(cause));
    return new GatewayError('store_unavailable', `Redis at ${this.url} did not complete ${what}: ${reason}`, { retryable: true, retryAfterMs: 1000, cause });
  }

  /** Counts one more user (a store); pair with {@link release}. */
  retain(): this {
    if (this.#closing) throw new GatewayError('internal_error', 'This Redis connection is closed');
    this.#users += 1;
    return this;
  }

  /** One user fewer; the connection quits when none is left. */
  async release(): Promise<void> {
    if (this.#users === 0) return;
    this.#users -= 1;
    if (this.#users === 0) await this.close();
  }

  /** Quits now (waiting up to 1 s for replies in flight), whoever still uses it. Idempotent. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      if (this.client.status === 'ready') {
        const quit = this.client.quit().then(() => undefined, () => undefined);
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
        await Promise.race([quit, timeout]);
      }
      if (this.client.status === 'end') return;
      const ended = new Promise<void>((resolve) => {
        this.client.once('end', resolve);
        setTimeout(resolve, 1000).unref();
      });
      this.client.disconnect(false);
      await ended;
    })());
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new GatewayError('invalid_config', `${name} must be a positive integer of ms, got ${String(value)}`, { param: name });
  }
  return value;
}
