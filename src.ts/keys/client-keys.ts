import type { ApiKeyEntry } from './api-key-schema.js';
import type { BudgetPeriod } from './budget-period.js';
import { ApiKeyRegistry, type ApiKeyPublicView, type AuthenticatedKey } from './api-key-registry.js';
import type { CounterStore } from '../stores/counter-store.js';
import { keyCounterNames, RATE_WINDOW_MS } from './key-counters.js';
import { KeyLimiter, type AdmissionRequest } from './key-limiter.js';
import { KeySpendTracker } from './key-spend-tracker.js';
import type { KeyTicket } from './key-ticket.js';
import { MemoryCounterStore } from '../stores/memory-counter-store.js';
import { slidingUsage } from './sliding-window.js';

/** One key as `GET /admin/keys` shows it: JSON-ready, neuron as decimal strings, no key, no hash. */
export interface KeyView {
  readonly id: string;
  /** 12 hex digits naming the key (not part of its hash). */
  readonly fingerprint: string;
  /** null = unlimited. */
  readonly limits: {
    readonly rpm: number | null;
    readonly tpm: number | null;
    readonly maxConcurrent: number | null;
    readonly models: readonly string[] | null;
    /** The highest admission priority its requests get (X-Priority / user_level are capped at it); null = the queue's default priority. */
    readonly maxPriority: number | null;
    readonly budget: { readonly amount: string; readonly period: BudgetPeriod } | null;
  };
  readonly usage: {
    /** Requests committed with usage, ever. */
    readonly requests: number;
    readonly promptTokens: number;
    readonly completionTokens: number;
    /** In flight in this instance. */
    readonly inFlight: number;
    /** Sliding-window estimates for the last minute (requests admitted; tokens committed, plus those reserved by requests in flight). */
    readonly requestsLastMinute: number;
    readonly tokensLastMinute: number;
  };
  readonly spend: {
    /** Neuron spent, ever. */
    readonly totalNeuron: string;
    /** The current budget period; null when the key has no budget. */
    readonly budget: {
      readonly period: BudgetPeriod;
      readonly spentNeuron: string;
      /** `amount − spent`, never below 0. */
      readonly remainingNeuron: string;
      readonly startedAt: string | null;
      /** When the budget resets (ISO 8601); null for a `total` budget. */
      readonly resetsAt: string | null;
    } | null;
  };
  readonly expiresAt: string | null;
  readonly expired: boolean;
  readonly disabled: boolean;
}

/** Options for {@link ClientKeys}. */
export interface ClientKeysOptions {
  /** The keys (from `parseApiKeys` or `loadKeysFile`). Default: none (every request is refused). */
  keys?: readonly ApiKeyEntry[];
  /** Where counters live. Default: a new {@link MemoryCounterStore} on the same clock. */
  store?: CounterStore;
  /** Clock in epoch ms. Default: `Date.now`. */
  now?: () => number;
}

/**
 * Client keys, limits and budgets in one object, for the server to wire in:
 * `authenticate(header)` → `admit(key, { model, estimatedTokens })` → the request →
 * `ticket.commit(usage, costOf(usage, price))` → `ticket.release()`; and `describeKeys()` for
 * `GET /admin/keys`.
 */
export class ClientKeys {
  readonly registry: ApiKeyRegistry;
  readonly limiter: KeyLimiter;
  readonly spend: KeySpendTracker;
  readonly store: CounterStore;

  constructor(options: ClientKeysOptions = {}) {
    const now = options.now ?? Date.now;
    this.store = options.store ?? new MemoryCounterStore({ now });
    this.registry = new ApiKeyRegistry(options.keys ?? [], { now });
    this.spend = new KeySpendTracker({ store: this.store, now });
    this.limiter = new KeyLimiter({ store: this.store, spend: this.spend, now });
  }

  /** See {@link ApiKeyRegistry.authenticate}. */
  authenticate(authorizationHeader: string | undefined): AuthenticatedKey {
    return this.registry.authenticate(authorizationHeader);
  }

  /** See {@link KeyLimiter.admit}. */
  admit(key: AuthenticatedKey, request: AdmissionRequest): Promise<KeyTicket> {
    return this.limiter.admit(key, request);
  }

  /** See {@link KeyLimiter.admitUnmetered} (`POST /v1/verify`: rpm and maxConcurrent only). */
  admitUnmetered(key: AuthenticatedKey): Promise<KeyTicket> {
    return this.limiter.admitUnmetered(key);
  }

  /** Replaces the keys (configuration reload); see {@link ApiKeyRegistry.replaceAll}. */
  replaceAll(entries: readonly ApiKeyEntry[]): void {
    this.registry.replaceAll(entries);
  }

  /** Every key with its limits, usage and spend, in configuration order: what `/admin/keys` shows. */
  async describeKeys(): Promise<KeyView[]> {
    return Promise.all(this.registry.list().map((key) => this.#describe(key)));
  }

  /** Closes the counter store. */
  close(): Promise<void> {
    return this.store.close();
  }

  async #describe(key: ApiKeyPublicView): Promise<KeyView> {
    const { limits } = key;
    const names = keyCounterNames(key.id);
    const [totals, period, requests, tokens] = await Promise.all([
      this.spend.totals(key.id),
      this.spend.periodSpend(key.id, limits.budget),
      this.store.snapshot(names.requests, RATE_WINDOW_MS),
      this.store.snapshot(names.tokens, RATE_WINDOW_MS),
    ]);
    const budget =
      period === undefined || limits.budget === undefined
        ? null
        : {
            period: period.period,
            spentNeuron: period.spentNeuron.toString(),
            remainingNeuron: (period.spentNeuron >= limits.budget.amount ? 0n : limits.budget.amount - period.spentNeuron).toString(),
            startedAt: period.period === 'total' ? null : new Date(period.startsAt).toISOString(),
            resetsAt: period.resetsAt === null ? null : new Date(period.resetsAt).toISOString(),
          };
    return {
      id: key.id,
      fingerprint: key.fingerprint,
      limits: {
        rpm: limits.rpm ?? null,
        tpm: limits.tpm ?? null,
        maxConcurrent: limits.maxConcurrent ?? null,
        models: limits.models ? [...limits.models] : null,
        maxPriority: limits.maxPriority ?? null,
        budget: limits.budget ? { amount: limits.budget.amount.toString(), period: limits.budget.period } : null,
      },
      usage: {
        requests: Number(totals.requests),
        promptTokens: Number(totals.promptTokens),
        completionTokens: Number(totals.completionTokens),
        inFlight: this.limiter.inFlight(key.id),
        requestsLastMinute: Number(slidingUsage(requests, RATE_WINDOW_MS)),
        tokensLastMinute: Number(slidingUsage(tokens, RATE_WINDOW_MS)),
      },
      spend: { totalNeuron: totals.spendNeuron.toString(), budget },
      expiresAt: key.expiresAt,
      expired: key.expired,
      disabled: key.disabled,
    };
  }
}
