import type { Logger } from 'pino';
import { GatewayError, toGatewayError } from '../errors/index.js';
import type { FailedProvider, FleetSource } from './fleet-source.js';
import type { ProviderMembershipOptions } from './provider-entry.js';
import type { ProviderRegistry } from './provider-registry.js';
import type { UpstreamHttpClient } from '../providers/http/upstream-http-client.js';
import type { InferenceProvider } from '../providers/inference-provider.js';
import { OpenAICompatibleProvider, type OpenAICompatibleModel } from '../providers/openai-compatible/openai-compatible-provider.js';
import { urlHasCredentials } from '../providers/http/provider-url.js';
import { ZgNetwork, type ZgNetworkOptions } from '../providers/zg/zg-network.js';
import { PeriodicTask } from '../internal/periodic-task.js';
import { FundingKeeper, type FundingSummary } from './funding-keeper.js';
import { ChainCatalog } from './chain-catalog.js';
import type { DiscoverOptions } from './discover-filter.js';
import { DiscoveredProviders, type CatalogCandidate, type RefreshSummary } from './discovered-providers.js';

/** A plain OpenAI-compatible upstream to serve. */
export interface OpenAICompatibleSpec {
  name: string;
  baseUrl: string;
  models?: readonly OpenAICompatibleModel[];
  apiKey?: string;
  /** Features it serves for every model (`tools`, `json_schema`, `vision`, `logprobs`); absent: not said. */
  capabilities?: readonly string[];
}

/** Options for {@link ConfiguredFleet}. */
export interface ConfiguredFleetOptions {
  registry: ProviderRegistry;
  logger: Logger;
  client: UpstreamHttpClient;
  /** How to reach the 0G network; needed for 0G providers (configured or added later). */
  network?: ZgNetworkOptions | undefined;
  /** 0G provider addresses, with how each takes part. */
  zgProviders: ReadonlyArray<{ address: string; membership: ProviderMembershipOptions }>;
  openAICompatible: ReadonlyArray<{ spec: OpenAICompatibleSpec; membership: ProviderMembershipOptions }>;
  /** Providers built by the caller (custom adapters, test doubles). */
  injected: ReadonlyArray<{ provider: InferenceProvider; membership: ProviderMembershipOptions }>;
  /** Keeping 0G sub-accounts funded. */
  funding: { ledgerFloor: number; topUpCooldownMs: number; checkIntervalMs: number };
  /** Serving the chain's catalog: which services, how often it is read, how many may be funded. */
  discovery?: { options: DiscoverOptions; refreshIntervalMs: number; maxFundedProviders: number; membership: (address: string) => ProviderMembershipOptions } | undefined;
}

/**
 * The fleet as configured: 0G providers by address (initialised through one wallet, one at a
 * time, refused before any funds move when they cannot serve), plain OpenAI-compatible
 * upstreams and injected providers. Providers that fail to initialise are listed in `failed` and
 * tried again on every tick. Providers can be added and removed at run time.
 */
export class ConfiguredFleet implements FleetSource {
  readonly #options: ConfiguredFleetOptions;
  readonly #failed = new Map<string, FailedProvider & { membership: ProviderMembershipOptions }>();
  /** Configured 0G providers parked to reclaim their funds (lower-case id): brought back when a request needs one of their models. */
  readonly #dormant = new Map<string, { address: string; membership: ProviderMembershipOptions; models: readonly string[] }>();
  #waking: Promise<unknown> = Promise.resolve();
  #network: ZgNetwork | undefined;
  #connecting: Promise<ZgNetwork> | undefined;
  #closed = false;
  readonly #funding: FundingKeeper;
  readonly #fundingTask: PeriodicTask;
  readonly #discovered: DiscoveredProviders | undefined;
  readonly #catalogTask: PeriodicTask | undefined;

