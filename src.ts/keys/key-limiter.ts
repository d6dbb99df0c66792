import { GatewayError } from '../errors/index.js';
import type { ApiKeyBudget } from './api-key-schema.js';
import type { AuthenticatedKey } from './api-key-registry.js';
import type { UsageTokens } from './cost.js';
import type { CounterStore, WindowSnapshot } from '../stores/counter-store.js';
import { RATE_WINDOW_MS, keyCounterNames } from './key-counters.js';
import { KeySpendTracker } from './key-spend-tracker.js';
import { KeyTicketImpl, type KeyTicket } from './key-ticket.js';
import { exceedsLimit, msUntilFits } from './sliding-window.js';

/** What the limiter needs to know about a request before it is sent. */
export interface AdmissionRequest {
  /** The model that will be asked for (after any default or alias is applied). */
  model: string;
  /**
   * Tokens the request is expected to use (prompt estimate + max output), **reserved** against `tpm`
   * at admission and settled to the actual at `commit`. Default: 1.
   */
  estimatedTokens?: number;
  /**
   * What the request may cost, neuron: an upper bound (the most expensive candidate's price), reserved
   * against the budget at admission and settled to the actual at `commit`. Default: 0n (the budget is
   * then only checked, not reserved).
   */
  estimatedCostNeuron?: bigint;
}

