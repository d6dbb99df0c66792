import { GatewayError } from '../../errors/index.js';
import type { BalancingStrategy } from '../balancing-strategy.js';
import { LeastConnectionsStrategy } from './least-connections.js';
import { LeastLoadStrategy } from './least-load.js';
import { LowestPriceStrategy } from './lowest-price.js';
import { MinExpectedLatencyStrategy } from './min-expected-latency.js';
import { MinObservedLatencyStrategy } from './min-observed-latency.js';
import { RandomStrategy } from './random.js';
import { RoundRobinStrategy } from './round-robin.js';
import { UsageBasedStrategy } from './usage-based.js';
import { WeightedRoundRobinStrategy } from './weighted-round-robin.js';

export { LeastConnectionsStrategy } from './least-connections.js';
export { LeastLoadStrategy, type LeastLoadOptions } from './least-load.js';
export { LowestPriceStrategy, estimatedCostOn } from './lowest-price.js';
export { preferenceStrategies, type PreferenceSort } from './preference-sort.js';
export { MinExpectedLatencyStrategy } from './min-expected-latency.js';
export { MinObservedLatencyStrategy, type MinObservedLatencyOptions } from './min-observed-latency.js';
export { RandomStrategy } from './random.js';
export { RoundRobinStrategy } from './round-robin.js';
export { UsageBasedStrategy, type UsageBasedOptions } from './usage-based.js';
export { WeightedRoundRobinStrategy } from './weighted-round-robin.js';

/** The names of the built-in balancing strategies, as configuration spells them. */
export const STRATEGY_NAMES = [
  'round-robin',
  'least-connections',
  'weighted-round-robin',
  'random',
  'min-expected-latency',
  'min-observed-latency',
  'least-load',
  'usage-based',
  'lowest-price',
] as const;

/** The name of a built-in balancing strategy. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** What the strategies that need more than the candidates are built with; each takes only its own. */
export interface StrategyOptions {
  /** `min-observed-latency`: probability of measuring another provider than the fastest. Default 0.05. */
  explore?: number;
  /** `min-observed-latency`: a latency figure older than this counts as unknown, ms. Default 60000. */
  staleAfterMs?: number;
  /** `least-load`: providers below this load are preferred. Default 0.5. */
  loadThreshold?: number;
  /** `least-load`: a provider's load as its backend reports it (undefined: no fresh reading). Default: none. */
  loadOf?: (providerId: string) => number | undefined;
  /** Clock for outcomes (`min-observed-latency`, `usage-based`), ms. Default `Date.now`. */
  now?: () => number;
}

/** True when `value` names a built-in balancing strategy. */
export function isStrategyName(value: unknown): value is StrategyName {
  return typeof value === 'string' && (STRATEGY_NAMES as readonly string[]).includes(value);
}

/**
 * A new, stateless-at-start instance of the named built-in strategy, built with the options it uses.
 * Throws GatewayError('invalid_config') for a name that is not one of {@link STRATEGY_NAMES}.
 */
export function createStrategy(name: StrategyName, options: StrategyOptions = {}): BalancingStrategy {
  const clock = options.now ? { now: options.now } : {};
  switch (name) {
    case 'round-robin':
      return new RoundRobinStrategy();
    case 'least-connections':
      return new LeastConnectionsStrategy();
    case 'weighted-round-robin':
      return new WeightedRoundRobinStrategy();
    case 'random':
      return new RandomStrategy();
    case 'lowest-price':
      return new LowestPriceStrategy();
    case 'min-expected-latency':
      return new MinExpectedLatencyStrategy();
    case 'min-observed-latency':
      return new MinObservedLatencyStrategy({
        ...clock,
        ...(options.explore !== undefined ? { explore: options.explore } : {}),
        ...(options.staleAfterMs !== undefined ? { staleAfterMs: options.staleAfterMs } : {}),
      });
    case 'least-load':
      return new LeastLoadStrategy({
        ...(options.loadOf ? { loadOf: options.loadOf } : {}),
        ...(options.loadThreshold !== undefined ? { threshold: options.loadThreshold } : {}),
      });
    case 'usage-based':
      return new UsageBasedStrategy(clock);
    default:
      throw new GatewayError('invalid_config', `Unknown balancing strategy "${String(name)}"; expected one of ${STRATEGY_NAMES.join(', ')}`, {
        param: 'strategy',
      });
  }
}