  constructor(options: ConfiguredFleetOptions) {
    this.#options = options;
    this.#funding = new FundingKeeper({
      registry: options.registry,
      network: () => this.#network,
      logger: options.logger,
      topUpCooldownMs: options.funding.topUpCooldownMs,
      ledgerFloor: options.funding.ledgerFloor,
    });
    this.#fundingTask = new PeriodicTask(() => this.#funding.tick(), options.funding.checkIntervalMs);
    const discovery = options.discovery;
    if (discovery) {
      this.#discovered = new DiscoveredProviders({
        registry: options.registry,
        logger: options.logger,
        client: options.client,
        network: () => this.#connect(),
        catalog: new ChainCatalog(options.client, options.logger, discovery.options, options.network?.checkServiceUrl),
        maxFundedProviders: discovery.maxFundedProviders,
        staticIds: new Set(options.zgProviders.map(({ address }) => address.toLowerCase())),
        membership: discovery.membership,
        remove: (id, reason) => this.remove(id, reason),
      });
      this.#catalogTask = new PeriodicTask(
        async () => void (await this.#discovered?.refresh()),
        discovery.refreshIntervalMs,
        (error) => options.logger.warn({ event: 'catalog_refresh_failed', err: error }, 'the chain catalog could not be read; keeping the fleet as it is'),
      );
    }
  }

  /** Reads the chain's catalog now and applies the changes (`POST /admin/catalog/refresh`); undefined without discovery. */
  async refreshCatalog(): Promise<RefreshSummary | undefined> {
    return this.#discovered?.refresh();
  }

  /** A request found no available provider for `model`: one parked provider of it comes back (else discovery funds another, if it can). */
  demand(model: string): void {
    for (const [key, dormant] of this.#dormant) {
      if (!dormant.models.includes(model)) continue;
      this.#dormant.delete(key);
      // Lazily, like discovery: one per demand, one wallet transaction at a time; a failure lists it under `failed` (retried on ticks).
      this.#waking = this.#waking.then(() => !this.#closed && this.#tryZg(dormant.address, dormant.membership, true));
      return;
    }
    this.#discovered?.demand(model);
  }

  /** Models offered by discovered services not (yet) in the fleet, and by parked providers, with how many offer each. */
  catalogModels(): ReadonlyMap<string, number> {
    const models = new Map(this.#discovered?.models() ?? []);
    for (const dormant of this.#dormant.values()) for (const model of dormant.models) models.set(model, (models.get(model) ?? 0) + 1);
    return models;
  }

  /**
   * Takes a 0G provider out of the fleet so its funds can be reclaimed (idle): it drains and leaves,
   * auto-funding stops, a discovered provider frees its `maxFundedProviders` slot, and a configured one
   * is parked; either is initialised and funded again when a request needs one of its models. False when unknown.
   */
  async park(id: string, reason: string): Promise<boolean> {
    const entry = this.#options.registry.get(id);
    if (!entry) return false;
    const configured = this.#options.zgProviders.find(({ address }) => address.toLowerCase() === entry.id.toLowerCase());
    const models = entry.descriptor.models.map((offer) => offer.id);
    const removed = await this.remove(entry.id, reason);
    if (removed && configured) this.#dormant.set(entry.id.toLowerCase(), { ...configured, models });
    else if (removed) this.#discovered?.rest(models);
    return removed;
  }

  /** Discovered services not in the fleet, with why. */
  candidates(): CatalogCandidate[] {
    return this.#discovered?.candidates() ?? [];
  }

  /** Resolves when discovery's queued funding transactions are done (for tests and scripts). */
  async discoverySettled(): Promise<void> {
    await this.#discovered?.settled();
  }

  /** A request was refused for want of funds: look for a deposit and re-check the providers that need funds now (at most once a second). */
  fundsWanted(): void {
    this.#funding.nudge();
  }

  /** Ledger and sub-account balances as last read, and the providers that need funds. */
  fundingSummary(): FundingSummary | undefined {
    return this.#funding.summary();
  }

  get failed(): FailedProvider[] {
    return [...this.#failed.values()].map(({ address, code, message, at }) => ({ address, code, message, at }));
  }

  /** The 0G network connection, once made. */
  get network(): ZgNetwork | undefined {
    return this.#network;
  }

  async start(): Promise<void> {
    const { registry, zgProviders, openAICompatible, injected } = this.#options;
    for (const { provider, membership } of injected) registry.add(provider, membership, 'injected');
    for (const { spec, membership } of openAICompatible) this.addOpenAICompatible(spec, membership);
    if (zgProviders.length > 0) {
      await this.#connect();
      // One at a time: the SDK sends transactions from one wallet without a nonce manager.
      for (const { address, membership } of zgProviders) await this.#tryZg(address, membership, false);
    }
    if (this.#discovered) {
      await this.#connect();
      await this.#discovered.refresh();
      await this.#discovered.settled();
      this.#catalogTask?.start(false);
    }
    if (this.#network) {
      this.#fundingTask.start();
      void this.#funding.refreshAccounts();
    }
    if (registry.size === 0) {
      const failed = this.failed;
      throw new GatewayError('no_provider_initialised', `None of the ${failed.length} configured providers could be initialised: ${failed.map((entry) => `${entry.address}: ${entry.message}`).join('; ')}`, {
        details: { failedProviders: failed },
      });
    }
  }

  #connect(): Promise<ZgNetwork> {
    if (this.#network) return Promise.resolve(this.#network);
    const options = this.#options.network;
    if (!options) return Promise.reject(new GatewayError('invalid_config', 'A 0G provider needs a wallet key and an RPC URL (options key and rpc)', { param: 'key' }));
    this.#connecting ??= ZgNetwork.connect(options, this.#options.logger).then(
      (network) => {
        this.#network = network;
        this.#options.logger.info({ event: 'wallet_connected', wallet: network.walletAddress }, 'connected the 0G wallet');
        return network;
      },
      (error: unknown) => {
        this.#connecting = undefined;
        throw error;
      },
    );
    return this.#connecting;
  }

  /** One attempt to put a 0G provider in service; a failure is recorded and logged, never thrown. */
  async #tryZg(address: string, membership: ProviderMembershipOptions, retry: boolean): Promise<boolean> {
    const { registry, logger, client } = this.#options;
    try {
      const network = await this.#connect();
      const provider = await network.initProvider(address, client);
      if (this.#closed) return false;
      this.#failed.delete(address.toLowerCase());
      registry.add(provider, membership, retry ? 'initialised on retry' : 'configured');
      logger.info({ event: 'provider_ready', provider: address, endpoint: provider.descriptor.endpoint, models: provider.descriptor.models.map((offer) => offer.id), retry }, 'provider initialised');
      return true;
    } catch (thrown) {
      const error = toGatewayError(thrown);
      this.#failed.set(address.toLowerCase(), { address, code: error.code, message: error.message, at: new Date().toISOString(), membership });
      // A retry that fails again is routine; the first failure is what an operator needs to see.
      logger[retry ? 'debug' : 'warn']({ event: 'provider_init_failed', provider: address, code: error.code, reason: error.message, retry }, 'provider kept out of rotation');
      return false;
    }
  }

  /** Retries providers that failed to initialise, one at a time, and reads the sub-accounts. */
  async tick(): Promise<void> {
    for (const failure of [...this.#failed.values()]) {
      if (this.#closed) return;
      await this.#tryZg(failure.address, failure.membership, true);
    }
    await this.#funding.refreshAccounts();
  }

  /** Adds a 0G provider at run time (initialised now). Rejects with why when it cannot serve. */
  async addZg(address: string, membership: ProviderMembershipOptions = {}): Promise<string> {
    if (this.#options.registry.get(address)) throw new GatewayError('invalid_request', `Provider ${address} is already in the fleet`, { param: 'address' });
    const network = await this.#connect();
    const provider = await network.initProvider(address, this.#options.client);
    this.#failed.delete(address.toLowerCase());
    this.#dormant.delete(address.toLowerCase());
    this.#options.registry.add(provider, membership, 'added');
    this.#fundingTask.start();
    return provider.id;
  }

  /** Adds a plain OpenAI-compatible upstream. */
  addOpenAICompatible(spec: OpenAICompatibleSpec, membership: ProviderMembershipOptions = {}, reason = 'configured'): string {
    if (urlHasCredentials(spec.baseUrl)) {
      this.#options.logger.warn({ event: 'provider_url_credentials_dropped', provider: spec.name }, `the URL of provider ${spec.name} has a user name or password: dropped (never sent, never shown); use apiKey`);
    }
    const provider = new OpenAICompatibleProvider({
      name: spec.name,
      baseUrl: spec.baseUrl,
      ...(spec.models ? { models: spec.models } : {}),
      ...(spec.apiKey ? { apiKey: spec.apiKey } : {}),
      ...(spec.capabilities ? { capabilities: spec.capabilities } : {}),
      client: this.#options.client,
    });
    this.#options.registry.add(provider, membership, reason);
    return provider.id;
  }

  /** Takes a provider out (draining it first); a 0G provider's auto-funding stops. False when unknown. */
  async remove(id: string, reason = 'removed'): Promise<boolean> {
    const failure = this.#failed.get(id.toLowerCase());
    if (failure || this.#dormant.delete(id.toLowerCase())) {
      this.#failed.delete(id.toLowerCase());
      return true;
    }
    const removed = await this.#options.registry.remove(id, reason);
    if (removed) {
      this.#network?.forget(id);
      this.#discovered?.forget(id);
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#waking.catch(() => undefined);
    await this.#catalogTask?.stop();
    await this.#discovered?.close();
    await this.#fundingTask.stop();
    this.#funding.stop();
    await this.#connecting?.catch(() => undefined);
    await this.#network?.close();
  }
}
