import type { Logger } from 'pino';
import { GatewayError } from '../../errors/index.js';
import { LruSessionStore } from '../lru-session-store.js';
import type { SessionStore } from '../session-store.js';
import { OutageTracker } from './outage-tracker.js';

/** Options for {@link FailSoftSessionStore}. */
export interface FailSoftSessionStoreOptions<V> {
  /** The shared store (Redis) this one stands in front of. Required. */
  primary: SessionStore<V>;
  /** Names the store in log lines, e.g. `responses`. Required. */
  name: string;
  /** Where the one line per outage (start, end) goes. Required. */
  logger: Logger;
  /**
   * A read that the primary cannot answer and the local copy does not hold: `reject` rejects with
   * GatewayError('store_unavailable') (`/v1/verify` answers 503), `miss` reads as absent (a session
   * pin: the request is placed afresh). Required.
   */
  whenUnreadable: 'reject' | 'miss';
  /** Most entries kept locally during an outage (LRU). Default: 10000. */
  maxLocalEntries?: number;
  /** Default TTL, ms: the primary's. Default: 1800000 (30 min). */
  ttlMs?: number;
  /** Most writes waiting to be caught up; beyond it the oldest is dropped from the queue (it stays readable here). Default: 10000. */
  maxPending?: number;
  /** How often the primary is tried again during an outage, ms. Default: 1000. */
  retryIntervalMs?: number;
  /** Asks the primary whether it is back when there is nothing to catch up. Default: `primary.size()`. */
  probe?: () => Promise<unknown>;
  /** Clock, ms. Default: `Date.now`. */
  now?: () => number;
}

type PendingWrite<V> = { readonly kind: 'set'; readonly value: V; readonly expiresAt: number } | { readonly kind: 'delete' };

/**
 * A {@link SessionStore} that keeps serving when its shared primary (Redis) does not: while the
 * primary fails, writes go to a local LRU and into a bounded catch-up queue, and reads are answered
 * from the local copy (or, per `whenUnreadable`, rejected or missed). The outage is logged once
 * when it starts and once when it ends; requests never wait for the primary while it is down. Every
 * `retryIntervalMs` the queued writes are replayed to the primary, oldest first, with the TTL they
 * have left (expired ones are skipped), each leaving the local copy once written; when all went
 * through, the outage is over. When the queue is full the oldest queued write is dropped (counted in the
 * recovery line): that entry stays readable on this instance only, until it expires.
 *
 * While up, a read the primary misses is also looked up locally (writes of an outage that are not
 * caught up yet). `size()` counts the primary's entries while up, the local ones while down.
 */
export class FailSoftSessionStore<V> implements SessionStore<V> {
  readonly kind: string;
  readonly #primary: SessionStore<V>;
  readonly #local: LruSessionStore<V>;
  readonly #pending = new Map<string, PendingWrite<V>>();
  readonly #tracker: OutageTracker;
  readonly #whenUnreadable: 'reject' | 'miss';
  readonly #maxPending: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #probe: () => Promise<unknown>;
  #holdsLocal = false;
  #dropped = 0;

