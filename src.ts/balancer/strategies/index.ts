import { GatewayError } from '../../errors/index.js';
import type { BalancingStrategy } from '../balancing-strategy.js';
import { LeastConnectionsStrategy } from './least-connections.js';
import { RoundRobinStrategy } from './round-robin.js';
import { WeightedRoundRobinStrategy } from './weighted-round-robin.js';

export { LeastConnectionsStrategy } from './least-connections.js';
export { RoundRobinStrategy } from './round-robin.js';
export { WeightedRoundRobinStrategy } from './weighted-round-robin.js';

/** The names of the built-in balancing strategies, as configuration spells them. */
export const STRATEGY_NAMES = ['round-robin', 'least-connections', 'weighted-round-robin'] as const;

/** The name of a built-in balancing strategy. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** True when `value` names a built-in balancing strategy. */
export function isStrategyName(value: unknown): value is StrategyName {
  return typeof value === 'string' && (STRATEGY_NAMES as readonly string[]).includes(value);
}

/**
 * A new, stateless-at-start instance of the named built-in strategy.
 * Throws GatewayError('invalid_config') for a name that is not one of {@link STRATEGY_NAMES}.
 */
export function createStrategy(name: StrategyName): BalancingStrategy {
  switch (name) {
    case 'round-robin':
      return new RoundRobinStrategy();
    case 'least-connections':
      return new LeastConnectionsStrategy();
    case 'weighted-round-robin':
      return new WeightedRoundRobinStrategy();
    default:
      throw new GatewayError('invalid_config', `Unknown balancing strategy "${String(name)}"; expected one of ${STRATEGY_NAMES.join(', ')}`, {
        param: 'strategy',
      });
  }
}
