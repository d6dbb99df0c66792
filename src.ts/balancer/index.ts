export { chosenOf, type BalancingStrategy, type PickContext, type PickDecision, type PickRequest, type ProviderSnapshot } from './balancing-strategy.js';
export {
  createStrategy,
  isStrategyName,
  LeastConnectionsStrategy,
  LeastLoadStrategy,
  MinExpectedLatencyStrategy,
  MinObservedLatencyStrategy,
  RandomStrategy,
  RoundRobinStrategy,
  STRATEGY_NAMES,
  UsageBasedStrategy,
  WeightedRoundRobinStrategy,
  type LeastLoadOptions,
  type MinObservedLatencyOptions,
  type StrategyName,
  type StrategyOptions,
  type UsageBasedOptions,
} from './strategies/index.js';
