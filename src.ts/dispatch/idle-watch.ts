/**
 * Waits for a count to reach 0 (the gateway's requests in flight), within a bound, without
 * polling: whoever changes the count calls `check()`.
 */
export class IdleWatch {
  readonly #count: () => number;
  readonly #waiters = new Set<() => void>();

  constructor(count: () => number) {
    this.#count = count;
  }

  /** True once the count is 0, false when `ms` passed first. */
  within(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let finished = false;
      const done = (idle: boolean): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(idle);
      };
      const check = (): void => {
        if (this.#count() === 0) done(true);
      };
      const timer = setTimeout(() => done(this.#count() === 0), ms);
      this.#waiters.add(check);
      check();
    });
  }

  /** True while someone waits (callers may skip `check()` otherwise). */
  get waiting(): boolean {
    return this.#waiters.size > 0;
  }

  /** Re-checks the count for every waiter. */
  check(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
