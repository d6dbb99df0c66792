import type { Logger } from 'pino';
import { GatewayError } from '../../errors/index.js';

/** Options for {@link OutageTracker}. */
export interface OutageTrackerOptions {
  /** Names the store in log lines, e.g. `responses`. */
  name: string;
  logger: Logger;
  /** How often recovery is tried while the store is down, ms. */
  retryIntervalMs: number;
  /** Tries to bring the store back: resolves when it is usable again (writes made meanwhile caught up). */
  recover: () => Promise<{ caughtUp: number; dropped: number }>;
  /** Called synchronously when the outage is over (for writes queued while the last replay finished). */
  onUp?: () => void;
}

/**
 * The up/down state of an external store, shared logic of the fail-soft wrappers: one warning when
 * an outage starts, one line when it ends (with what was caught up and what was dropped), never a
 * line per request. While down, `recover` is tried every `retryIntervalMs` (an unref'd timer, so it
 * never keeps the process alive) until it succeeds.
 * @internal
 */
export class OutageTracker {
  readonly #options: OutageTrackerOptions;
  #down = false;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;
  #recovering: Promise<void> | undefined;
  #closed = false;
  /** Outages seen since start. */
  outages = 0;

  constructor(options: OutageTrackerOptions) {
    if (!Number.isSafeInteger(options.retryIntervalMs) || options.retryIntervalMs < 1) {
      throw new GatewayError('invalid_config', `retryIntervalMs must be a positive integer, got ${String(options.retryIntervalMs)}`, { param: 'retryIntervalMs' });
    }
    this.#options = options;
  }

  /** True while the store is considered unreachable. */
  get down(): boolean {
    return this.#down;
  }

  /** Records a failure of the store: starts an outage (logged once) unless one is under way. */
  fail(error: unknown): void {
    if (this.#down || this.#closed) return;
    this.#down = true;
    this.#since = Date.now();
    this.outages += 1;
    const reason = error instanceof Error ? error.message : String(error);
    this.#options.logger.warn(
      { event: 'store_unavailable', store: this.#options.name, reason },
      `the ${this.#options.name} store is unreachable; serving from local state until it is back`,
    );
    this.#timer = setInterval(() => void this.tryRecover(), this.#options.retryIntervalMs);
    this.#timer.unref();
  }

  /** Tries recovery now (at most one attempt at a time); resolves when the attempt is over. */
  tryRecover(): Promise<void> {
    if (!this.#down || this.#closed) return Promise.resolve();
    return (this.#recovering ??= (async () => {
      try {
        const { caughtUp, dropped } = await this.#options.recover();
        if (this.#closed) return;
        this.#down = false;
        clearInterval(this.#timer);
        this.#timer = undefined;
        this.#options.logger.info(
          { event: 'store_recovered', store: this.#options.name, downMs: Date.now() - this.#since, caughtUp, dropped },
          `the ${this.#options.name} store is back; writes made meanwhile were caught up`,
        );
        this.#options.onUp?.();
      } catch {
        // Still down: the next tick tries again.
      } finally {
        this.#recovering = undefined;
      }
    })());
  }

  /** Stops trying; `lostWrites` (queued, never caught up) are logged when there are any. */
  close(lostWrites = 0): void {
    if (this.#closed) return;
    if (this.#down && lostWrites > 0) {
      this.#options.logger.warn({ event: 'store_writes_lost', store: this.#options.name, lostWrites }, `closing during an outage: ${lostWrites} writes never reached the ${this.#options.name} store`);
    }
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
