/**
 * Latency of a provider's successful attempts over the last samples of a window.
 * Percentiles use the nearest-rank method. Every value but `count` is null while there is no sample.
 */
export interface LatencySummary {
  /** Samples in the window. */
  count: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

/** The nearest-rank percentile of ascending, non-empty `sorted`. */
function nearestRank(sorted: Float64Array, fraction: number): number | null {
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** A fixed-size ring buffer of latency samples (O(1) to add; sorting happens only when summarised). */
export class LatencyWindow {
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#samples = new Float64Array(capacity);
  }

  add(sample: number): void {
    this.#samples[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#count < this.#samples.length) this.#count += 1;
  }

  summary(): LatencySummary {
    const count = this.#count;
    if (count === 0) return { count: 0, mean: null, p50: null, p95: null, max: null };
    // The filled part is the first `count` slots (the buffer fills from 0 before it wraps).
    const sorted = this.#samples.slice(0, count).sort();
    let sum = 0;
    for (const sample of sorted) sum += sample;
    return { count, mean: sum / count, p50: nearestRank(sorted, 0.5), p95: nearestRank(sorted, 0.95), max: sorted[count - 1] ?? null };
  }
}
