/**
 * Counts of events over a sliding time window, kept in a ring of equal time buckets: adding
 * and reading are O(buckets) at worst and allocate nothing, however many events arrive. The
 * window is approximate to one bucket (the oldest bucket leaves whole).
 */
export class SlidingCounts {
  readonly #bucketMs: number;
  readonly #totals: Float64Array;
  readonly #failures: Float64Array;
  /** The bucket number (time / bucketMs) each slot currently holds. */
  readonly #epochs: Float64Array;

  /**
   * @param windowMs Length of the window, ms.
   * @param buckets Slots the window is divided into. Default 10.
   */
  constructor(windowMs: number, buckets = 10) {
    this.#bucketMs = Math.max(1, windowMs / buckets);
    this.#totals = new Float64Array(buckets);
    this.#failures = new Float64Array(buckets);
    this.#epochs = new Float64Array(buckets).fill(-1);
  }

  #slot(now: number): number {
    const epoch = Math.floor(now / this.#bucketMs);
    const slot = epoch % this.#totals.length;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#totals[slot] = 0;
      this.#failures[slot] = 0;
    }
    return slot;
  }

  /** Counts one event at `now`; `failed` counts it as a failure too. */
  add(now: number, failed: boolean): void {
    const slot = this.#slot(now);
    this.#totals[slot] = (this.#totals[slot] as number) + 1;
    if (failed) this.#failures[slot] = (this.#failures[slot] as number) + 1;
  }

  /** Events and failures in the window ending at `now`. */
  read(now: number): { total: number; failures: number } {
    const current = Math.floor(now / this.#bucketMs);
    const oldest = current - this.#totals.length + 1;
    let total = 0;
    let failures = 0;
    for (let slot = 0; slot < this.#totals.length; slot++) {
      const epoch = this.#epochs[slot] as number;
      if (epoch >= oldest && epoch <= current) {
        total += this.#totals[slot] as number;
        failures += this.#failures[slot] as number;
      }
    }
    return { total, failures };
  }

  /** Forgets every event. */
  clear(): void {
    this.#epochs.fill(-1);
  }
}
