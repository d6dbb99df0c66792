import { estimateCost } from '../../providers/model-pricing.js';
import type { BalancingStrategy, PickContext, PickDecision, ProviderSnapshot } from '../balancing-strategy.js';
import { nextInRotation } from './round-robin.js';

/** The estimated cost of the request on `candidate`, neuron; undefined when it states no price for the model. */
export function estimatedCostOn(candidate: ProviderSnapshot, context: PickContext): bigint | undefined {
  const { model, promptTokens, maxTokens } = context.request;
  const offer = candidate.descriptor.models.find((entry) => entry.id === model);
  if (!offer) return candidate.descriptor.models.length === 0 ? 0n : undefined;
  return estimateCost(offer, promptTokens, maxTokens);
}

/**
 * Lowest price: the candidate on which this request is expected to cost least, from its on-chain
 * (or catalog) input and output prices for the requested model, tiered pricing included, with the
 * prompt's estimated size and `max_tokens` (256 completion tokens when the client sets no bound).
 * Ties (equal prices) go to the least loaded, then by rotation.
 *
 * Optimises: spend. Choose it when providers of one model differ in price and cost matters more
 * than latency; pair it with fallbacks so a failing cheapest provider is not the end of it. The
 * reason is `lowest-price: <neuron> neuron (est.)`.
 */
export class LowestPriceStrategy implements BalancingStrategy {
  readonly name = 'lowest-price';
  #cursor = -1;

  pick(candidates: readonly ProviderSnapshot[], context: PickContext): PickDecision {
    let best: bigint | undefined;
    const costs = candidates.map((candidate) => estimatedCostOn(candidate, context));
    for (const cost of costs) if (cost !== undefined && (best === undefined || cost < best)) best = cost;
    const cheapest = candidates.filter((_, index) => costs[index] === best);
    const pool = cheapest.length > 0 ? cheapest : candidates;
    let fewest = Infinity;
    for (const candidate of pool) fewest = Math.min(fewest, candidate.inFlight);
    const chosen = nextInRotation(
      pool.filter((candidate) => candidate.inFlight === fewest),
      this.#cursor,
    );
    this.#cursor = chosen.index;
    return { provider: chosen, reason: best === undefined ? 'lowest-price: no price stated' : `lowest-price: ${best} neuron (est.)` };
  }
}
