import { GatewayError } from '../errors/index.js';

/** Tokens a request used, as the provider reported them. */
export interface UsageTokens {
  /** Input tokens, a non-negative integer. */
  readonly promptTokens: number;
  /** Output tokens, a non-negative integer. */
  readonly completionTokens: number;
}

/** A provider's price per token, in neuron (1 0G = 10^18 neuron), as registered on chain. */
export interface TokenPrice {
  readonly inputPerToken: bigint;
  readonly outputPerToken: bigint;
}

/**
 * What a request cost in neuron, exactly: `promptTokens × inputPerToken + completionTokens ×
 * outputPerToken`, in bigint arithmetic (no floating point). Throws GatewayError('internal_error')
 * for token counts that are not non-negative integers or negative prices.
 */
export function costOf(usage: UsageTokens, price: TokenPrice): bigint {
  checkUsageTokens(usage);
  if (price.inputPerToken < 0n || price.outputPerToken < 0n) {
    throw new GatewayError('internal_error', 'Token prices must not be negative');
  }
  return BigInt(usage.promptTokens) * price.inputPerToken + BigInt(usage.completionTokens) * price.outputPerToken;
}

/** Throws GatewayError('internal_error') unless both counts are non-negative safe integers. */
export function checkUsageTokens(usage: UsageTokens): void {
  for (const field of ['promptTokens', 'completionTokens'] as const) {
    const value = usage[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new GatewayError('internal_error', `Usage ${field} must be a non-negative integer, got ${String(value)}`);
    }
  }
}
