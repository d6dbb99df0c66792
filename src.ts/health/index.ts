export { CircuitBreaker, type BreakerState, type BreakerTransition, type CircuitBreakerOptions, type OpenReason } from './circuit-breaker.js';
export { RetryBudget } from './retry-budget.js';
export { PeriodicTask } from './periodic-task.js';
export { SlidingCounts } from './sliding-counts.js';
