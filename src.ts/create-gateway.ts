import type { Logger } from 'pino';
import { BillingService } from './billing/index.js';
import { ConfiguredFleet } from './fleet/configured-fleet.js';
import { aliasTable, configuredProviderName, providerSelection, type GatewayConfig, type GatewayDependencies, type InjectedProvider } from './config/index.js';
import { Gateway, type GatewayCompanion } from './gateway/gateway.js';
import type { RoutePlannerOptions } from './routing/route-planner.js';
import type { ProviderMembershipOptions } from './fleet/provider-entry.js';
import { ProviderRegistry } from './fleet/provider-registry.js';
import { UpstreamHttpClient } from './providers/http/upstream-http-client.js';
import { ProviderUrlPolicy } from './providers/http/provider-url.js';
import type { InferenceProvider } from './providers/inference-provider.js';
import { createStores, type GatewayStores } from './create-stores.js';
import { configuredStrategy } from './configured-strategy.js';
import type { AffinitySettings } from './affinity/index.js';

/** The core and the parts the server and the handle need besides it. */
export interface GatewayParts {
  gateway: Gateway;
  fleet: ConfiguredFleet;
  client: UpstreamHttpClient;
  /** The state stores (records and pins are the gateway's; the counter store is built for client keys). Close after the gateway. */
  stores: GatewayStores;
  /** Settlement auditing and idle funds (a companion of the gateway: started and closed with it). */
  billing: BillingService;
  /** What runs beside the configured strategy (the `least-load` poller), started and closed by the gateway. */
  strategyCompanions: readonly GatewayCompanion[];
  /** Makes providers discovered from now on take their weight from `config` (after a reload). */
  useWeightsOf(config: Pick<GatewayConfig, 'weights'>): void;
}

/** How provider `id` takes part in the fleet: its own options, its weight from them or from the `weights` map (ids case-insensitive). */
export function providerMembership(config: Pick<GatewayConfig, 'weights'> & Partial<Pick<GatewayConfig, 'providers'>>, id: string, own: ProviderMembershipOptions = {}): ProviderMembershipOptions {
  const weight = own.weight ?? config.weights[id] ?? Object.entries(config.weights).find(([key]) => key.toLowerCase() === id.toLowerCase())?.[1];
  const name = own.name ?? configuredProviderName(config.providers, id);
  return { ...own, ...(weight !== undefined ? { weight } : {}), ...(name !== undefined ? { name } : {}) };
}

/** The route planner's options from the config: default model, aliases (hidden ones apart), fallbacks, requireVerifiable. */
export function routingOptions(config: GatewayConfig, catalogModels: () => ReadonlyMap<string, number>): RoutePlannerOptions {
  const { aliases, hidden } = aliasTable(config);
  return { defaultModel: config.defaultModel, modelAliases: aliases, hiddenAliases: hidden, fallbacks: config.fallbacks, contextWindowFallbacks: config.contextWindowFallbacks, catalogModels, requireVerifiable: config.requireVerifiable, pools: config.pools };
}

/** The deny list of provider URLs (node API, chain-published URLs) from the `providerUrls` option. */
export function providerUrlPolicy(config: Pick<GatewayConfig, 'providerUrls'>): ProviderUrlPolicy {
  return new ProviderUrlPolicy({ allowLinkLocal: config.providerUrls.allowLinkLocal, deny: config.providerUrls.deny });
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
  let weightsFrom: Pick<GatewayConfig, 'weights'> = config;
  const client = new UpstreamHttpClient({
    connectTimeoutMs: config.timeouts.connect,
    connectionsPerOrigin: config.upstream.connectionsPerOrigin,
    keepAliveTimeoutMs: config.upstream.keepAliveTimeout,
  });
  const selection = providerSelection(config);
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
  const urlPolicy = providerUrlPolicy(config);
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
            // Providers publish their own URL on chain: vetted like a node's before any request or funds.
            checkServiceUrl: (url: string) => urlPolicy.check(url, 'url'),
          }
        : undefined,
    zgProviders: selection.addresses.map((address) => ({ address, membership: providerMembership(config, address) })),
    discovery: selection.discover
      ? { options: selection.discover, refreshIntervalMs: config.catalogRefreshInterval, maxFundedProviders: config.maxFundedProviders, membership: (address) => providerMembership(weightsFrom, address) }
      : undefined,
    openAICompatible: config.openAICompatibleProviders.map(({ name, baseUrl, model, models, apiKey, capabilities, weight, maxConcurrent, throughput, pool, capacity, rpm, tpm }) => ({
      spec: { name, baseUrl, ...(models ? { models } : model ? { models: [model] } : {}), ...(apiKey ? { apiKey } : {}), ...(capabilities ? { capabilities } : {}) },
      membership: providerMembership(config, name, { weight, maxConcurrent, throughput, pool, capacity, rpm, tpm }),
    })),
    injected: (dependencies.providers ?? []).map(injected).map(({ provider, ...own }) => ({ provider, membership: providerMembership(config, provider.id, own) })),
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
  const affinity: AffinitySettings = config.affinity;
  // The shared index is opened when the layer may be used: on, or `cache-aware` (which a reload may also switch to: then it runs on the local index).
  const affinityUsed = config.affinity.enabled || config.strategy === 'cache-aware';
  const { strategy, companions } = dependencies.strategy ? { strategy: dependencies.strategy, companions: [] } : configuredStrategy(config, registry, client, now, logger);
  const gateway = new Gateway({
    logger,
    registry,
    strategy,
    companions: [...companions, billing],
    responses: stores.responses,
    sessions: stores.sessions,
    fleet,
    routing: routingOptions(config, () => fleet.catalogModels()),
    maxAttempts: config.maxRetries,
    timeouts: config.timeouts,
    limits: {
      maxResponseBytes: config.limits.maxResponseBytes,
      maxSseEventBytes: config.limits.maxSseEventBytes,
      maxPreambleBytes: config.limits.maxPreambleBytes,
      maxPreambleEvents: config.limits.maxPreambleEvents,
    },
    retryBudget: config.retryBudget,
    retryPolicy: config.retryPolicy,
    trust: { sampleRate: config.verifySampleRate, coolDownMs: config.trustCoolDownMs },
    queue: config.queue,
    affinity: { settings: affinity, shared: affinityUsed ? stores.prefixes() : undefined },
    now,
    ...(dependencies.random ? { random: dependencies.random } : {}),
  });
  gateway.affinity.followStrategy(config.strategy);
  // Billing hears of every served answer from the core; the core does not know billing.
  gateway.onServed((entry, answer) => billing.recordServed(entry, answer));
  return { gateway, fleet, client, stores, billing, strategyCompanions: companions, useWeightsOf: (next) => void (weightsFrom = next) };
}
