import type { BalancingStrategy, ProviderSnapshot } from '../balancing-strategy.js';
import { nextInRotation } from './round-robin.js';

/**
 * Least-connections: picks the candidate with the fewest requests in flight.
 *
 * Ties are broken by rotation among the tied candidates (the same cursor as
 * {@link RoundRobinStrategy}: the first tied candidate whose configured index comes after
 * the last pick, wrapping), so idle providers share the load evenly instead of the first
 * one in the list taking every request.
 */
export class LeastConnectionsStrategy implements BalancingStrategy {
  readonly name = 'least-connections';
  #cursor = -1;

  pick(candidates: readonly ProviderSnapshot[]): ProviderSnapshot {
    let fewest = Infinity;
    for (const candidate of candidates) {
      if (candidate.inFlight < fewest) fewest = candidate.inFlight;
    }
    const tied = candidates.filter((candidate) => candidate.inFlight === fewest);
    const chosen = nextInRotation(tied.length > 0 ? tied : candidates, this.#cursor);
    this.#cursor = chosen.index;
    return chosen;
  }
}
