import type { Logger } from 'pino';
import { createStrategy, type BalancingStrategy, type StrategyName } from './strategies/index.js';
import type { GatewayConfig } from './config/index.js';
import type { GatewayCompanion } from './gateway/gateway.js';
import type { ProviderRegistry } from './fleet/provider-registry.js';
import { BackendLoadPoller } from './health/index.js';
import type { UpstreamHttpClient } from './providers/http/upstream-http-client.js';

/** A balancing strategy and what it needs to run beside it (started and closed by its owner). */
export interface ConfiguredStrategy {
  readonly strategy: BalancingStrategy;
  /** For `least-load`: the poller of the backends' metrics. Empty for the other strategies. */
  readonly companions: GatewayCompanion[];
}

/**
 * The strategy the config names, tuned by `strategyOptions`; for `least-load`, with a poller of
 * the backends' metrics (not started: the caller starts it and closes it when the strategy goes).
 */
export function configuredStrategy(
  config: Pick<GatewayConfig, 'strategy' | 'strategyOptions'>,
  registry: ProviderRegistry,
  client: UpstreamHttpClient,
  now: () => number,
  logger: Logger,
): ConfiguredStrategy {
  const tuning = config.strategyOptions;
  const companions: GatewayCompanion[] = [];
  let loadOf: ((providerId: string) => number | undefined) | undefined;
  if (config.strategy === 'least-load') {
    const poller = new BackendLoadPoller({
      targets: () => registry.entries.values(),
      client,
      intervalMs: tuning.metricsInterval,
      timeoutMs: tuning.metricsTimeout,
      path: tuning.metricsPath,
      runningMetric: tuning.runningMetric,
      waitingMetric: tuning.waitingMetric,
      now,
      logger,
      ...(tuning.metricsStaleAfterMs !== undefined ? { staleAfterMs: tuning.metricsStaleAfterMs } : {}),
      ...(tuning.capacityMetric !== undefined ? { capacityMetric: tuning.capacityMetric } : {}),
    });
    companions.push(poller);
    loadOf = (providerId) => poller.loadOf(providerId);
  }
  // `cache-aware` is round-robin behind the affinity layer (which `createGateway` turns on for it).
  const strategy = createStrategy((config.strategy === 'cache-aware' ? 'round-robin' : config.strategy) as StrategyName, {
    explore: tuning.explore,
    staleAfterMs: tuning.staleAfterMs,
    loadThreshold: tuning.loadThreshold,
    now,
    ...(loadOf ? { loadOf } : {}),
  });
  return { strategy, companions };
}
