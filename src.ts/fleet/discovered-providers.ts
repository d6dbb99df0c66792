import type { Logger } from 'pino';
import type { ProviderMembershipOptions } from './provider-entry.js';
import type { ProviderRegistry } from './provider-registry.js';
import type { UpstreamHttpClient } from '../providers/http/upstream-http-client.js';
import type { ModelOffer } from '../providers/inference-provider.js';
import type { ZgNetwork } from '../providers/zg/zg-network.js';
import { ZgProvider } from '../providers/zg/zg-provider.js';
import type { ChainCatalog, CatalogEntry } from './chain-catalog.js';
import { serviceChanged } from './discover-filter.js';

/** What one catalog refresh changed. */
export interface RefreshSummary {
  /** Services registered on chain. */
  services: number;
  /** Services the discover options keep. */
  matching: number;
  /** Services registered since the previous refresh (addresses; all of them on the first one). They are funded only when a request needs them. */
  joined: string[];
  /** Services gone from the chain since the previous refresh. */
  left: string[];
  /** Providers funded and put in rotation by this refresh. */
  added: string[];
  /** Providers of the fleet that left the chain or no longer match: drained, then removed. */
  removed: string[];
  /** Providers whose price, URL, models or signer changed. */
  changed: string[];
  durationMs: number;
}

/** A service of the catalog as `/admin/providers` shows one that is not in the fleet. */
export interface CatalogCandidate {
  address: string;
  models: Array<{ id: string; inputPrice: string; outputPrice: string }>;
  verifiability: string;
  /** Why it is not serving. */
  status: string;
}

export interface DiscoveredProvidersOptions {
  registry: ProviderRegistry;
  logger: Logger;
  client: UpstreamHttpClient;
  network: () => Promise<ZgNetwork>;
  catalog: ChainCatalog;
  /** Most discovered providers funded at once. */
  maxFundedProviders: number;
  /** Lower-case addresses configured explicitly (the configured list manages them). */
  staticIds: ReadonlySet<string>;
  membership: (address: string) => ProviderMembershipOptions;
  /** Takes a provider out of the fleet (drain, stop auto-funding). */
  remove: (id: string, reason: string) => Promise<boolean>;
}

/** How long a provider whose initialisation failed is left alone before it is tried again, ms. */
const RETRY_AFTER_FAILURE_MS = 60_000;

const cheapest = (model: string) => (left: CatalogEntry, right: CatalogEntry): number => {
  const price = (entry: CatalogEntry): bigint => {
    const offer = entry.kept.find((candidate) => candidate.id === model) as ModelOffer;
    return offer.inputPrice + offer.outputPrice;
  };
  const difference = price(left) - price(right);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
};

/**
 * The providers `providers: 'auto' | { discover }` brings from the chain. Each refresh reads the
 * catalog, drains and removes providers that left it (or no longer match), passes changed prices,
 * URLs, models and signers to the providers in the fleet (a changed signer is not trusted until the
 * contract owner acknowledges it), and funds providers lazily: one per model at first, more when a
 * model's providers are all unavailable, never more than `maxFundedProviders`. Funding runs in the
 * background, one transaction at a time; no client request waits for it.
 */
export class DiscoveredProviders {
  readonly #options: DiscoveredProvidersOptions;
  #entries = new Map<string, CatalogEntry>();
  /** Discovered providers funded and in the fleet (lower-case). */
  readonly #funded = new Set<string>();
  /** Why a known provider is not in the fleet (lower-case → reason), and when it last failed. */
  readonly #status = new Map<string, { reason: string; failedAt?: number }>();
  readonly #queued = new Set<string>();
  /** Models whose provider was reclaimed for idleness: a refresh does not fund them again, a request does. */
  readonly #idleModels = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  #refreshing: Promise<RefreshSummary> | undefined;
  #nextRefresh: Promise<RefreshSummary> | undefined;
  #closed = false;

