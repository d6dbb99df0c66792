import type { Logger } from 'pino';
import { BillingService } from './billing/index.js';
import { createStrategy, type BalancingStrategy, type StrategyName } from './balancer/index.js';
import { ConfiguredFleet } from './catalog/configured-fleet.js';
import { aliasTable, providerSelection, type GatewayConfig, type GatewayDependencies, type InjectedProvider } from './config/index.js';
import { Gateway, type GatewayCompanion } from './gateway/gateway.js';
import type { ProviderMembershipOptions } from './gateway/provider-entry.js';
import { ProviderRegistry } from './gateway/provider-registry.js';
import { BackendLoadPoller } from './health/index.js';
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
  /** Settlement auditing and idle funds (a companion of the gateway: started and closed with it). */
  billing: BillingService;
}

function membership(config: GatewayConfig, id: string, own: ProviderMembershipOptions = {}): ProviderMembershipOptions {
  const weight = own.weight ?? config.weights[id] ?? Object.entries(config.weights).find(([key]) => key.toLowerCase() === id.toLowerCase())?.[1];
  return { ...own, ...(weight !== undefined ? { weight } : {}) };
}

function injected(entry: InferenceProvider | InjectedProvider): InjectedProvider {
  return 'provider' in entry ? entry : { provider: entry };
}

/** The configured strategy, with what it needs: for `least-load`, a poller of the backends' metrics (started and closed with the gateway). */
function configuredStrategy(
  config: GatewayConfig,
  registry: ProviderRegistry,
  client: UpstreamHttpClient,
  now: () => number,
  logger: Logger,
): { strategy: BalancingStrategy; companions: GatewayCompanion[] } {
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
  const strategy = createStrategy(config.strategy as StrategyName, {
    explore: tuning.explore,
    staleAfterMs: tuning.staleAfterMs,
    loadThreshold: tuning.loadThreshold,
    now,
    ...(loadOf ? { loadOf } : {}),
  });
  return { strategy, companions };
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
  const selection = providerSelection(config);
  const { aliases, hidden } = aliasTable(config);
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
    zgProviders: selection.addresses.map((address) => ({ address, membership: membership(config, address) })),
    discovery: selection.discover
      ? { options: selection.discover, refreshIntervalMs: config.catalogRefreshInterval, maxFundedProviders: config.maxFundedProviders, membership: (address) => membership(config, address) }
      : undefined,
    openAICompatible: config.openAICompatibleProviders.map(({ name, baseUrl, model, models, apiKey, weight, maxConcurrent, throughput, pool, capacity, rpm, tpm }) => ({
      spec: { name, baseUrl, ...(models ? { models } : model ? { models: [model] } : {}), ...(apiKey ? { apiKey } : {}) },
      membership: membership(config, name, { weight, maxConcurrent, throughput, pool, capacity, rpm, tpm }),
    })),
    injected: (dependencies.providers ?? []).map(injected).map(({ provider, ...own }) => ({ provider, membership: membership(config, provider.id, own) })),
    funding: config.funding,
  });
  // Before the stores: a billing state file that cannot be read stops the start-up with nothing to close.
  const billingOptions = config.billing;
  const billing = new BillingService({
    registry,
    logger,
    network: () => fleet.network,
    park: (id, reason) => fleet.park(id, reason),
    fundingSummary: () => fleet.fundingSummary(),
    stateFile: billingOptions.stateFile,
    reconcileIntervalMs: billingOptions.reconcileInterval,
    tolerance: { absolute: BigInt(billingOptions.tolerance.absolute), relative: billingOptions.tolerance.relative },
    reclaimAfterMs: billingOptions.reclaimAfter,
    maxBlockRange: billingOptions.maxBlockRange,
    startBlock: billingOptions.startBlock,
    // Instances sharing state (Redis, or an injected counter store) share the wallet: served fees are counted fleet-wide.
    sharedServed: () => (config.store.type === 'redis' || dependencies.counterStore ? stores.counters() : undefined),
    now,
  });
  const stores = createStores(config, dependencies, logger);
  const { strategy, companions } = dependencies.strategy ? { strategy: dependencies.strategy, companions: [] } : configuredStrategy(config, registry, client, now, logger);
  const gateway = new Gateway({
    logger,
    registry,
    strategy,
    companions: [...companions, billing],
    responses: stores.responses,
    sessions: stores.sessions,
    fleet,
    routing: { defaultModel: config.defaultModel, modelAliases: aliases, hiddenAliases: hidden, fallbacks: config.fallbacks, catalogModels: () => fleet.catalogModels(), requireVerifiable: config.requireVerifiable },
    maxAttempts: config.maxRetries,
    timeouts: config.timeouts,
    limits: { maxResponseBytes: config.limits.maxResponseBytes, maxSseEventBytes: config.limits.maxSseEventBytes },
    retryBudget: config.retryBudget,
    trust: { sampleRate: config.verifySampleRate, coolDownMs: config.trustCoolDownMs },
    now,
    ...(dependencies.random ? { random: dependencies.random } : {}),
  });
  // Billing hears of every served answer from the core; the core does not know billing.
  gateway.onServed((entry, answer) => billing.recordServed(entry, answer));
  return { gateway, fleet, client, stores, billing };
}
