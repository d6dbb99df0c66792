export type { AttemptOutcome, BalancingStrategy, PickContext, ProviderSnapshot } from './balancing-strategy.js';
export {
  LoadBalancer,
  type LatencySummary,
  type Lease,
  type LeaseError,
  type LeaseOutcome,
  type LoadBalancerOptions,
  type LoadBalancerProvider,
  type PickOptions,
  type ProviderLastError,
  type ProviderStats,
} from './load-balancer.js';
export {
  createStrategy,
  isStrategyName,
  LeastConnectionsStrategy,
  RoundRobinStrategy,
  STRATEGY_NAMES,
  WeightedRoundRobinStrategy,
  type StrategyName,
} from './strategies/index.js';
