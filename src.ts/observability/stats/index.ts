export { LatencyWindow, type LatencySummary } from './latency-window.js';
export { ProviderStats, type AttemptOutcome, type ProviderLastError, type ProviderStatsOptions, type ProviderStatsView } from './provider-stats.js';
