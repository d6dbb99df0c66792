import type { BalancingStrategy, ProviderSnapshot } from '../balancing-strategy.js';

/**
 * Weighted round-robin, the "smooth" variant nginx uses.
 *
 * On each pick every candidate's running score grows by its weight; the candidate with the
 * highest score is chosen (ties: the lower configured index) and its score drops by the sum
 * of the candidates' weights. Over every full cycle (the sum of the weights, in picks) each
 * provider is picked exactly `weight` times, and the picks are spread out: weights 3 and 1
 * give A A B A, A A B A…, weights 3, 1 and 1 give A B A C A…
 *
 * Scores are kept per provider id. A provider that is not a candidate on a pick (excluded
 * or unhealthy) keeps its score unchanged: it does not accumulate while absent.
 * Weights are taken from the snapshots (>= 1, default 1 in the balancer).
 */
export class WeightedRoundRobinStrategy implements BalancingStrategy {
  readonly name = 'weighted-round-robin';
  readonly #scores = new Map<string, number>();

  pick(candidates: readonly ProviderSnapshot[]): ProviderSnapshot {
    let totalWeight = 0;
    let chosen: ProviderSnapshot | undefined;
    let chosenScore = -Infinity;
    for (const candidate of candidates) {
      totalWeight += candidate.weight;
      const score = (this.#scores.get(candidate.id) ?? 0) + candidate.weight;
      this.#scores.set(candidate.id, score);
      if (chosen === undefined || score > chosenScore || (score === chosenScore && candidate.index < chosen.index)) {
        chosen = candidate;
        chosenScore = score;
      }
    }
    if (chosen === undefined) throw new RangeError('WeightedRoundRobinStrategy.pick needs at least one candidate');
    this.#scores.set(chosen.id, chosenScore - totalWeight);
    return chosen;
  }
}
