/**
 * A retry budget: retries may add at most `ratio` of the recent request volume, plus a small
 * floor per second, so a broken fleet does not multiply the load it is already failing under.
 */
export class RetryBudget {
  private readonly ratio: number;
  private readonly minPerSecond: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private requests: number[] = [];
  private retries: number[] = [];

  constructor(options: { ratio?: number; minPerSecond?: number; windowMs?: number; now?: () => number } = {}) {
    this.ratio = options.ratio ?? 0.5;
    this.minPerSecond = options.minPerSecond ?? 10;
    this.windowMs = options.windowMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  private trim(now: number): void {
    const since = now - this.windowMs;
    while (this.requests.length > 0 && (this.requests[0] as number) < since) this.requests.shift();
    while (this.retries.length > 0 && (this.retries[0] as number) < since) this.retries.shift();
  }

  /** Records a new client request. */
  recordRequest(): void {
    const now = this.now();
    this.trim(now);
    this.requests.push(now);
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryAcquireRetry(): boolean {
    const now = this.now();
    this.trim(now);
    const allowed = Math.floor(this.requests.length * this.ratio + (this.minPerSecond * this.windowMs) / 1000);
    if (this.retries.length >= allowed) return false;
    this.retries.push(now);
    return true;
  }
}