  constructor(options: DiscoveredProvidersOptions) {
    this.#options = options;
  }

  /**
   * Reads the catalog and applies what changed. A refresh asked for while one is under way runs
   * after it (callers asking meanwhile share that one): the one under way may have read the chain
   * before the change the caller wants to see.
   */
  refresh(): Promise<RefreshSummary> {
    if (this.#refreshing) {
      this.#nextRefresh ??= this.#refreshing
        .catch(() => undefined)
        .then(() => {
          this.#nextRefresh = undefined;
          return this.refresh();
        });
      return this.#nextRefresh;
    }
    this.#refreshing = this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Waits for the funding transactions queued so far. */
  settled(): Promise<void> {
    return this.#queue;
  }

  async #refresh(): Promise<RefreshSummary> {
    const started = Date.now();
    const network = await this.#options.network();
    const entries = await this.#options.catalog.read(network);
    const previous = this.#entries;
    const summary: RefreshSummary = {
      services: entries.size,
      matching: 0,
      joined: [...entries].filter(([key]) => !previous.has(key)).map(([, entry]) => entry.service.provider),
      left: [...previous].filter(([key]) => !entries.has(key)).map(([, entry]) => entry.service.provider),
      added: [],
      removed: [],
      changed: [],
      durationMs: 0,
    };
    this.#entries = entries;
    const { registry, logger } = this.#options;
    for (const fleetEntry of registry.list()) {
      const provider = fleetEntry.provider;
      if (!(provider instanceof ZgProvider) || fleetEntry.membership.state !== 'active') continue;
      const key = provider.id.toLowerCase();
      const entry = entries.get(key);
      const discovered = this.#funded.has(key);
      if (!entry || (discovered && entry.excluded)) {
        const reason = entry ? `no longer matches the discover options: ${entry.excluded}` : 'its service left the chain';
        summary.removed.push(provider.id);
        this.#funded.delete(key);
        void this.#options.remove(provider.id, reason);
        continue;
      }
      if (!serviceChanged(provider.service, entry.service)) continue;
      provider.update(entry.service, discovered ? entry.kept : entry.offers);
      summary.changed.push(provider.id);
      logger.info({ event: 'provider_changed', provider: provider.id, url: entry.service.url, models: (discovered ? entry.kept : entry.offers).map((offer) => offer.id) }, 'a provider changed its service');
      if (!entry.service.teeSignerAcknowledged) {
        registry.setTrust(fleetEntry, 'untrusted', 'its TEE signer changed and the contract owner has not acknowledged it');
      } else if (fleetEntry.trust.state === 'untrusted' && fleetEntry.trust.reason?.startsWith('its TEE signer changed')) {
        registry.setTrust(fleetEntry, 'trusted', 'the new TEE signer is acknowledged');
      }
    }
    for (const [key, entry] of entries) {
      if (entry.excluded || this.#options.staticIds.has(key)) continue;
      summary.matching += 1;
      if (!registry.get(key) && !this.#status.has(key)) this.#status.set(key, { reason: 'not funded yet: no request has needed it' });
    }
    // Every model the catalog offers gets one funded provider, within the cap.
    for (const model of this.models().keys()) if (!this.#covered(model) && !this.#idleModels.has(model)) summary.added.push(...this.#fund(model));
    summary.durationMs = Date.now() - started;
    logger.info({ event: 'catalog_refreshed', ...summary }, 'catalog refreshed');
    return summary;
  }

  /** The models the discovered catalog offers, with how many matching services offer each. */
  models(): Map<string, number> {
    const models = new Map<string, number>();
    for (const entry of this.#entries.values()) {
      if (entry.excluded) continue;
      for (const offer of entry.kept) models.set(offer.id, (models.get(offer.id) ?? 0) + 1);
    }
    return models;
  }

  /** A request found no available provider for `model`: fund another one in the background, if the cap allows. */
  demand(model: string): void {
    if (this.#closed) return;
    this.#idleModels.delete(model);
    this.#fund(model);
  }

  /** A provider left to reclaim its idle funds: its models are funded again on demand only, not by the next refresh. */
  rest(models: readonly string[]): void {
    for (const model of models) this.#idleModels.add(model);
  }

  #covered(model: string): boolean {
    for (const entry of this.#options.registry.entries.values()) if (entry.isAvailable() && entry.serves(model, Date.now())) return true;
    return false;
  }

  /** Queues funding of the cheapest known provider of `model` not yet in the fleet; returns what it queued. */
  #fund(model: string): string[] {
    const now = Date.now();
    const candidates = [...this.#entries.entries()]
      .filter(([key, entry]) => {
        if (entry.excluded || this.#options.staticIds.has(key) || this.#queued.has(key) || this.#options.registry.get(key)) return false;
        const failedAt = this.#status.get(key)?.failedAt;
        return (failedAt === undefined || now - failedAt > RETRY_AFTER_FAILURE_MS) && entry.kept.some((offer) => offer.id === model);
      })
      .map(([, entry]) => entry)
      .sort(cheapest(model));
    const next = candidates[0];
    if (!next) return [];
    const key = next.service.provider.toLowerCase();
    if (this.#funded.size + this.#queued.size >= this.#options.maxFundedProviders) {
      if (this.#status.get(key)?.reason !== 'not funded: maxFundedProviders reached') {
        this.#options.logger.warn({ event: 'funding_cap_reached', model, provider: next.service.provider, maxFundedProviders: this.#options.maxFundedProviders }, 'a model needs another provider but the funding cap is reached');
      }
      this.#status.set(key, { reason: 'not funded: maxFundedProviders reached' });
      return [];
    }
    this.#queued.add(key);
    this.#status.set(key, { reason: 'being funded' });
    this.#queue = this.#queue.then(() => this.#initialise(next));
    return [next.service.provider];
  }

  async #initialise(entry: CatalogEntry): Promise<void> {
    const address = entry.service.provider;
    const key = address.toLowerCase();
    const { logger, registry } = this.#options;
    try {
      if (this.#closed) return;
      const network = await this.#options.network();
      const provider = await network.initProvider(address, this.#options.client, entry.kept);
      if (this.#closed) return;
      registry.add(provider, this.#options.membership(address), 'discovered');
      this.#funded.add(key);
      this.#status.delete(key);
      logger.info({ event: 'provider_funded', provider: address, models: entry.kept.map((offer) => offer.id), funded: this.#funded.size, cap: this.#options.maxFundedProviders }, 'funded a discovered provider');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#status.set(key, { reason: `initialisation failed: ${message}`, failedAt: Date.now() });
      logger.warn({ event: 'provider_init_failed', provider: address, reason: message }, 'a discovered provider could not be initialised');
    } finally {
      this.#queued.delete(key);
    }
  }

  /** Known services that are not in the fleet, with why. */
  candidates(): CatalogCandidate[] {
    const out: CatalogCandidate[] = [];
    for (const [key, entry] of this.#entries) {
      if (this.#options.registry.get(key) || this.#options.staticIds.has(key)) continue;
      out.push({
        address: entry.service.provider,
        models: (entry.kept.length > 0 ? entry.kept : entry.offers).map((offer) => ({ id: offer.id, inputPrice: offer.inputPrice.toString(), outputPrice: offer.outputPrice.toString() })),
        verifiability: entry.service.verifiability,
        status: entry.excluded ? `left out: ${entry.excluded}` : (this.#status.get(key)?.reason ?? 'not funded yet'),
      });
    }
    return out;
  }

  /** Forgets a provider removed by the operator (it may be funded again later). */
  forget(id: string): void {
    this.#funded.delete(id.toLowerCase());
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#refreshing?.catch(() => undefined);
    await this.#queue;
  }
}
