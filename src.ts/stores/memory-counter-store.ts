import { GatewayError } from '../errors/index.js';
import { TOTAL_WINDOW, checkCounterArguments, windowIndex, type CounterStore, type WindowSnapshot } from './counter-store.js';

/** Options for {@link MemoryCounterStore}. */
export interface MemoryCounterStoreOptions {
  /** Clock in epoch ms that windows are placed with. Default: `Date.now`. */
  now?: () => number;
  /** How often, at most, every window is checked for expiry, in ms. A positive integer. Default: 60000. */
  sweepIntervalMs?: number;
}

interface WindowCounter {
  value: bigint;
  /** When this window stops being the current or the previous one: it may then be dropped. */
  readonly dropAt: number;
}

const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/**
 * A {@link CounterStore} in this process's memory (for one gateway instance). Operations complete
 * synchronously inside their promise, so each is atomic. Memory is bounded by the counters in use:
 * a window is dropped once it is neither the current nor the previous one (when touched, and by a
 * sweep over all windows at most every `sweepIntervalMs`); windows that fall back to 0n are deleted.
 * `TOTAL_WINDOW` counters are kept until `close()`.
 *
 * Throws GatewayError('invalid_config') for invalid options.
 */
export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory';
  readonly #windows = new Map<string, WindowCounter>();
  readonly #now: () => number;
  readonly #sweepIntervalMs: number;
  #nextSweepAt: number;

  constructor(options: MemoryCounterStoreOptions = {}) {
    const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (!Number.isSafeInteger(sweepIntervalMs) || sweepIntervalMs < 1) {
      throw new GatewayError('invalid_config', `sweepIntervalMs must be a positive integer, got ${String(sweepIntervalMs)}`, { param: 'sweepIntervalMs' });
    }
    this.#now = options.now ?? Date.now;
    this.#sweepIntervalMs = sweepIntervalMs;
    this.#nextSweepAt = this.#now() + sweepIntervalMs;
  }

  async increment(key: string, amount: number | bigint, windowMs: number, at?: number): Promise<bigint> {
    const delta = checkCounterArguments(key, windowMs, amount, at);
    const now = this.#tick();
    const index = windowIndex(at ?? now, windowMs);
    if (index < windowIndex(now, windowMs) - 1) return 0n;
    return this.#add(key, windowMs, index, delta);
  }

  async decrement(key: string, amount: number | bigint, windowMs: number, at?: number): Promise<bigint> {
    const delta = checkCounterArguments(key, windowMs, amount, at);
    return this.increment(key, -delta, windowMs, at);
  }

  async read(key: string, windowMs: number, at?: number): Promise<bigint> {
    checkCounterArguments(key, windowMs, 0n, at);
    const now = this.#tick();
    return this.#get(key, windowMs, windowIndex(at ?? now, windowMs), now);
  }

  async snapshot(key: string, windowMs: number, amount: number | bigint = 0n): Promise<WindowSnapshot> {
    const delta = checkCounterArguments(key, windowMs, amount);
    const now = this.#tick();
    const index = windowIndex(now, windowMs);
    const current = delta === 0n ? this.#get(key, windowMs, index, now) : this.#add(key, windowMs, index, delta);
    const previous = windowMs === TOTAL_WINDOW ? 0n : this.#get(key, windowMs, index - 1, now);
    return { current, previous, windowStart: windowMs === TOTAL_WINDOW ? 0 : index * windowMs, now };
  }

  /** How many windows are held in memory now, expired ones not yet swept included. */
  size(): number {
    return this.#windows.size;
  }

  /** Forgets every counter; the store remains usable. */
  async close(): Promise<void> {
    this.#windows.clear();
  }

  #add(key: string, windowMs: number, index: number, delta: bigint): bigint {
    const name = slot(key, windowMs, index);
    const existing = this.#windows.get(name);
    const value = (existing?.value ?? 0n) + delta;
    if (value === 0n) this.#windows.delete(name);
    else if (existing) existing.value = value;
    else this.#windows.set(name, { value, dropAt: windowMs === TOTAL_WINDOW ? TOTAL_WINDOW : (index + 2) * windowMs });
    return value;
  }

  #get(key: string, windowMs: number, index: number, now: number): bigint {
    const name = slot(key, windowMs, index);
    const counter = this.#windows.get(name);
    if (counter === undefined) return 0n;
    if (now >= counter.dropAt) {
      this.#windows.delete(name);
      return 0n;
    }
    return counter.value;
  }

  /** The current time, sweeping expired windows when a sweep is due. */
  #tick(): number {
    const now = this.#now();
    if (now >= this.#nextSweepAt) this.#sweep(now);
    return now;
  }

  #sweep(now: number): void {
    for (const [name, counter] of this.#windows) {
      if (now >= counter.dropAt) this.#windows.delete(name);
    }
    this.#nextSweepAt = now + this.#sweepIntervalMs;
  }
}

/** One map key per (counter, window length, window number); NUL cannot appear in the numbers. */
function slot(key: string, windowMs: number, index: number): string {
  return `${windowMs}\u0000${index}\u0000${key}`;
}
