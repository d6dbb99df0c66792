export { chosenOf, type BalancingStrategy, type PickContext, type PickDecision, type PickRequest, type ProviderSnapshot } from './balancing-strategy.js';
export {
  createStrategy,
  isStrategyName,
  LeastConnectionsStrategy,
  RoundRobinStrategy,
  STRATEGY_NAMES,
  WeightedRoundRobinStrategy,
  type StrategyName,
} from './strategies/index.js';
