import { GatewayError } from '../errors/index.js';
import type { ApiKeyBudget } from './api-key-schema.js';
import type { AuthenticatedKey } from './api-key-registry.js';
import type { UsageTokens } from './cost.js';
import type { CounterStore, WindowSnapshot } from './counter-store.js';
import { RATE_WINDOW_MS, keyCounterNames } from './key-counters.js';
import { KeySpendTracker } from './key-spend-tracker.js';
import { KeyTicketImpl, type KeyTicket } from './key-ticket.js';
import { exceedsLimit, msUntilFits } from './sliding-window.js';

/** What the limiter needs to know about a request before it is sent. */
export interface AdmissionRequest {
  /** The model that will be asked for (after any default or alias is applied). */
  model: string;
  /** Tokens the request is expected to use (prompt estimate + max output), for the `tpm` pre-check. Default: 1. */
  estimatedTokens?: number;
}

/** Options for {@link KeyLimiter}. */
export interface KeyLimiterOptions {
  /** Where rpm, tpm and spend counters live; shared by every gateway instance when it is external. */
  store: CounterStore;
  /** Spend accounting; default: a {@link KeySpendTracker} on the same store and clock. */
  spend?: KeySpendTracker;
  /** Clock in epoch ms (budget periods, Retry-After of budgets). Default: `Date.now`. */
  now?: () => number;
  /** The Retry-After hint of `key_concurrency_exceeded`, in ms. Default: 1000. */
  concurrencyRetryAfterMs?: number;
}

/**
 * Applies a client key's limits to each request. `admit` checks, in this order, and throws the first
 * failure as a GatewayError:
 *
 * 1. model allowed: 403 `model_not_allowed` (the key lacks permission; the model may well exist);
 * 2. `maxConcurrent`: 429 `key_concurrency_exceeded`, counted in this instance only (a slot is held
 *    until `ticket.release()`);
 * 3. `rpm`: 429 `key_rate_limited`; the request is **reserved** first (counted in the store
 *    atomically, then given back if over), so concurrent admits never pass more than the limit;
 * 4. `tpm`: 429 `key_rate_limited` when tokens used + the estimate would exceed it (an estimate above
 *    `tpm` counts as `tpm`: such a request waits for an empty window rather than never passing);
 * 5. budget: 402 `budget_exceeded` when the spend in the current period has reached the amount.
 *
 * rpm and tpm are sliding-window estimates over one-minute fixed windows (see `sliding-window.ts`);
 * their 429s carry `retryAfterMs`, the time until enough is free. A refused request gives back
 * whatever it had taken (its concurrency slot, its rpm reservation). Budgets are checked, not
 * reserved, because the cost is known only afterwards: requests admitted together may overshoot a
 * budget by what they cost between them, and the next request is refused. A store failure rejects
 * the admission (fail closed).
 */
export class KeyLimiter {
  readonly #store: CounterStore;
  readonly #spend: KeySpendTracker;
  readonly #now: () => number;
  readonly #concurrencyRetryAfterMs: number;
  readonly #inFlight = new Map<string, number>();

