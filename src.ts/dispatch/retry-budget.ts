import { SlidingCounts } from '../internal/sliding-counts.js';

/**
 * A retry budget: retries may add at most `ratio` of the recent request volume, plus a small
 * floor per second, so a broken fleet does not multiply the load it is already failing under.
 * Requests and retries are counted in time buckets (O(1) per request, no allocation).
 */
export class RetryBudget {
  private readonly ratio: number;
  private readonly minPerSecond: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Requests (total) and retries (counted as "failures") in the window. */
  private readonly counts: SlidingCounts;

  constructor(options: { ratio?: number; minPerSecond?: number; windowMs?: number; now?: () => number } = {}) {
    this.ratio = options.ratio ?? 0.5;
    this.minPerSecond = options.minPerSecond ?? 10;
    this.windowMs = options.windowMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.counts = new SlidingCounts(this.windowMs);
  }

  /** Records a new client request. */
  recordRequest(): void {
    this.counts.add(this.now(), false);
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryAcquireRetry(): boolean {
    const now = this.now();
    const { total, failures: retries } = this.counts.read(now);
    const requests = total - retries;
    const allowed = Math.floor(requests * this.ratio + (this.minPerSecond * this.windowMs) / 1000);
    if (retries >= allowed) return false;
    this.counts.add(now, true);
    return true;
  }
}
