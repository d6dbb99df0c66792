/**
 * Keeps one provider's signed 0G request headers (`Authorization: Bearer app-sk-...`) and
 * reuses them until shortly before the session token inside expires, so a chat costs no chain
 * call and no signature. The protocol allows it: the SDK's ephemeral token lasts up to 24 h
 * and is meant to be reused (the SDK itself caches it, but reads the chain on every request to
 * check an acknowledgement it already knows). A fresh set is fetched in the background when the
 * token nears expiry, and at once after the provider refused the headers (`invalidate`).
 */

/** Options for {@link SessionHeaderCache}. */
export interface SessionHeaderCacheOptions {
  /**
   * Produces headers (the SDK's `getRequestHeaders`); `forceNewToken` after the provider refused
   * the last ones, so a token the SDK still caches is not handed out again.
   */
  fetchHeaders: (forceNewToken: boolean) => Promise<Record<string, string>>;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
  /** Headers are not used when their token expires within this many ms. Default 60000. */
  minimumValidityMs?: number;
  /** A background refresh starts when the token expires within this many ms. Default 2 h. */
  refreshAheadMs?: number;
}

/** Reads `expiresAt` (epoch ms) from an `app-sk-` bearer token; undefined when unreadable or 0 (never). */
export function tokenExpiry(authorization: string | undefined): number | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer app-sk-([A-Za-z0-9+/=]+)$/.exec(authorization.trim());
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.lastIndexOf('|');
  if (separator <= 0) return undefined;
  try {
    const token = JSON.parse(decoded.slice(0, separator)) as { expiresAt?: unknown };
    return typeof token.expiresAt === 'number' && token.expiresAt > 0 ? token.expiresAt : undefined;
  } catch {
    return undefined;
  }
}

function authorizationOf(headers: Record<string, string>): string | undefined {
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === 'authorization') return value;
  return undefined;
}

export class SessionHeaderCache {
  readonly #fetchHeaders: (forceNewToken: boolean) => Promise<Record<string, string>>;
  readonly #now: () => number;
  readonly #minimumValidityMs: number;
  readonly #refreshAheadMs: number;
  #headers: Record<string, string> | undefined;
  /** Epoch ms after which the cached headers are not used (Infinity: a token without expiry). */
  #usableUntil = 0;
  #refreshAfter = 0;
  #inFlight: Promise<Record<string, string>> | undefined;
  #forceNewToken = false;
  /** How many times headers were fetched (for diagnostics and tests). */
  fetches = 0;

  constructor(options: SessionHeaderCacheOptions) {
    this.#fetchHeaders = options.fetchHeaders;
    this.#now = options.now ?? Date.now;
    this.#minimumValidityMs = options.minimumValidityMs ?? 60_000;
    this.#refreshAheadMs = options.refreshAheadMs ?? 2 * 60 * 60 * 1000;
  }

  /**
   * The cached headers when they are still good (starting a background refresh when they near
   * expiry), else undefined: call {@link SessionHeaderCache.refresh} and wait.
   */
  current(): Record<string, string> | undefined {
    const headers = this.#headers;
    if (headers === undefined) return undefined;
    const now = this.#now();
    if (now >= this.#usableUntil) return undefined;
    if (now >= this.#refreshAfter && this.#inFlight === undefined) this.refresh().catch(() => undefined);
    return headers;
  }

  /** Headers now: the cached ones when good, else fresh ones (one fetch however many wait). */
  async get(): Promise<Record<string, string>> {
    return this.current() ?? this.refresh();
  }

  /** Fetches fresh headers (joining a fetch already under way). */
  refresh(): Promise<Record<string, string>> {
    if (this.#inFlight) return this.#inFlight;
    const forceNewToken = this.#forceNewToken;
    this.#inFlight = this.#fetchHeaders(forceNewToken)
      .then((headers) => {
        if (forceNewToken) this.#forceNewToken = false;
        this.fetches += 1;
        const expiry = tokenExpiry(authorizationOf(headers));
        const now = this.#now();
        this.#headers = headers;
        this.#usableUntil = expiry === undefined ? Infinity : expiry - this.#minimumValidityMs;
        // A token with no readable expiry is re-fetched every refreshAheadMs, to notice revocations.
        this.#refreshAfter = expiry === undefined ? now + this.#refreshAheadMs : expiry - this.#refreshAheadMs;
        return headers;
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  /** Forgets the cached headers (after the provider refused them); the next call fetches fresh ones. */
  invalidate(): void {
    this.#headers = undefined;
    this.#usableUntil = 0;
    this.#forceNewToken = true;
  }
}
