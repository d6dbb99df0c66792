import type { FleetLoadStore } from '../stores/fleet-load-store.js';

/** Options for {@link FleetLoad}. */
export interface FleetLoadOptions {
  readonly store: FleetLoadStore;
  readonly gatewayId: string;
  /** This instance's in-flight requests per provider now. */
  readonly localInFlight: () => ReadonlyMap<string, number>;
  /** Every how often counts are exchanged, ms. Default {@link FLEET_LOAD_PERIOD_MS}. */
  readonly periodMs?: number;
  /** Exchange only while this says so (the affinity layer is on). Default always. */
  readonly active?: () => boolean;
  readonly now?: () => number;
}

/** What the exchange has done (for the status page and tests). */
export interface FleetLoadStats {
  readonly exchanges: number;
  readonly failures: number;
  /** The other instances' in-flight requests per provider, as last read (empty when stale). */
  readonly others: Readonly<Record<string, number>>;
  /** Age of that reading, ms (undefined before the first). */
  readonly ageMs: number | undefined;
}

/** Default period of the exchange, ms: about 4 round trips a second per instance. */
export const FLEET_LOAD_PERIOD_MS = 250;
/** Periods a published count (and a reading) lives: a dead instance's counts vanish after this many. */
export const FLEET_LOAD_TTL_PERIODS = 3;

/**
 * The fleet-wide view of in-flight requests per provider that affinity's load bound uses when
 * several instances share a store: a background timer (unref'd) publishes this instance's counts
 * and reads the others' sum, one round trip per period, never on a request. `othersInFlight` is
 * that last reading, or 0 when it is older than {@link FLEET_LOAD_TTL_PERIODS} periods (the store
 * is failing or slow): then each instance bounds on its own counts only, as without a store.
 */
export class FleetLoad {
  readonly periodMs: number;
  readonly #options: FleetLoadOptions;
  readonly #now: () => number;
  #others: ReadonlyMap<string, number> = new Map();
  #readAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** When the exchange not yet answered began (undefined: none pending). */
  #pendingSince: number | undefined;
  #generation = 0;
  #closed = false;
  #exchanges = 0;
  #failures = 0;

  constructor(options: FleetLoadOptions) {
    this.#options = options;
    this.periodMs = options.periodMs ?? FLEET_LOAD_PERIOD_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Starts the timer (idempotent; not after `close()`). */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => void this.exchange(), this.periodMs);
    this.#timer.unref();
  }

  /** In-flight requests the other instances last said they have on `provider` (0 when unknown or stale). */
  othersInFlight(provider: string): number {
    return this.#fresh() ? (this.#others.get(provider) ?? 0) : 0;
  }

  /**
   * One exchange (what the timer runs). Skipped while the store is down, or while the previous one
   * is pending and younger than the counts' lifetime (one that hangs longer is given up: its late
   * answer is ignored). Never throws.
   */
  async exchange(): Promise<void> {
    const { store, active } = this.#options;
    const ttlMs = this.periodMs * FLEET_LOAD_TTL_PERIODS;
    const started = this.#now();
    if (this.#closed || !store.available || (active && !active())) return;
    if (this.#pendingSince !== undefined && started - this.#pendingSince <= ttlMs) return;
    const generation = ++this.#generation;
    this.#pendingSince = started;
    let others: ReadonlyMap<string, number> | undefined;
    try {
      others = await store.exchangeInFlight(this.#options.gatewayId, this.#options.localInFlight(), ttlMs);
    } catch {
      others = undefined;
    }
    if (generation !== this.#generation) return;
    this.#pendingSince = undefined;
    this.#exchanges += 1;
    if (others === undefined) {
      this.#failures += 1;
      return;
    }
    this.#others = others;
    this.#readAt = this.#now();
  }

  stats(): FleetLoadStats {
    return {
      exchanges: this.#exchanges,
      failures: this.#failures,
      others: this.#fresh() ? Object.fromEntries(this.#others) : {},
      ageMs: this.#readAt === undefined ? undefined : this.#now() - this.#readAt,
    };
  }

  /** Stops the timer (idempotent); the published counts expire in Redis. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #fresh(): boolean {
    return this.#readAt !== undefined && this.#now() - this.#readAt <= this.periodMs * FLEET_LOAD_TTL_PERIODS;
  }
}
