import type { Logger } from 'pino';
import { createStrategy, type StrategyName } from './balancer/index.js';
import { ConfiguredFleet } from './catalog/configured-fleet.js';
import type { GatewayConfig, GatewayDependencies, InjectedProvider } from './config/index.js';
import { Gateway } from './gateway/gateway.js';
import type { ProviderMembershipOptions } from './gateway/provider-entry.js';
import { ProviderRegistry } from './gateway/provider-registry.js';
import { UpstreamHttpClient } from './providers/http/upstream-http-client.js';
import type { InferenceProvider } from './providers/inference-provider.js';
import { createStores, type GatewayStores } from './create-stores.js';

/** The core and the parts the server and the handle need besides it. */
export interface GatewayParts {
  gateway: Gateway;
  fleet: ConfiguredFleet;
  client: UpstreamHttpClient;
  /** The state stores (records and pins are the gateway's; the counter store is built for client keys). Close after the gateway. */
  stores: GatewayStores;
}

function membership(config: GatewayConfig, id: string, own: ProviderMembershipOptions = {}): ProviderMembershipOptions {
  const weight = own.weight ?? config.weights[id] ?? Object.entries(config.weights).find(([key]) => key.toLowerCase() === id.toLowerCase())?.[1];
  return { ...own, ...(weight !== undefined ? { weight } : {}) };
}

function injected(entry: InferenceProvider | InjectedProvider): InjectedProvider {
  return 'provider' in entry ? entry : { provider: entry };
}

/**
 * Builds the gateway core from a parsed config and the live dependencies (nothing starts yet).
 * With `store: { type: 'redis' }` this opens the Redis connection: call `stores.close()` after
 * `gateway.close()` (and after closing the counter store, when `stores.counters()` was used).
 */
export function createGateway(config: GatewayConfig, dependencies: GatewayDependencies, logger: Logger): GatewayParts {
  const now = dependencies.now ?? Date.now;
  const client = new UpstreamHttpClient({
    connectTimeoutMs: config.timeouts.connect,
    connectionsPerOrigin: config.upstream.connectionsPerOrigin,
    keepAliveTimeoutMs: config.upstream.keepAliveTimeout,
  });
  const breaker = config.circuitBreaker;
  const registry = new ProviderRegistry({
    logger,
    now,
    breaker: {
      windowMs: breaker.windowMs,
      minimumRequests: breaker.minimumRequests,
      failureRateThreshold: breaker.failureRateThreshold,
      consecutiveFailureThreshold: breaker.consecutiveFailures,
      coolDownMs: breaker.coolDownMs,
      maxRetryAfterMs: breaker.maxRetryAfterMs,
    },
  });
  const fleet = new ConfiguredFleet({
    registry,
    logger,
    client,
    network:
      config.key && config.rpc
        ? {
            privateKey: config.key,
            rpcUrl: config.rpc,
            contracts: { ledger: config.ledgerContract, inference: config.inferenceContract, fineTuning: config.fineTuningContract },
            ...(config.gasPrice !== undefined ? { gasPrice: config.gasPrice } : {}),
            ...(config.chainId !== undefined ? { chainId: config.chainId } : {}),
            ...(config.rpcPollingInterval !== undefined ? { rpcPollingIntervalMs: config.rpcPollingInterval } : {}),
            ...(config.ledgerDeposit !== undefined ? { ledgerDeposit: config.ledgerDeposit } : {}),
            autoFunding: { intervalMs: config.autoFundingInterval },
          }
        : undefined,
    zgProviders: config.providers.map((address) => ({ address, membership: membership(config, address) })),
    openAICompatible: config.openAICompatibleProviders.map(({ name, baseUrl, model, models, apiKey, weight, maxConcurrent, throughput, pool }) => ({
      spec: { name, baseUrl, ...(models ? { models } : model ? { models: [model] } : {}), ...(apiKey ? { apiKey } : {}) },
      membership: membership(config, name, { weight, maxConcurrent, throughput, pool }),
    })),
    injected: (dependencies.providers ?? []).map(injected).map(({ provider, ...own }) => ({ provider, membership: membership(config, provider.id, own) })),
    funding: config.funding,
  });
  const stores = createStores(config, dependencies, logger);
  const gateway = new Gateway({
    logger,
    registry,
    strategy: dependencies.strategy ?? createStrategy(config.strategy as StrategyName),
    responses: stores.responses,
    sessions: stores.sessions,
    fleet,
    routing: { defaultModel: config.defaultModel, modelAliases: config.modelAliases, fallbacks: config.fallbacks },
    maxAttempts: config.maxRetries,
    timeouts: config.timeouts,
    limits: { maxResponseBytes: config.limits.maxResponseBytes, maxSseEventBytes: config.limits.maxSseEventBytes },
    retryBudget: config.retryBudget,
    now,
    ...(dependencies.random ? { random: dependencies.random } : {}),
  });
  return { gateway, fleet, client, stores };
}
