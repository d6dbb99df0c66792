import type { BalancingStrategy, PickContext, PickDecision, ProviderSnapshot } from '../balancing-strategy.js';
import { averageDeclaredThroughput, routeFigure } from './declared-throughput.js';

/**
 * Random, weighted by declared throughput (lmdeploy's `random`, LiteLLM's `simple-shuffle`).
 *
 * Optimises: spreading load in proportion to what each provider says it can do, with no shared
 * state, so several gateway instances in front of one fleet stay balanced without talking.
 * Choose it when providers differ in size and you know roughly how (declare `throughput`), or as a
 * stateless default for many instances.
 *
 * Each candidate's share is `throughput × weight`. A candidate that declares no throughput counts
 * as the average of those declared; when none declares one, every candidate counts as 1, so the
 * pick is uniform (times `weight`). One `context.random()` draw per pick selects along the
 * cumulative shares, in joining order. The reason is `random: share 0.43` (the chosen one's
 * probability).
 */
export class RandomStrategy implements BalancingStrategy {
  readonly name = 'random';

  pick(candidates: readonly ProviderSnapshot[], context: PickContext): PickDecision {
    const standIn = averageDeclaredThroughput(candidates) ?? 1;
    let total = 0;
    for (const candidate of candidates) total += shareOf(candidate, standIn);
    let point = context.random() * total;
    let chosen: ProviderSnapshot | undefined;
    let chosenShare = 0;
    for (const candidate of candidates) {
      const share = shareOf(candidate, standIn);
      chosen = candidate;
      chosenShare = share;
      if (point < share) break;
      point -= share;
    }
    if (chosen === undefined) throw new RangeError('RandomStrategy.pick needs at least one candidate');
    return { provider: chosen, reason: `random: share ${routeFigure(total > 0 ? chosenShare / total : 1 / candidates.length)}` };
  }
}

function shareOf(candidate: ProviderSnapshot, standIn: number): number {
  return (candidate.throughput ?? standIn) * candidate.weight;
}
