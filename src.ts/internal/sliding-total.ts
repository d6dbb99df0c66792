/**
 * A total over a sliding time window, estimated from two fixed windows: the current one counts
 * fully, the previous one by the share of it still inside a window of the same length ending now,
 *
 *     total(now) = current + previous × (windowMs − elapsed) / windowMs
 *
 * (the estimate `keys/sliding-window.ts` uses for client keys, here in floating point for
 * provider limits). Adding and reading are O(1) and allocate nothing. A burst just before a
 * window boundary still counts almost fully just after it and fades linearly over the next window.
 */
export class SlidingTotal {
  readonly #windowMs: number;
  #start = -Infinity;
  #current = 0;
  #previous = 0;

  /** @param windowMs Length of the window, ms. Default 60000 (per minute). */
  constructor(windowMs = 60_000) {
    if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
    this.#windowMs = windowMs;
  }

  #roll(now: number): void {
    const start = Math.floor(now / this.#windowMs) * this.#windowMs;
    if (start <= this.#start) return;
    this.#previous = start - this.#start === this.#windowMs ? this.#current : 0;
    this.#current = 0;
    this.#start = start;
  }

  /** Adds `amount` at `now`. */
  add(now: number, amount = 1): void {
    this.#roll(now);
    this.#current += amount;
  }

  /** The estimated total of the window ending at `now`. */
  read(now: number): number {
    this.#roll(now);
    return this.#current + (this.#previous * (this.#windowMs - this.#elapsed(now))) / this.#windowMs;
  }

  /**
   * Milliseconds from `now` until `read() + need <= limit`, if nothing more is added: later in
   * this window when the previous window's share fading out is enough, else in the next one.
   * 0 when it fits already; Infinity when `need` exceeds `limit`.
   */
  msUntilFits(now: number, limit: number, need: number): number {
    this.#roll(now);
    const room = limit - need;
    if (room < 0) return Infinity;
    const window = this.#windowMs;
    const elapsed = this.#elapsed(now);
    if (this.#current <= room) {
      if (this.#previous <= 0) return 0;
      // current + previous × (W − e) / W ≤ room  ⇔  e ≥ W − (room − current) × W / previous
      const at = window - ((room - this.#current) * window) / this.#previous;
      return Math.max(0, Math.ceil(at - elapsed));
    }
    // Next window: the current one becomes the previous, current × (W − e′) / W ≤ room.
    const at = window - (room * window) / this.#current;
    return Math.ceil(window - elapsed + Math.max(0, at));
  }

  #elapsed(now: number): number {
    return Math.min(Math.max(now - this.#start, 0), this.#windowMs);
  }
}
