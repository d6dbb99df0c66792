import type { BudgetPeriod } from './budget-period.js';

/** The sliding window of `rpm` and `tpm`: one minute. */
export const RATE_WINDOW_MS = 60_000;

/**
 * The CounterStore names of one key's counters, in one place. Counters are named by the key's id
 * (ids cannot contain `:`), so a key keeps its windows and spend across reloads while its id stays.
 */
export function keyCounterNames(id: string) {
  const base = `apikey:${id}:`;
  return {
    /** Requests admitted, per minute window. */
    requests: base + 'rpm',
    /** Tokens used, per minute window. */
    tokens: base + 'tpm',
    /** Committed requests, ever. */
    totalRequests: base + 'requests',
    totalPromptTokens: base + 'prompt_tokens',
    totalCompletionTokens: base + 'completion_tokens',
    /** Neuron spent, ever. */
    totalSpend: base + 'spend',
    /** Neuron spent in the budget period that starts at `start`. */
    periodSpend: (period: BudgetPeriod, start: number) => `${base}spend:${period}:${start}`,
  } as const;
}
