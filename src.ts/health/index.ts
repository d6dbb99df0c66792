export { CircuitBreaker, type BreakerState, type BreakerTransition, type CircuitBreakerOptions, type OpenReason } from './circuit-breaker.js';
export { BackendLoadPoller, type BackendLoadPollerOptions, type BackendLoadReading, type LoadTarget } from './backend-load-poller.js';
export { parsePrometheusText, parsePrometheusValue, sumOfSamples, type PrometheusSample, type PrometheusText } from './prometheus-text.js';
