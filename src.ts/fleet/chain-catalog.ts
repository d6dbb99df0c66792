import type { Logger } from 'pino';
import type { UpstreamHttpClient } from '../providers/http/upstream-http-client.js';
import type { ModelOffer } from '../providers/inference-provider.js';
import { serviceModels } from '../providers/zg/provider-models.js';
import type { ZgNetwork } from '../providers/zg/zg-network.js';
import type { ZgService } from '../providers/zg/zg-service.js';
import { filterService, type DiscoverOptions } from './discover-filter.js';

/** One service of the chain's catalog, as the gateway sees it. */
export interface CatalogEntry {
  readonly service: ZgService;
  /** Every model it offers (for a multi-model service: its `/v1/models`). */
  readonly offers: readonly ModelOffer[];
  /** The models the discover options keep (empty when excluded). */
  readonly kept: readonly ModelOffer[];
  /** Why the discover options leave it out, or null. */
  readonly excluded: string | null;
}

/** Most provider catalogs fetched at once during a refresh. */
const FETCH_CONCURRENCY = 8;

/**
 * Reads the chain's catalog: every registered service (all pages of `getAllServices`, read-only),
 * the per-model catalog of each multi-model service (fetched again only when its service
 * changed), and what the discover options keep of each.
 */
export class ChainCatalog {
  readonly #client: UpstreamHttpClient;
  readonly #logger: Logger;
  #options: DiscoverOptions;
  /**
   * Model catalogs already fetched, by provider, with the fingerprint of the service they were read
   * for: `updatedAt` alone is not enough (the chain's clock has a one-second grain, and two updates
   * in one second keep it), so every field the offers depend on is part of it.
   */
  readonly #models = new Map<string, { fingerprint: string; offers: readonly ModelOffer[] }>();

  readonly #checkUrl: ((url: string) => Promise<void>) | undefined;

  /** `checkUrl` vets a service's self-published URL before its catalog is fetched (scheme, deny list); a refused service is excluded. */
  constructor(client: UpstreamHttpClient, logger: Logger, options: DiscoverOptions, checkUrl?: (url: string) => Promise<void>) {
    this.#client = client;
    this.#checkUrl = checkUrl;
    this.#logger = logger;
    this.#options = options;
  }

  /** Replaces the discover options (config reload); applied at the next read. */
  configure(options: DiscoverOptions): void {
    this.#options = options;
  }

  /** The catalog now, by lower-case provider address. Rejects with `chain_error` when the chain cannot be read. */
  async read(network: ZgNetwork): Promise<Map<string, CatalogEntry>> {
    const services = await network.directory.listAll();
    const entries = new Map<string, CatalogEntry>();
    let next = 0;
    const work = async (): Promise<void> => {
      while (next < services.length) {
        const service = services[next++] as ZgService;
        entries.set(service.provider.toLowerCase(), await this.#entry(service));
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, services.length) }, work));
    return entries;
  }

  async #entry(service: ZgService): Promise<CatalogEntry> {
    const key = service.provider.toLowerCase();
    const fingerprint = serviceFingerprint(service);
    const cached = this.#models.get(key);
    let offers = cached?.fingerprint === fingerprint ? cached.offers : undefined;
    if (!offers) {
      try {
        await this.#checkUrl?.(service.url);
      } catch {
        return { service, offers: [], kept: [], excluded: 'its service URL is refused (scheme or deny list)' };
      }
      try {
        offers = await serviceModels(this.#client, service, AbortSignal.timeout(5000));
        this.#models.set(key, { fingerprint, offers });
      } catch (error) {
        this.#logger.warn({ event: 'catalog_models_unreadable', provider: service.provider, err: error }, 'a multi-model provider did not list its models');
        return { service, offers: [], kept: [], excluded: 'its model catalog (/v1/models) could not be read' };
      }
    }
    const result = filterService(service, offers, this.#options);
    return { service, offers, kept: result.offers, excluded: result.excluded };
  }
}

/** Everything of a service its model offers are derived from. */
function serviceFingerprint(service: ZgService): string {
  return [service.updatedAt, service.url, service.model, service.inputPrice, service.outputPrice, service.additionalInfo].join('\n');
}
