/**
 * What one provider said it does not serve: a route (`completions` answered 404/405) or a
 * parameter of a route (`completions` with `logprobs` answered "unsupported parameter"), each
 * until a time. A missing capability keeps the provider out of requests that need it, and only of
 * those: it is not a health fault, so its breaker is not told and its other requests go on.
 *
 * The clock is the caller's (every method takes `now`), so expiry is exact in tests.
 */
export class MissingCapabilities {
  /** Capability key → until when it is taken as missing (epoch ms). */
  readonly #until = new Map<string, number>();

  /** The key of a route (`completions`), or of one of its parameters (`completions:logprobs`). */
  static key(route: string, param?: string): string {
    return param === undefined ? route : `${route}:${param}`;
  }

  /** Remembers `key` as missing until `until` (a later mark extends it). */
  mark(key: string, until: number): void {
    this.#until.set(key, Math.max(until, this.#until.get(key) ?? 0));
  }

  /** True while `key` is remembered as missing; an expired mark is forgotten. */
  lacks(key: string, now: number): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#until.delete(key);
    return false;
  }

  /**
   * What a request on `route` with these body fields needs that is missing: the route itself, or
   * the first parameter remembered as missing; undefined when nothing is.
   */
  missingFor(route: string, params: Iterable<string>, now: number): { route: string; param?: string } | undefined {
    if (this.#until.size === 0) return undefined;
    if (this.lacks(route, now)) return { route };
    for (const param of params) if (this.lacks(MissingCapabilities.key(route, param), now)) return { route, param };
    return undefined;
  }

  /** Every capability missing now, with until when (ISO time), for status views. */
  list(now: number): Array<{ capability: string; until: string }> {
    const out: Array<{ capability: string; until: string }> = [];
    for (const [key, until] of this.#until) {
      if (now >= until) this.#until.delete(key);
      else out.push({ capability: key, until: new Date(until).toISOString() });
    }
    return out;
  }
}
