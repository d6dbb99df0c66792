import { serviceTypeOf, type ServiceType } from '../providers/inference-provider.js';
import { estimateCost } from '../providers/model-pricing.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';
import type { RoutePlanner } from '../routing/route-planner.js';

import { ASSUMED_COMPLETION_TOKENS } from '../routing/request-needs.js';

export { ASSUMED_COMPLETION_TOKENS };

/**
 * An upper bound of what a request may cost, neuron, before it is placed: the most expensive offer
 * among the fleet's providers of the model it names (after aliases) and of its fallbacks the key may
 * use, for its prompt estimate and `maxTokens` completion tokens (or {@link ASSUMED_COMPLETION_TOKENS}).
 * Tiered prices are applied. 0n when no such provider states a price (a model served only through the
 * catalog, or free upstreams). With `serviceType`, only offers of that type count (model groups are per
 * type). Never throws: an unknown model is the planner's error to raise.
 */
export function estimateRequestCost(
  registry: ProviderRegistry,
  planner: RoutePlanner,
  requestedModel: string,
  promptTokens: number,
  maxTokens: number | undefined,
  mayUse?: (model: string) => boolean,
  serviceType?: ServiceType,
): bigint {
  const primary = planner.resolve(requestedModel);
  const models = new Set([primary]);
  for (const fallback of planner.options.fallbacks?.[primary] ?? []) {
    const resolved = planner.resolve(fallback);
    if (mayUse === undefined || mayUse(resolved)) models.add(resolved);
  }
  let highest = 0n;
  for (const entry of registry.entries.values()) {
    for (const offer of entry.descriptor.models) {
      if (!models.has(offer.id) || (serviceType !== undefined && serviceTypeOf(offer) !== serviceType)) continue;
      const cost = estimateCost(offer, promptTokens, maxTokens, ASSUMED_COMPLETION_TOKENS);
      if (cost > highest) highest = cost;
    }
  }
  return highest;
}
