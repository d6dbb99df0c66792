import type { BalancingStrategy, PickContext, PickDecision, ProviderSnapshot } from '../balancing-strategy.js';
import { LowestPriceStrategy } from './lowest-price.js';
import { nextInRotation } from './round-robin.js';

/** What a client may ask the gateway to sort providers by, per request (`provider.sort`). */
export type PreferenceSort = 'price' | 'latency' | 'throughput';

/**
 * Picks by one figure, best first; a candidate without the figure yet is tried first (so every
 * provider gets measured), ties by rotation.
 */
class FigureSort implements BalancingStrategy {
  readonly name: string;
  readonly #figure: (candidate: ProviderSnapshot) => number | undefined;
  readonly #higherIsBetter: boolean;
  readonly #unit: string;
  #cursor = -1;

  constructor(name: string, figure: (candidate: ProviderSnapshot) => number | undefined, higherIsBetter: boolean, unit: string) {
    this.name = name;
    this.#figure = figure;
    this.#higherIsBetter = higherIsBetter;
    this.#unit = unit;
  }

  pick(candidates: readonly ProviderSnapshot[]): PickDecision {
    const unmeasured = candidates.filter((candidate) => this.#figure(candidate) === undefined);
    if (unmeasured.length > 0) {
      const chosen = nextInRotation(unmeasured, this.#cursor);
      this.#cursor = chosen.index;
      return { provider: chosen, reason: `${this.name}: not measured yet` };
    }
    const sign = this.#higherIsBetter ? -1 : 1;
    let best = Infinity;
    for (const candidate of candidates) best = Math.min(best, sign * (this.#figure(candidate) as number));
    const chosen = nextInRotation(
      candidates.filter((candidate) => sign * (this.#figure(candidate) as number) === best),
      this.#cursor,
    );
    this.#cursor = chosen.index;
    return { provider: chosen, reason: `${this.name}: ${Math.round(sign * best * 10) / 10} ${this.#unit}` };
  }
}

/**
 * The strategy a per-request `provider.sort` stands for: `price` → lowest estimated cost,
 * `latency` → lowest observed time to first byte, `throughput` → highest observed output tokens/s.
 * One instance each per gateway (they keep a rotation cursor for ties).
 */
export function preferenceStrategies(): Record<PreferenceSort, BalancingStrategy> {
  return {
    price: new LowestPriceStrategy(),
    latency: new FigureSort('sort-latency', (candidate) => candidate.stats.ewmaTtfbMs, false, 'ms'),
    throughput: new FigureSort('sort-throughput', (candidate) => candidate.stats.outputTokensPerSecond, true, 'tokens/s'),
  };
}

export type { PickContext };