/** What an admitted request holds of its key's counters until it settles (commit) or gives them back (release). */
interface Reservation {
  /** Tokens counted in the `tpm` window that starts at `tokensWindow`. */
  tokens: bigint;
  tokensWindow: number;
  /** Neuron counted in the budget counter `spendCounter` (window `spendWindowMs`, placed at `spendAt`). */
  spendNeuron: bigint;
  spendCounter: string;
  spendWindowMs: number;
  spendAt: number;
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
 * 4. `tpm`: 429 `key_rate_limited` when tokens used (in flight included) + the estimate would exceed
 *    it. The estimate is **reserved** the same way (an estimate above `tpm` counts as `tpm`: such a
 *    request waits for an empty window rather than never passing);
 * 5. budget: 402 `budget_exceeded` when the spend in the current period, reservations of requests in
 *    flight included, has reached the amount. `estimatedCostNeuron` is **reserved** atomically (added
 *    to the period's counter; given back when the spend before it had already reached the amount).
 *
 * A reservation is settled by `ticket.commit(usage, cost)` (the actual is recorded, the reservation
 * given back: the unused part is released, an overrun is charged) or given back whole by
 * `ticket.release()` without a commit. Under any concurrency, then, at most `tpm` tokens are reserved
 * per window, and a budget is overrun by at most the last admitted request's own cost (it was admitted
 * while the spend was below the amount), plus what requests in flight use beyond their estimates.
 *
 * rpm and tpm are sliding-window estimates over one-minute fixed windows (see `sliding-window.ts`);
 * their 429s carry `retryAfterMs`, the time until enough is free. A refused request gives back
 * whatever it had taken. A store failure rejects the admission (fail closed).
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
    const costEstimate = request.estimatedCostNeuron ?? 0n;
    if (typeof costEstimate !== 'bigint' || costEstimate < 0n) {
      throw new GatewayError('internal_error', 'estimatedCostNeuron must be a non-negative bigint of neuron');
    }
    return this.#admit(key, estimate, costEstimate, true);
  }

  /**
   * Admits a request that uses no tokens and costs nothing (`POST /v1/verify`): it counts against
   * `maxConcurrent` and `rpm` only (no model, tpm or budget check). Throws like {@link admit}.
   */
  admitUnmetered(key: AuthenticatedKey): Promise<KeyTicket> {
    return this.#admit(key, 0, 0n, false);
  }

  async #admit(key: AuthenticatedKey, estimate: number, costEstimate: bigint, metered: boolean): Promise<KeyTicket> {
    const { limits } = key;
    this.#takeSlot(key);
    let reservedAt: number | undefined;
    const reservation: Reservation = { tokens: 0n, tokensWindow: 0, spendNeuron: 0n, spendCounter: '', spendWindowMs: RATE_WINDOW_MS, spendAt: 0 };
    try {
      if (limits.rpm !== undefined) reservedAt = await this.#reserveRequest(key.id, limits.rpm);
      if (metered && limits.tpm !== undefined) await this.#reserveTokens(key.id, limits.tpm, estimate, reservation);
      if (metered && limits.budget !== undefined) await this.#reserveBudget(key.id, limits.budget, costEstimate, reservation);
    } catch (error) {
      this.#releaseSlot(key.id);
      if (reservedAt !== undefined) await this.#unreserve(key.id, reservedAt);
      await this.#giveBack(key.id, reservation);
      throw error;
    }
    /** True once the reservation was settled or given back: exactly one of them happens. */
    let settled = false;
    return new KeyTicketImpl(key, {
      release: async () => {
        this.#releaseSlot(key.id);
        if (settled) return;
        settled = true;
        await this.#giveBack(key.id, reservation);
      },
      commit: async (usage, costNeuron) => {
        const held = settled ? undefined : reservation;
        settled = true;
        await this.#commit(key, usage, costNeuron);
        // Recorded first, given back after: a concurrent admission never sees less than the truth.
        if (held) await this.#giveBack(key.id, held);
      },
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

  /** Counts the estimate in the current `tpm` window; gives it back and throws when that is over `tpm`. */
  async #reserveTokens(keyId: string, tpm: number, estimate: number, reservation: Reservation): Promise<void> {
    const need = BigInt(Math.min(Math.max(estimate, 1), tpm));
    const name = keyCounterNames(keyId).tokens;
    const snapshot = await this.#store.snapshot(name, RATE_WINDOW_MS, need);
    const before: WindowSnapshot = { ...snapshot, current: snapshot.current - need };
    if (!exceedsLimit(before, RATE_WINDOW_MS, tpm, need)) {
      reservation.tokens = need;
      reservation.tokensWindow = snapshot.windowStart;
      return;
    }
    await this.#store.decrement(name, need, RATE_WINDOW_MS, snapshot.windowStart).catch(() => undefined);
    throw rateLimited(`${tpm} token${tpm === 1 ? '' : 's'} per minute`, 'tpm', msUntilFits(before, RATE_WINDOW_MS, tpm, need));
  }

  /**
   * Adds the cost estimate to the budget period's counter; gives it back and throws `budget_exceeded`
   * when the spend before it (settled + reserved) had already reached the amount.
   */
  async #reserveBudget(keyId: string, budget: ApiKeyBudget, estimate: bigint, reservation: Reservation): Promise<void> {
    const counter = this.#spend.budgetCounter(keyId, budget);
    const after = estimate > 0n ? await this.#store.increment(counter.name, estimate, counter.windowMs, counter.at) : await this.#store.read(counter.name, counter.windowMs, counter.at);
    if (after - estimate < budget.amount) {
      reservation.spendNeuron = estimate;
      reservation.spendCounter = counter.name;
      reservation.spendWindowMs = counter.windowMs;
      reservation.spendAt = counter.at;
      return;
    }
    if (estimate > 0n) await this.#store.decrement(counter.name, estimate, counter.windowMs, counter.at).catch(() => undefined);
    const resetsAt = counter.resetsAt === null ? null : new Date(counter.resetsAt).toISOString();
    const when = resetsAt === null ? 'it does not reset' : `it resets at ${resetsAt}`;
    throw new GatewayError('budget_exceeded', `This API key has used up its ${PERIOD_ADJECTIVE[budget.period]} budget; ${when}`, {
      ...(counter.resetsAt !== null ? { retryAfterMs: Math.max(1, counter.resetsAt - this.#now()) } : {}),
      details: { period: budget.period, resets_at: resetsAt },
    });
  }

  /** Gives a reservation back to the windows it was taken from (once); a failure leaves it counted until its window passes: stricter, never looser. */
  async #giveBack(keyId: string, reservation: Reservation): Promise<void> {
    const { tokens, spendNeuron } = reservation;
    reservation.tokens = 0n;
    reservation.spendNeuron = 0n;
    await Promise.all([
      tokens > 0n ? this.#store.decrement(keyCounterNames(keyId).tokens, tokens, RATE_WINDOW_MS, reservation.tokensWindow).catch(() => undefined) : undefined,
      spendNeuron > 0n ? this.#store.decrement(reservation.spendCounter, spendNeuron, reservation.spendWindowMs, reservation.spendAt).catch(() => undefined) : undefined,
    ]);
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
