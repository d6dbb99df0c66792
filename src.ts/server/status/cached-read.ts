/**
 * A read that costs something (the chain, a store, a database), done at most once per `ttlMs`
 * however often the status page polls: callers within the period share the last answer, and
 * concurrent callers share one read. A failed read is kept as its error for the period too.
 */
export class CachedRead<T> {
  readonly #read: () => Promise<T>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #last: { at: number; value: T | undefined; error: string | null } | undefined;
  #running: Promise<void> | undefined;

  constructor(read: () => Promise<T>, ttlMs: number, now: () => number = Date.now) {
    this.#read = read;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The last answer (read again when older than the period), when it was read, and its error. */
  async get(): Promise<{ at: number; value: T | undefined; error: string | null }> {
    const last = this.#last;
    if (last && this.#now() - last.at < this.#ttlMs) return last;
    this.#running ??= this.#read().then(
      (value) => {
        this.#last = { at: this.#now(), value, error: null };
      },
      (error: unknown) => {
        this.#last = { at: this.#now(), value: undefined, error: error instanceof Error ? error.message : String(error) };
      },
    ).finally(() => {
      this.#running = undefined;
    });
    await this.#running;
    return this.#last as { at: number; value: T | undefined; error: string | null };
  }
}