  constructor(options: FailSoftSessionStoreOptions<V>) {
    this.#primary = options.primary;
    this.kind = `${options.primary.kind}+local`;
    this.#whenUnreadable = options.whenUnreadable;
    this.#ttlMs = options.ttlMs ?? 30 * 60 * 1000;
    this.#now = options.now ?? Date.now;
    this.#maxPending = options.maxPending ?? 10_000;
    if (!Number.isSafeInteger(this.#maxPending) || this.#maxPending < 0) {
      throw new GatewayError('invalid_config', `maxPending must be a non-negative integer, got ${String(this.#maxPending)}`, { param: 'maxPending' });
    }
    this.#local = new LruSessionStore<V>({ maxEntries: options.maxLocalEntries ?? 10_000, ttlMs: this.#ttlMs, now: this.#now });
    this.#probe = options.probe ?? (() => this.#primary.size());
    this.#tracker = new OutageTracker({
      name: options.name,
      logger: options.logger,
      retryIntervalMs: options.retryIntervalMs ?? 1000,
      recover: () => this.#catchUp(),
      onUp: () => this.#afterUp(),
    });
  }

  /** True while the primary is considered unreachable. */
  get degraded(): boolean {
    return this.#tracker.down;
  }

  /** Writes waiting to be caught up. */
  get pendingWrites(): number {
    return this.#pending.size;
  }

  async get(key: string): Promise<V | undefined> {
    let failure: unknown;
    if (!this.#tracker.down) {
      try {
        const value = await this.#primary.get(key);
        if (value !== undefined || !this.#holdsLocal) return value;
        return await this.#local.get(key);
      } catch (error) {
        failure = error;
        this.#tracker.fail(error);
      }
    }
    const local = this.#holdsLocal ? await this.#local.get(key) : undefined;
    if (local !== undefined || this.#whenUnreadable === 'miss') return local;
    throw GatewayError.isInstance(failure) && failure.code === 'store_unavailable'
      ? failure
      : new GatewayError('store_unavailable', `The ${this.kind} store is unreachable and ${key} is not known locally`, { retryable: true, retryAfterMs: 1000, cause: failure });
  }

  async set(key: string, value: V, ttlMs?: number): Promise<void> {
    const lifetime = ttlMs ?? this.#ttlMs;
    if (!(typeof lifetime === 'number' && lifetime > 0)) {
      throw new GatewayError('internal_error', `Session TTL must be a positive number of milliseconds, got ${String(lifetime)}`);
    }
    if (!this.#tracker.down) {
      try {
        return await this.#primary.set(key, value, lifetime);
      } catch (error) {
        this.#tracker.fail(error);
      }
    }
    await this.#local.set(key, value, lifetime);
    this.#holdsLocal = true;
    this.#queue(key, { kind: 'set', value, expiresAt: this.#now() + lifetime });
  }

  async delete(key: string): Promise<boolean> {
    const local = this.#holdsLocal ? await this.#local.delete(key) : false;
    if (!this.#tracker.down) {
      try {
        return (await this.#primary.delete(key)) || local;
      } catch (error) {
        this.#tracker.fail(error);
      }
    }
    this.#queue(key, { kind: 'delete' });
    return local;
  }

  async size(): Promise<number> {
    if (!this.#tracker.down) {
      try {
        return await this.#primary.size();
      } catch (error) {
        this.#tracker.fail(error);
      }
    }
    return this.#local.size();
  }

  /** Starts an outage now (e.g. the primary was not reachable at start): logged once, retried as any outage. */
  assumeUnavailable(reason: unknown): void {
    this.#tracker.fail(reason);
  }

  /** Tries to reach the primary and catch up now, rather than at the next retry tick. */
  recoverNow(): Promise<void> {
    return this.#tracker.tryRecover();
  }

  /** Stops retrying and closes the primary; writes still queued are lost (logged with their count). */
  async close(): Promise<void> {
    this.#tracker.close(this.#pending.size);
    this.#pending.clear();
    await Promise.allSettled([this.#primary.close(), this.#local.close()]);
  }

  #queue(key: string, write: PendingWrite<V>): void {
    this.#pending.delete(key);
    this.#pending.set(key, write);
    while (this.#pending.size > this.#maxPending) {
      const oldest = this.#pending.keys().next().value as string;
      this.#pending.delete(oldest);
      this.#dropped += 1;
    }
  }

  /** Replays queued writes, oldest first; rejects (still down) at the first one the primary refuses. */
  async #catchUp(): Promise<{ caughtUp: number; dropped: number }> {
    if (this.#pending.size === 0) await this.#probe();
    let caughtUp = 0;
    for (let next = this.#pending.entries().next(); !next.done; next = this.#pending.entries().next()) {
      const [key, write] = next.value;
      if (write.kind === 'delete') await this.#primary.delete(key);
      else {
        const left = write.expiresAt - this.#now();
        if (left > 0) await this.#primary.set(key, write.value, left);
      }
      // A newer write of the same key meanwhile stays queued (moved to the end).
      if (this.#pending.get(key) === write) {
        this.#pending.delete(key);
        await this.#local.delete(key);
      }
      caughtUp += 1;
    }
    // What is left locally was dropped from the queue: readable here until it expires.
    this.#holdsLocal = (await this.#local.size()) > 0;
    const dropped = this.#dropped;
    this.#dropped = 0;
    return { caughtUp, dropped };
  }

  /** Writes queued in the instant between the last replay and the end of the outage: sent now. */
  #afterUp(): void {
    if (this.#pending.size === 0) return;
    const leftovers = [...this.#pending.entries()];
    this.#pending.clear();
    for (const [key, write] of leftovers) {
      const done = write.kind === 'delete' ? this.#primary.delete(key) : this.#primary.set(key, write.value, Math.max(1, write.expiresAt - this.#now()));
      done.catch((error: unknown) => {
        this.#queue(key, write);
        if (write.kind === 'set' && write.expiresAt > this.#now()) {
          this.#holdsLocal = true;
          void this.#local.set(key, write.value, write.expiresAt - this.#now());
        }
        this.#tracker.fail(error);
      });
    }
  }
}
