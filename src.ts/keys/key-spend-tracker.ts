import { GatewayError } from '../errors/index.js';
import type { ApiKeyBudget } from './api-key-schema.js';
import { LONGEST_PERIOD_MS, periodBounds, type BudgetPeriod } from './budget-period.js';
import { checkUsageTokens, type UsageTokens } from './cost.js';
import { TOTAL_WINDOW, type CounterStore } from '../stores/counter-store.js';
import { keyCounterNames } from './key-counters.js';

/** A key's usage since its counters began (they are kept by id). */
export interface KeyTotals {
  /** Requests committed with usage. */
  readonly requests: bigint;
  readonly promptTokens: bigint;
  readonly completionTokens: bigint;
  /** Neuron spent. */
  readonly spendNeuron: bigint;
}

/** A key's spending in its current budget period. */
export interface PeriodSpend {
  readonly period: BudgetPeriod;
  /** Neuron spent in the period. */
  readonly spentNeuron: bigint;
  /** When the period began, epoch ms (0 for `total`). */
  readonly startsAt: number;
  /** When it ends and the budget resets, epoch ms; null for `total` (never). */
  readonly resetsAt: number | null;
}

/** Options for {@link KeySpendTracker}. */
export interface KeySpendTrackerOptions {
  /** Where the counters live; share it with the {@link KeyLimiter}. */
  store: CounterStore;
  /** Clock in epoch ms that budget periods are placed with. Default: `Date.now`. */
  now?: () => number;
}

/**
 * Per-key spend and usage through a {@link CounterStore}: totals in `TOTAL_WINDOW` counters, and
 * the spend of the current budget period (UTC calendar periods) in a counter per period. Spend is in
 * neuron, bigint end to end: the totals are exactly the sum of what was recorded.
 *
 * A budget period's spend is counted only while the key has a budget for that period: a budget added
 * or changed by a reload starts from 0 (its `total` spend is the key's total spend).
 *
 * The budget's counter also holds the cost estimates reserved by requests in flight (see
 * `KeyLimiter`), until each settles: while requests are in flight, the period's spend (and, for a
 * `total` budget, the total spend) reads reserved + settled.
 */
export class KeySpendTracker {
  readonly #store: CounterStore;
  readonly #now: () => number;

  constructor(options: KeySpendTrackerOptions) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Adds one request, its tokens and its cost (neuron) to the key's totals and, when the key has a
   * budget, to the current period. Rejects with GatewayError('internal_error') for invalid usage or a
   * negative cost, before anything is written.
   */
  async record(keyId: string, budget: ApiKeyBudget | undefined, usage: UsageTokens, costNeuron: bigint): Promise<void> {
    checkUsageTokens(usage);
    if (typeof costNeuron !== 'bigint' || costNeuron < 0n) {
      throw new GatewayError('internal_error', 'A request cost must be a non-negative bigint of neuron');
    }
    const names = keyCounterNames(keyId);
    const writes: Array<Promise<bigint>> = [this.#store.increment(names.totalRequests, 1n, TOTAL_WINDOW)];
    if (usage.promptTokens > 0) writes.push(this.#store.increment(names.totalPromptTokens, usage.promptTokens, TOTAL_WINDOW));
    if (usage.completionTokens > 0) writes.push(this.#store.increment(names.totalCompletionTokens, usage.completionTokens, TOTAL_WINDOW));
    if (costNeuron > 0n) {
      writes.push(this.#store.increment(names.totalSpend, costNeuron, TOTAL_WINDOW));
      if (budget !== undefined && budget.period !== 'total') {
        const { start } = periodBounds(budget.period, this.#now());
        writes.push(this.#store.increment(names.periodSpend(budget.period, start), costNeuron, LONGEST_PERIOD_MS[budget.period], start));
      }
    }
    await Promise.all(writes);
  }

  /**
   * The counter a budget is checked and reserved against: the current period's spend (the key's total
   * spend for a `total` budget), with the window it lives in, the time it is placed at, and when the
   * period ends (null: never).
   */
  budgetCounter(keyId: string, budget: ApiKeyBudget): { name: string; windowMs: number; at: number; resetsAt: number | null } {
    const names = keyCounterNames(keyId);
    const { start, end } = periodBounds(budget.period, this.#now());
    if (budget.period === 'total') return { name: names.totalSpend, windowMs: TOTAL_WINDOW, at: 0, resetsAt: null };
    return { name: names.periodSpend(budget.period, start), windowMs: LONGEST_PERIOD_MS[budget.period], at: start, resetsAt: end };
  }

  /**
   * What the key spent in its budget's current period (undefined when it has no budget), the
   * reservations of its requests in flight included.
   */
  async periodSpend(keyId: string, budget: ApiKeyBudget | undefined): Promise<PeriodSpend | undefined> {
    if (budget === undefined) return undefined;
    const names = keyCounterNames(keyId);
    const { start, end } = periodBounds(budget.period, this.#now());
    const spentNeuron =
      budget.period === 'total'
        ? await this.#store.read(names.totalSpend, TOTAL_WINDOW)
        : await this.#store.read(names.periodSpend(budget.period, start), LONGEST_PERIOD_MS[budget.period], start);
    return { period: budget.period, spentNeuron, startsAt: start, resetsAt: end };
  }

  /** The key's totals (all 0n for a key that never committed a request). */
  async totals(keyId: string): Promise<KeyTotals> {
    const names = keyCounterNames(keyId);
    const [requests, promptTokens, completionTokens, spendNeuron] = await Promise.all([
      this.#store.read(names.totalRequests, TOTAL_WINDOW),
      this.#store.read(names.totalPromptTokens, TOTAL_WINDOW),
      this.#store.read(names.totalCompletionTokens, TOTAL_WINDOW),
      this.#store.read(names.totalSpend, TOTAL_WINDOW),
    ]);
    return { requests, promptTokens, completionTokens, spendNeuron };
  }
}