  constructor(options: KeyLimiterOptions) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#spend = options.spend ?? new KeySpendTracker({ store: options.store, now: this.#now });
    this.#concurrencyRetryAfterMs = options.concurrencyRetryAfterMs ?? 1000;
  }

  /** The spend tracker the tickets record to. */
  get spend(): KeySpendTracker {
    return this.#spend;
  }

  /** Requests of this key in flight in this instance (admitted, not yet released). */
  inFlight(keyId: string): number {
    return this.#inFlight.get(keyId) ?? 0;
  }

  /** Admits a request or throws (see the class description). The ticket must be released once the request ends. */
  async admit(key: AuthenticatedKey, request: AdmissionRequest): Promise<KeyTicket> {
    const { limits } = key;
    if (limits.models !== undefined && !limits.models.includes(request.model)) {
      throw new GatewayError('model_not_allowed', `This API key may not use the model ${JSON.stringify(request.model.slice(0, 200))}`, {
        param: 'model',
      });
    }
    const estimate = request.estimatedTokens ?? 1;
    if (!Number.isSafeInteger(estimate) || estimate < 0) {
      throw new GatewayError('internal_error', `estimatedTokens must be a non-negative integer, got ${String(estimate)}`);
    }
    this.#takeSlot(key);
    let reservedAt: number | undefined;
    try {
      if (limits.rpm !== undefined) reservedAt = await this.#reserveRequest(key.id, limits.rpm);
      if (limits.tpm !== undefined) await this.#checkTokens(key.id, limits.tpm, estimate);
      if (limits.budget !== undefined) await this.#checkBudget(key.id, limits.budget);
    } catch (error) {
      this.#releaseSlot(key.id);
      if (reservedAt !== undefined) await this.#unreserve(key.id, reservedAt);
      throw error;
    }
    return new KeyTicketImpl(key, {
      release: () => this.#releaseSlot(key.id),
      commit: (usage, costNeuron) => this.#commit(key, usage, costNeuron),
    });
  }

  #takeSlot(key: AuthenticatedKey): void {
    const inFlight = this.inFlight(key.id);
    const limit = key.limits.maxConcurrent;
    if (limit !== undefined && inFlight >= limit) {
      throw new GatewayError('key_concurrency_exceeded', `This API key already has ${limit} request${limit === 1 ? '' : 's'} in flight, its limit`, {
        retryAfterMs: this.#concurrencyRetryAfterMs,
        details: { limit: 'maxConcurrent' },
      });
    }
    this.#inFlight.set(key.id, inFlight + 1);
  }

  #releaseSlot(keyId: string): void {
    const inFlight = this.inFlight(keyId);
    if (inFlight <= 1) this.#inFlight.delete(keyId);
    else this.#inFlight.set(keyId, inFlight - 1);
  }

  /** Counts the request in the current minute window; gives it back and throws when that is over `rpm`. Returns the window it was counted in. */
  async #reserveRequest(keyId: string, rpm: number): Promise<number> {
    const name = keyCounterNames(keyId).requests;
    const snapshot = await this.#store.snapshot(name, RATE_WINDOW_MS, 1n);
    if (!exceedsLimit(snapshot, RATE_WINDOW_MS, rpm, 0n)) return snapshot.windowStart;
    await this.#unreserve(keyId, snapshot.windowStart);
    const without: WindowSnapshot = { ...snapshot, current: snapshot.current - 1n };
    throw rateLimited(`${rpm} request${rpm === 1 ? '' : 's'} per minute`, 'rpm', msUntilFits(without, RATE_WINDOW_MS, rpm, 1n));
  }

  /** Gives back a reservation, to the window it was taken from; a failure to do so is not the caller's error. */
  async #unreserve(keyId: string, windowStart: number): Promise<void> {
    try {
      await this.#store.decrement(keyCounterNames(keyId).requests, 1n, RATE_WINDOW_MS, windowStart);
    } catch {
      // The reservation then counts until its window passes: stricter, never looser.
    }
  }

  async #checkTokens(keyId: string, tpm: number, estimate: number): Promise<void> {
    const need = BigInt(Math.min(Math.max(estimate, 1), tpm));
    const snapshot = await this.#store.snapshot(keyCounterNames(keyId).tokens, RATE_WINDOW_MS);
    if (!exceedsLimit(snapshot, RATE_WINDOW_MS, tpm, need)) return;
    throw rateLimited(`${tpm} token${tpm === 1 ? '' : 's'} per minute`, 'tpm', msUntilFits(snapshot, RATE_WINDOW_MS, tpm, need));
  }

  async #checkBudget(keyId: string, budget: ApiKeyBudget): Promise<void> {
    const spent = await this.#spend.periodSpend(keyId, budget);
    if (spent === undefined || spent.spentNeuron < budget.amount) return;
    const resetsAt = spent.resetsAt === null ? null : new Date(spent.resetsAt).toISOString();
    const when = resetsAt === null ? 'it does not reset' : `it resets at ${resetsAt}`;
    throw new GatewayError('budget_exceeded', `This API key has used up its ${PERIOD_ADJECTIVE[budget.period]} budget; ${when}`, {
      ...(spent.resetsAt !== null ? { retryAfterMs: Math.max(1, spent.resetsAt - this.#now()) } : {}),
      details: { period: budget.period, resets_at: resetsAt },
    });
  }

  async #commit(key: AuthenticatedKey, usage: UsageTokens, costNeuron: bigint): Promise<void> {
    const tokens = usage.promptTokens + usage.completionTokens;
    await Promise.all([
      this.#spend.record(key.id, key.limits.budget, usage, costNeuron),
      tokens > 0 ? this.#store.increment(keyCounterNames(key.id).tokens, tokens, RATE_WINDOW_MS) : undefined,
    ]);
  }
}

const PERIOD_ADJECTIVE: Readonly<Record<ApiKeyBudget['period'], string>> = {
  minute: 'per-minute',
  hour: 'hourly',
  day: 'daily',
  week: 'weekly',
  month: 'monthly',
  total: 'total',
};

function rateLimited(limitText: string, limit: 'rpm' | 'tpm', retryAfterMs: number): GatewayError {
  const wait = Math.max(1, retryAfterMs);
  return new GatewayError('key_rate_limited', `Rate limit reached for this API key (${limitText}); retry in ${Math.ceil(wait / 1000)} s`, {
    retryAfterMs: wait,
    details: { limit, retry_after_ms: wait },
  });
}
