import { GatewayError } from '../errors/index.js';

/** The `windowMs` of a counter that never rolls over (totals, `total` budgets). */
export const TOTAL_WINDOW = Number.POSITIVE_INFINITY;

/** A counter's current and previous fixed windows, read in one atomic step. */
export interface WindowSnapshot {
  /** Total of the window containing the store's now (after the change, for a change). */
  readonly current: bigint;
  /** Total of the window just before it (0n for {@link TOTAL_WINDOW}). */
  readonly previous: bigint;
  /** Start of the current window, epoch ms: `floor(now / windowMs) * windowMs` (0 for {@link TOTAL_WINDOW}). */
  readonly windowStart: number;
  /** The store's clock when the snapshot was taken, epoch ms. */
  readonly now: number;
}

/**
 * The CounterStore port: integer counters in **fixed windows**, so limits can be kept in memory or in
 * a store shared by several gateway instances (Redis) behind the same interface. A counter is named
 * by a string key and a window length `windowMs` (a positive integer, or {@link TOTAL_WINDOW}); its
 * windows are numbered `floor(t / windowMs)`. Each window of each counter is independent; a window
 * never written reads as 0n. Every method is atomic per counter: concurrent increments all count.
 *
 * An implementation keeps a window at least until its successor has ended (so the previous window
 * is readable for sliding estimates) and may drop it after that: a window older than the previous
 * one always reads as 0n and is not written. {@link TOTAL_WINDOW} counters are kept. Invalid arguments (empty key, bad window, non-integer amount) reject with
 * GatewayError('internal_error').
 */
export interface CounterStore {
  /** Which implementation this is, e.g. 'memory' (shown in /admin). */
  readonly kind: string;
  /**
   * Adds `amount` (may be negative: refunds) to the window containing `at` (default: now) and
   * returns that window's new total. A window that may already have been dropped (it ended more than
   * one window before now) is not written, and 0n is returned.
   */
  increment(key: string, amount: number | bigint, windowMs: number, at?: number): Promise<bigint>;
  /** Subtracts `amount` from the window containing `at` (default: now): `increment(key, -amount, ...)`. */
  decrement(key: string, amount: number | bigint, windowMs: number, at?: number): Promise<bigint>;
  /** The total of the window containing `at` (default: now). */
  read(key: string, windowMs: number, at?: number): Promise<bigint>;
  /**
   * Adds `amount` (default 0n: only reads) to the current window and returns the current and previous
   * windows' totals, atomically: what a sliding-window limit needs in one round trip.
   */
  snapshot(key: string, windowMs: number, amount?: number | bigint): Promise<WindowSnapshot>;
  /** Releases the store's resources. */
  close(): Promise<void>;
}

/** Checks CounterStore arguments; shared by implementations so they refuse the same things. */
export function checkCounterArguments(key: string, windowMs: number, amount: number | bigint = 0n, at?: number): bigint {
  if (typeof key !== 'string' || key.length === 0) throw new GatewayError('internal_error', 'Counter key must be a non-empty string');
  if (windowMs !== TOTAL_WINDOW && !(Number.isSafeInteger(windowMs) && windowMs > 0)) {
    throw new GatewayError('internal_error', `Counter window must be a positive integer of ms or TOTAL_WINDOW, got ${String(windowMs)}`);
  }
  if (at !== undefined && !Number.isFinite(at)) throw new GatewayError('internal_error', `Counter time must be a finite number, got ${String(at)}`);
  if (typeof amount === 'bigint') return amount;
  if (!Number.isSafeInteger(amount)) throw new GatewayError('internal_error', `Counter amount must be an integer, got ${String(amount)}`);
  return BigInt(amount);
}

/** The number of the window containing `time` (0 for {@link TOTAL_WINDOW}). */
export function windowIndex(time: number, windowMs: number): number {
  return windowMs === TOTAL_WINDOW ? 0 : Math.floor(time / windowMs);
}
