import type { BalancingStrategy, ProviderSnapshot } from '../balancing-strategy.js';

/**
 * Among `candidates`, the one whose configured index comes first after `cursor`,
 * wrapping around to the lowest index when none comes after it.
 * Does not rely on the candidates being sorted. `candidates` must not be empty.
 * @internal
 */
export function nextInRotation(candidates: readonly ProviderSnapshot[], cursor: number): ProviderSnapshot {
  let after: ProviderSnapshot | undefined;
  let lowest: ProviderSnapshot | undefined;
  for (const candidate of candidates) {
    if (lowest === undefined || candidate.index < lowest.index) lowest = candidate;
    if (candidate.index > cursor && (after === undefined || candidate.index < after.index)) after = candidate;
  }
  const chosen = after ?? lowest;
  if (chosen === undefined) throw new RangeError('nextInRotation needs at least one candidate');
  return chosen;
}

/**
 * Round-robin: rotates over the providers in their configured order.
 *
 * It remembers the index of the provider it picked last and picks the first candidate
 * whose index comes after it, wrapping around. With providers 0, 1 and 2 it yields
 * 0, 1, 2, 0, 1, 2…; while 1 is excluded or unhealthy it yields 0, 2, 0, 2…; when 1 is a
 * candidate again it rejoins the rotation at its place, without any provider being
 * picked twice in a row because of it.
 *
 * The cursor starts before the first provider, so the first pick is the lowest index.
 */
export class RoundRobinStrategy implements BalancingStrategy {
  readonly name = 'round-robin';
  #cursor = -1;

  pick(candidates: readonly ProviderSnapshot[]): ProviderSnapshot {
    const chosen = nextInRotation(candidates, this.#cursor);
    this.#cursor = chosen.index;
    return chosen;
  }
}
