import type { Logger } from 'pino';
import { GatewayError } from '../../errors/index.js';
import { TOTAL_WINDOW, checkCounterArguments, windowIndex, type CounterStore, type WindowSnapshot } from '../counter-store.js';
import { MemoryCounterStore } from '../memory-counter-store.js';
import { OutageTracker } from './outage-tracker.js';

/** Options for {@link FailSoftCounterStore}. */
export interface FailSoftCounterStoreOptions {
  /** The shared store (Redis). Required. */
  primary: CounterStore;
  /** Where the one line per outage (start, end) goes. Required. */
  logger: Logger;
  /** Names the store in log lines. Default: `counters`. */
  name?: string;
  /** Most counter windows with changes waiting to be caught up; beyond it the oldest is dropped. Default: 10000. */
  maxPending?: number;
  /** How often the primary is tried again during an outage, ms. Default: 1000. */
  retryIntervalMs?: number;
  /** Asks the primary whether it is back when there is nothing to catch up. Default: a read of a counter. */
  probe?: () => Promise<unknown>;
  /** Clock, ms (the local store's and the queue's windows). Default: `Date.now`. */
  now?: () => number;
}

interface PendingChange {
  readonly key: string;
  readonly windowMs: number;
  readonly index: number;
  readonly delta: bigint;
}

/**
 * A {@link CounterStore} that fails **open to local counting** when its shared primary (Redis)
 * fails: during the outage each instance counts in its own {@link MemoryCounterStore}, so rpm, tpm
 * and budgets are still enforced, per instance, from zero (what was counted in Redis before the
 * outage is not seen; with N instances a key may get up to N times its limits meanwhile). Changes
 * made meanwhile are queued, summed per counter window (bounded by `maxPending` windows; beyond it
 * the oldest window's change is dropped and counted in the recovery line), and added to the primary
 * when it is back, into the windows they were made in (a window that has passed by then is skipped,
 * as the port says): totals and spend are then exact again. Logged once per outage; requests never
 * wait for the primary while it is down. Invalid arguments reject with internal_error as always.
 */
export class FailSoftCounterStore implements CounterStore {
  readonly kind: string;
  readonly #primary: CounterStore;
  readonly #local: MemoryCounterStore;
  readonly #pending = new Map<string, PendingChange>();
  readonly #tracker: OutageTracker;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #probe: () => Promise<unknown>;
  #dropped = 0;

  constructor(options: FailSoftCounterStoreOptions) {
    this.#primary = options.primary;
    this.kind = `${options.primary.kind}+local`;
    this.#now = options.now ?? Date.now;
    this.#maxPending = options.maxPending ?? 10_000;
    if (!Number.isSafeInteger(this.#maxPending) || this.#maxPending < 0) {
      throw new GatewayError('invalid_config', `maxPending must be a non-negative integer, got ${String(this.#maxPending)}`, { param: 'maxPending' });
    }
    this.#local = new MemoryCounterStore({ now: this.#now });
    this.#probe = options.probe ?? (() => this.#primary.read('zgw-probe', TOTAL_WINDOW));
    this.#tracker = new OutageTracker({
      name: options.name ?? 'counters',
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

  async increment(key: string, amount: number | bigint, windowMs: number, at?: number): Promise<bigint> {
    const delta = checkCounterArguments(key, windowMs, amount, at);
    if (!this.#tracker.down) {
      try {
        return await this.#primary.increment(key, delta, windowMs, at);
      } catch (error) {
        this.#tracker.fail(error);
      }
    }
    const now = this.#now();
    const index = windowIndex(at ?? now, windowMs);
    if (index >= windowIndex(now, windowMs) - 1) this.#queue(key, windowMs, index, delta);
    return this.#local.increment(key, delta, windowMs, at);
  }

  async decrement(key: string, amount: number | bigint, windowMs: number, at?: number): Promise<bigint> {
    const delta = checkCounterArguments(key, windowMs, amount, at);
    return this.increment(key, -delta, windowMs, at);
  }

  async read(key: string, windowMs: number, at?: number): Promise<bigint> {
    checkCounterArguments(key, windowMs, 0n, at);
    if (!this.#tracker.down) {
      try {
        return await this.#primary.read(key, windowMs, at);
      } catch (error) {
        this.#tracker.fail(error);
      }
    }
    return this.#local.read(key, windowMs, at);
  }

  async snapshot(key: string, windowMs: number, amount: number | bigint = 0n): Promise<WindowSnapshot> {
    const delta = checkCounterArguments(key, windowMs, amount);
    if (!this.#tracker.down) {
      try {
        return await this.#primary.snapshot(key, windowMs, delta);
      } catch (error) {
        this.#tracker.fail(error);
      }
    }
    const snapshot = await this.#local.snapshot(key, windowMs, delta);
    if (delta !== 0n) this.#queue(key, windowMs, windowIndex(snapshot.now, windowMs), delta);
    return snapshot;
  }

  /** Starts an outage now (e.g. the primary was not reachable at start): logged once, retried as any outage. */
  assumeUnavailable(reason: unknown): void {
    this.#tracker.fail(reason);
  }

  /** Tries to reach the primary and catch up now, rather than at the next retry tick. */
  recoverNow(): Promise<void> {
    return this.#tracker.tryRecover();
  }

  /** Stops retrying, closes the primary and the local counters; queued changes are lost (logged). */
  async close(): Promise<void> {
    this.#tracker.close(this.#pending.size);
    this.#pending.clear();
    await Promise.allSettled([this.#primary.close(), this.#local.close()]);
  }

  #queue(key: string, windowMs: number, index: number, delta: bigint): void {
    const slot = `${windowMs}\u0000${index}\u0000${key}`;
    const existing = this.#pending.get(slot);
    if (existing) {
      // Summed in place, keeping its place in the queue; a sum of zero needs no write.
      if (existing.delta + delta === 0n) this.#pending.delete(slot);
      else this.#pending.set(slot, { ...existing, delta: existing.delta + delta });
      return;
    }
    this.#pending.set(slot, { key, windowMs, index, delta });
    while (this.#pending.size > this.#maxPending) {
      this.#pending.delete(this.#pending.keys().next().value as string);
      this.#dropped += 1;
    }
  }

  async #catchUp(): Promise<{ caughtUp: number; dropped: number }> {
    if (this.#pending.size === 0) await this.#probe();
    let caughtUp = 0;
    for (let next = this.#pending.entries().next(); !next.done; next = this.#pending.entries().next()) {
      const [slot, change] = next.value;
      // Out of the queue while it is sent: changes made meanwhile queue afresh; a failure puts it back.
      this.#pending.delete(slot);
      try {
        await this.#send(change);
      } catch (error) {
        this.#queue(change.key, change.windowMs, change.index, change.delta);
        throw error;
      }
      caughtUp += 1;
    }
    await this.#local.close();
    const dropped = this.#dropped;
    this.#dropped = 0;
    return { caughtUp, dropped };
  }

  #send(change: PendingChange): Promise<bigint> {
    const at = change.windowMs === TOTAL_WINDOW ? undefined : change.index * change.windowMs;
    return this.#primary.increment(change.key, change.delta, change.windowMs, at);
  }

  /** Changes queued in the instant between the last replay and the end of the outage: sent now. */
  #afterUp(): void {
    const leftovers = [...this.#pending.values()];
    this.#pending.clear();
    for (const change of leftovers) {
      this.#send(change).catch((error: unknown) => {
        this.#queue(change.key, change.windowMs, change.index, change.delta);
        this.#tracker.fail(error);
      });
    }
  }
}
