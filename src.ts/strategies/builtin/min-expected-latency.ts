import type { BalancingStrategy, PickDecision, ProviderSnapshot } from '../balancing-strategy.js';
import { averageDeclaredThroughput, routeFigure } from './declared-throughput.js';
import { nextInRotation } from './round-robin.js';

/**
 * Minimum expected latency (lmdeploy's `min_expected_latency`): the candidate expected to finish
 * a new request soonest, `(in flight + 1) ÷ throughput`.
 *
 * Optimises: queueing delay across providers of known, different speeds: a provider twice as
 * fast takes about twice the concurrent requests. Choose it when you can declare each provider's
 * `throughput` (requests/s, or any relative figure) and load is bursty; with no throughput
 * declared it is least-connections.
 *
 * A candidate that declares no throughput counts as the average of those declared (1 when none
 * does). Candidates whose figures are equal (within one part in a billion) share by rotation, like
 * {@link LeastConnectionsStrategy}. Weights are not used. The reason is
 * `min-expected-latency: 0.0667` (the chosen one's figure, in the throughput's time unit).
 */
export class MinExpectedLatencyStrategy implements BalancingStrategy {
  readonly name = 'min-expected-latency';
  #cursor = -1;

  pick(candidates: readonly ProviderSnapshot[]): PickDecision {
    const standIn = averageDeclaredThroughput(candidates) ?? 1;
    let best = Infinity;
    for (const candidate of candidates) best = Math.min(best, expectedLatency(candidate, standIn));
    const limit = best * (1 + 1e-9);
    const tied = candidates.filter((candidate) => expectedLatency(candidate, standIn) <= limit);
    const chosen = nextInRotation(tied.length > 0 ? tied : candidates, this.#cursor);
    this.#cursor = chosen.index;
    return { provider: chosen, reason: `min-expected-latency: ${routeFigure(expectedLatency(chosen, standIn))}` };
  }
}

function expectedLatency(candidate: ProviderSnapshot, standIn: number): number {
  return (candidate.inFlight + 1) / (candidate.throughput ?? standIn);
}
