import type { PreferenceSort } from '../strategies/index.js';
import type { ProviderFilter } from '../routing/route-planner.js';

/** The per-request routing preferences of a validated body, in the core's terms. */
export interface RoutingPreferences {
  filter: ProviderFilter | undefined;
  sort: PreferenceSort | undefined;
}

/** Neuron per token for a price of `value` 0G per million tokens (exact; sub-neuron fractions dropped). */
export function neuronPerTokenFromPerMillion(value: number | string): bigint {
  const text = typeof value === 'number' ? value.toFixed(18) : value;
  const [whole = '0', fraction = ''] = text.split('.');
  // 1 0G per 1M tokens = 10^18 / 10^6 = 10^12 neuron per token.
  const digits = (fraction + '0'.repeat(12)).slice(0, 12);
  return BigInt(whole) * 10n ** 12n + BigInt(digits);
}

interface ProviderPreferences {
  sort?: PreferenceSort;
  only?: string[];
  ignore?: string[];
  require_verifiable?: boolean;
  max_price?: { prompt?: number | string; completion?: number | string };
  require_parameters?: boolean;
}

/** Takes `provider` out of a validated body (it is the gateway's, not the provider's) and reads it. */
export function takeRoutingPreferences(body: Record<string, unknown>): RoutingPreferences {
  const preferences = body.provider as ProviderPreferences | undefined;
  delete body.provider;
  if (!preferences) return { filter: undefined, sort: undefined };
  const lower = (ids: string[] | undefined): Set<string> | undefined => (ids ? new Set(ids.map((id) => id.toLowerCase())) : undefined);
  const filter: ProviderFilter = {
    ...(preferences.only ? { only: lower(preferences.only) as Set<string> } : {}),
    ...(preferences.ignore ? { ignore: lower(preferences.ignore) as Set<string> } : {}),
    ...(preferences.require_verifiable ? { requireVerifiable: true } : {}),
    ...(preferences.require_parameters ? { requireParameters: true } : {}),
    ...(preferences.max_price?.prompt !== undefined ? { maxInputPrice: neuronPerTokenFromPerMillion(preferences.max_price.prompt) } : {}),
    ...(preferences.max_price?.completion !== undefined ? { maxOutputPrice: neuronPerTokenFromPerMillion(preferences.max_price.completion) } : {}),
  };
  return { filter: Object.keys(filter).length > 0 ? filter : undefined, sort: preferences.sort };
}
