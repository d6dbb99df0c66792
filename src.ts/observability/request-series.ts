/**
 * A bounded in-memory time series of requests: fixed buckets (default 10 s × 360, the last hour)
 * in a ring, per key (a provider) and overall. Each bucket counts requests and errors and keeps
 * two small log-scale histograms (TTFT, latency) for p50/p95. Memory is fixed by the options:
 * `(maxKeys + 1) × buckets` slots at most, each allocated on its first sample. Clock injected.
 */

/** Histogram bins grow by this factor: a quantile is right within about ±12 %. */
const BIN_GROWTH = 1.25;
/** Bins: [0, 1) ms, then [1.25^(i-1), 1.25^i) ms, the last one open (≈ 10 min and more). */
const BINS = 62;
const LOG_GROWTH = Math.log(BIN_GROWTH);

/** The bin of a duration in ms. */
export function binOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(BINS - 1, 1 + Math.floor(Math.log(ms) / LOG_GROWTH));
}

/** A representative value of a bin (its geometric middle), ms. */
export function binValue(bin: number): number {
  if (bin <= 0) return 0.5;
  return Math.pow(BIN_GROWTH, bin - 0.5);
}

/** One finished request, as the series records it. */
export interface SeriesSample {
  /** Counted as an error (the gateway or a provider failed it). */
  error: boolean;
  /** Time to the first byte of the answer, ms (when it got one). */
  ttftMs?: number | undefined;
  /** The whole request, ms. */
  durationMs: number;
}

/** The last hour of one key, oldest bucket first; a bucket without requests has nulls. */
export interface SeriesSnapshot {
  bucketMs: number;
  /** Each bucket's start, epoch seconds. */
  time: number[];
  requestsPerSecond: number[];
  /** Errors / requests, 0..1 (null without requests). */
  errorRate: Array<number | null>;
  ttftP50Ms: Array<number | null>;
  ttftP95Ms: Array<number | null>;
  latencyP50Ms: Array<number | null>;
  latencyP95Ms: Array<number | null>;
}

interface Slot {
  /** The absolute bucket number (time / bucketMs) it holds. */
  bucket: number;
  requests: number;
  errors: number;
  /** TTFT bins then latency bins. */
  histogram: Uint32Array;
}

/** Options for {@link RequestSeries}. */
export interface RequestSeriesOptions {
  /** Bucket width, ms. Default 10 000. */
  bucketMs?: number;
  /** Buckets kept. Default 360 (an hour of 10 s). */
  buckets?: number;
  /** Keys (providers) kept besides the overall series; later keys count in the overall only. Default 32. */
  maxKeys?: number;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

function quantile(histogram: Uint32Array, offset: number, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let bin = 0; bin < BINS; bin++) {
    seen += histogram[offset + bin] as number;
    if (seen >= rank) return Math.round(binValue(bin) * 10) / 10;
  }
  return null;
}

/** The time series: `record` on each finished request, `snapshot` when the page asks. */
export class RequestSeries {
  readonly bucketMs: number;
  readonly buckets: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #overall: Array<Slot | undefined>;
  readonly #byKey = new Map<string, Array<Slot | undefined>>();

  constructor(options: RequestSeriesOptions = {}) {
    this.bucketMs = options.bucketMs ?? 10_000;
    this.buckets = options.buckets ?? 360;
    this.#maxKeys = options.maxKeys ?? 32;
    this.#now = options.now ?? Date.now;
    this.#overall = new Array<Slot | undefined>(this.buckets);
  }

  /** The keys with a series of their own. */
  keys(): string[] {
    return [...this.#byKey.keys()];
  }

  /** Counts one finished request now, overall and under `key` (when given). */
  record(key: string | undefined, sample: SeriesSample): void {
    const bucket = Math.floor(this.#now() / this.bucketMs);
    this.#add(this.#overall, bucket, sample);
    if (key === undefined) return;
    let ring = this.#byKey.get(key);
    if (!ring) {
      if (this.#byKey.size >= this.#maxKeys) return;
      ring = new Array<Slot | undefined>(this.buckets);
      this.#byKey.set(key, ring);
    }
    this.#add(ring, bucket, sample);
  }

  /** Forgets one key's series (a provider left). */
  forget(key: string): void {
    this.#byKey.delete(key);
  }

  /** The last `buckets` buckets up to now, of `key` (undefined: overall; unknown key: all empty). */
  snapshot(key?: string): SeriesSnapshot {
    const ring = key === undefined ? this.#overall : this.#byKey.get(key);
    const now = this.#now();
    const current = Math.floor(now / this.bucketMs);
    const snapshot: SeriesSnapshot = { bucketMs: this.bucketMs, time: [], requestsPerSecond: [], errorRate: [], ttftP50Ms: [], ttftP95Ms: [], latencyP50Ms: [], latencyP95Ms: [] };
    for (let bucket = current - this.buckets + 1; bucket <= current; bucket++) {
      const slot = ring?.[bucket % this.buckets];
      const live = slot !== undefined && slot.bucket === bucket ? slot : undefined;
      // The current bucket's rate is over the time it has run so far (at least a second).
      const seconds = bucket === current ? Math.max(1, (now - bucket * this.bucketMs) / 1000) : this.bucketMs / 1000;
      snapshot.time.push((bucket * this.bucketMs) / 1000);
      snapshot.requestsPerSecond.push(live ? Math.round((live.requests / seconds) * 1000) / 1000 : 0);
      snapshot.errorRate.push(live && live.requests > 0 ? Math.round((live.errors / live.requests) * 1000) / 1000 : null);
      let ttftCount = 0;
      if (live) for (let bin = 0; bin < BINS; bin++) ttftCount += live.histogram[bin] as number;
      snapshot.ttftP50Ms.push(live ? quantile(live.histogram, 0, ttftCount, 0.5) : null);
      snapshot.ttftP95Ms.push(live ? quantile(live.histogram, 0, ttftCount, 0.95) : null);
      snapshot.latencyP50Ms.push(live ? quantile(live.histogram, BINS, live.requests, 0.5) : null);
      snapshot.latencyP95Ms.push(live ? quantile(live.histogram, BINS, live.requests, 0.95) : null);
    }
    return snapshot;
  }

  #add(ring: Array<Slot | undefined>, bucket: number, sample: SeriesSample): void {
    const index = bucket % this.buckets;
    let slot = ring[index];
    if (!slot) {
      slot = { bucket, requests: 0, errors: 0, histogram: new Uint32Array(2 * BINS) };
      ring[index] = slot;
    } else if (slot.bucket !== bucket) {
      // A bucket from a lap ago (or older): reused in place.
      slot.bucket = bucket;
      slot.requests = 0;
      slot.errors = 0;
      slot.histogram.fill(0);
    }
    slot.requests += 1;
    if (sample.error) slot.errors += 1;
    const histogram = slot.histogram;
    if (sample.ttftMs !== undefined) histogram[binOf(sample.ttftMs)] = (histogram[binOf(sample.ttftMs)] as number) + 1;
    const latencyBin = BINS + binOf(sample.durationMs);
    histogram[latencyBin] = (histogram[latencyBin] as number) + 1;
  }
}
