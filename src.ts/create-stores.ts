import type { Logger } from 'pino';
import type { GatewayConfig, GatewayDependencies } from './config/index.js';
import type { CounterStore } from './stores/counter-store.js';
import { MemoryCounterStore } from './stores/memory-counter-store.js';
import { FailSoftCounterStore } from './stores/fail-soft/fail-soft-counter-store.js';
import { FailSoftSessionStore } from './stores/fail-soft/fail-soft-session-store.js';
import { LruSessionStore } from './stores/lru-session-store.js';
import { RedisConnection } from './stores/redis/redis-connection.js';
import { RedisCounterStore } from './stores/redis/redis-counter-store.js';
import { RedisKeyDirectory } from './keys/redis-key-directory.js';
import { RedisSessionStore } from './stores/redis/redis-session-store.js';
import { RedisPrefixStore } from './stores/redis/redis-prefix-store.js';
import type { SharedPrefixStore } from './stores/shared-prefix-store.js';
import { responseRecordBytes, type ResponseRecord, type SessionStore } from './stores/session-store.js';

/** The state stores of one gateway, built from the `store` option (or taken from the dependencies). */
export interface GatewayStores {
  /** `memory` or `redis`. */
  readonly kind: 'memory' | 'redis';
  /** Response records (for `/v1/verify`); closed by `Gateway.close()`. */
  readonly responses: SessionStore<ResponseRecord>;
  /** Session pins; closed by `Gateway.close()`. */
  readonly sessions: SessionStore<string>;
  /** The client-key counter store, built on first call (only a gateway with client keys needs one); closed by `ClientKeys.close()`. */
  counters(): CounterStore;
  /**
   * Waits up to `timeoutMs` for Redis (at once for memory stores). When it is not reachable, the
   * stores start in their outage mode (logged once) rather than failing the first requests.
   */
  ready(timeoutMs: number): Promise<boolean>;
  /** With a Redis store: the client keys kept in Redis (`zg-gateway keys create`), on the shared connection, built on first call. Undefined for memory stores. */
  keyDirectory(): RedisKeyDirectory | undefined;
  /** With a Redis store: the shared prefix index of cache-aware routing, on the shared connection, built on first call (closed by `Gateway.close()`). Undefined for memory stores. */
  prefixes(): SharedPrefixStore | undefined;
  /** Lets go of the shared Redis connection (it quits once the stores are closed too). Idempotent. */
  close(): Promise<void>;
}

/**
 * Most bytes the in-memory response store keeps (records count about 1 KiB each, plus their Responses
 * conversation): the least recently used go first past it, so conversations cannot grow memory without
 * bound (10,000 entries of 256 KiB would be 2.5 GiB).
 */
export const MAX_RESPONSE_STORE_BYTES = 256 * 1024 * 1024;

/**
 * Builds the stores of a gateway: in-process ones for `store: { type: 'memory' }`; for
 * `{ type: 'redis' }` Redis stores on one shared connection, each behind a fail-soft wrapper
 * (records: a read it cannot answer rejects, so `/v1/verify` says 503; pins: such a read misses;
 * counters: fail open to local counting). Stores given in `dependencies` are used as they are.
 */
export function createStores(config: GatewayConfig, dependencies: GatewayDependencies, logger: Logger): GatewayStores {
  const now = dependencies.now ?? Date.now;
  const local = { maxEntries: config.sessionCacheSize, ttlMs: config.sessionTimeout, now };
  const store = config.store;
  if (store.type === 'memory') {
    let counters = dependencies.counterStore;
    return {
      kind: 'memory',
      responses: dependencies.responseStore ?? new LruSessionStore<ResponseRecord>({ ...local, maxBytes: MAX_RESPONSE_STORE_BYTES, sizeOf: responseRecordBytes }),
      sessions: dependencies.sessionStore ?? new LruSessionStore<string>(local),
      counters: () => (counters ??= new MemoryCounterStore({ now })),
      ready: async () => true,
      keyDirectory: () => undefined,
      prefixes: () => undefined,
      close: async () => undefined,
    };
  }
  const connection = new RedisConnection({ url: store.url, commandTimeoutMs: store.commandTimeout }).retain();
  const redisLogger = logger.child({ redis: connection.url });
  const failSoft = { logger: redisLogger, maxPending: store.catchUpLimit, now, probe: () => connection.ping() };
  const wrapped: Array<{ assumeUnavailable(reason: unknown): void }> = [];
  const sessionStore = <V>(namespace: string, whenUnreadable: 'reject' | 'miss'): SessionStore<V> => {
    const wrapper = new FailSoftSessionStore<V>({
      ...failSoft,
      primary: new RedisSessionStore<V>({ connection, namespace, prefix: store.prefix, ttlMs: config.sessionTimeout }),
      name: namespace,
      whenUnreadable,
      maxLocalEntries: config.sessionCacheSize,
      ttlMs: config.sessionTimeout,
    });
    wrapped.push(wrapper);
    return wrapper;
  };
  const responses = dependencies.responseStore ?? sessionStore<ResponseRecord>('responses', 'reject');
  const sessions = dependencies.sessionStore ?? sessionStore<string>('sessions', 'miss');
  let counters = dependencies.counterStore;
  let keyDirectory: RedisKeyDirectory | undefined;
  let prefixes: RedisPrefixStore | undefined;
  let closed = false;
  return {
    kind: 'redis',
    responses,
    sessions,
    counters: () => {
      if (counters) return counters;
      const wrapper = new FailSoftCounterStore({ ...failSoft, primary: new RedisCounterStore({ connection, prefix: store.prefix, now }), name: 'counters' });
      wrapped.push(wrapper);
      counters = wrapper;
      return wrapper;
    },
    ready: async (timeoutMs) => {
      const ready = await connection.waitUntilReady(timeoutMs);
      if (!ready) {
        const reason = new Error(`Redis at ${connection.url} is not reachable${connection.lastError ? ` (${connection.lastError})` : ''}`);
        for (const wrapper of wrapped) wrapper.assumeUnavailable(reason);
      }
      return ready;
    },
    keyDirectory: () => (keyDirectory ??= new RedisKeyDirectory({ connection, prefix: store.prefix })),
    prefixes: () => (prefixes ??= new RedisPrefixStore({ connection, prefix: store.prefix })),
    close: async () => {
      if (closed) return;
      closed = true;
      await keyDirectory?.close();
      await connection.release();
    },
  };
}
