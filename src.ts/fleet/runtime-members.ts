import type { Logger } from 'pino';
import { GatewayError } from '../errors/index.js';
import type { FleetControl, NodeChange, UpstreamNode } from './fleet-source.js';
import type { ProviderMembershipOptions } from './provider-entry.js';
import type { ProviderRegistry } from './provider-registry.js';
import { isHeaderSafe, ProviderUrlPolicy, urlHasCredentials } from '../providers/http/provider-url.js';
import type { ConfiguredFleet } from './configured-fleet.js';

/** A node URL as an id and a base URL: no trailing slash; the base URL ends with `/v1`. */
export function normaliseNodeUrl(url: string): { id: string; baseUrl: string } {
  const trimmed = url.trim().replace(/\/+$/, '');
  const id = trimmed.replace(/\/v1$/, '');
  return { id, baseUrl: `${id}/v1` };
}

/** Options for {@link RuntimeMembers}. */
export interface RuntimeMembersOptions {
  fleet: ConfiguredFleet;
  registry: ProviderRegistry;
  logger: Logger;
  /** Where nodes may point (scheme, deny list), checked before anything connects. Default: http/https, link-local and metadata addresses refused. */
  urlPolicy?: ProviderUrlPolicy;
}

/**
 * The fleet changed at run time through the node API and the admin routes: nodes (plain
 * OpenAI-compatible servers, registered by their URL, as lmdeploy's proxy does) and 0G providers by
 * address. Adding a URL already in the fleet updates it in place (membership options, models); a
 * new API key replaces it (the old one drains, then the new one joins under the same id).
 * Changes to one id are applied one after another.
 */
export class RuntimeMembers implements FleetControl {
  readonly #options: RuntimeMembersOptions;
  readonly #keys = new Map<string, string | undefined>();
  readonly #pending = new Map<string, Promise<unknown>>();

  readonly #urlPolicy: ProviderUrlPolicy;

  constructor(options: RuntimeMembersOptions) {
    this.#options = options;
    this.#urlPolicy = options.urlPolicy ?? new ProviderUrlPolicy();
  }

  nodeId(url: string): string {
    const byName = this.#options.registry.get(url);
    if (byName) return byName.id;
    const { id, baseUrl } = normaliseNodeUrl(url);
    // A configured upstream is known by its name: found by its URL too.
    for (const entry of this.#options.registry.entries.values()) if (entry.descriptor.endpoint === baseUrl) return entry.id;
    return id;
  }

  /**
   * Adds or updates a node. Its URL is vetted first, before anything connects to it: http or https
   * only, no user name or password (use `apiKey`: a URL is shown in status pages, metrics and
   * headers), and not on the deny list; its name (or URL, its id otherwise) must be header-safe.
   * Rejects with 400 `invalid_request` naming `url` or `name`.
   */
  async upsertNode(node: UpstreamNode, membership: ProviderMembershipOptions): Promise<NodeChange> {
    if (urlHasCredentials(node.url)) {
      throw new GatewayError('invalid_request', 'The URL carries a user name or password; give the credential as `apiKey` (sent as `Authorization: Bearer`, never shown)', { param: 'url' });
    }
    await this.#urlPolicy.check(node.url, 'url');
    const { id, baseUrl } = normaliseNodeUrl(node.url);
    const name = node.name ?? id;
    if (!isHeaderSafe(name) || name.trim() === '') {
      throw new GatewayError('invalid_request', 'The node name must be visible ASCII characters (no CR, LF or other control character): it is sent as the X-Provider-Address header', { param: node.name !== undefined ? 'name' : 'url' });
    }
    return this.#serialised(name.toLowerCase(), () => this.#upsert(name, baseUrl, node, membership));
  }

  async #upsert(name: string, baseUrl: string, node: UpstreamNode, membership: ProviderMembershipOptions): Promise<NodeChange> {
    const { registry, fleet, logger } = this.#options;
    const spec = { name, baseUrl, ...(node.models ? { models: node.models } : {}), ...(node.apiKey ? { apiKey: node.apiKey } : {}) };
    const existing = registry.get(name);
    if (existing && existing.membership.state === 'active') {
      const sameEndpoint = existing.descriptor.endpoint === baseUrl;
      const sameKey = node.apiKey === undefined || this.#keys.get(existing.id.toLowerCase()) === node.apiKey;
      const provider = existing.provider as { setModels?: (models: readonly string[]) => void };
      if (sameEndpoint && sameKey && (node.models === undefined || provider.setModels)) {
        if (node.models) provider.setModels?.(node.models);
        registry.configure(existing.id, membership);
        logger.info({ event: 'node_updated', provider: existing.id }, 'node updated');
        return { id: existing.id, action: 'updated' };
      }
      await fleet.remove(existing.id, 'replaced through the node API');
      fleet.addOpenAICompatible(spec, { ...this.#membershipOf(existing), ...membership }, 'replaced');
      this.#keys.set(name.toLowerCase(), node.apiKey);
      return { id: name, action: 'replaced' };
    }
    // A draining entry of that name leaves first (its requests finish), then the node joins again.
    if (existing) await registry.remove(existing.id, 'replaced through the node API');
    fleet.addOpenAICompatible(spec, membership, 'added through the node API');
    this.#keys.set(name.toLowerCase(), node.apiKey);
    return { id: name, action: 'added' };
  }

  addZg(address: string, membership: ProviderMembershipOptions): Promise<string> {
    return this.#serialised(address.toLowerCase(), () => this.#options.fleet.addZg(address, membership));
  }

  async remove(id: string, reason: string): Promise<boolean> {
    const entry = this.#options.registry.get(id);
    const removed = await this.#options.fleet.remove(entry?.id ?? id, reason);
    if (removed) this.#keys.delete((entry?.id ?? id).toLowerCase());
    return removed;
  }

  #membershipOf(entry: { weight: number } & Omit<ProviderMembershipOptions, 'weight'>): ProviderMembershipOptions {
    const { weight, maxConcurrent, throughput, pool, capacity, rpm, tpm } = entry;
    return { weight, maxConcurrent, throughput, pool, capacity, rpm, tpm };
  }

  /** Runs `change` after any earlier change to the same id. */
  #serialised<T>(key: string, change: () => Promise<T>): Promise<T> {
    const previous = this.#pending.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(change);
    const settled = run.catch(() => undefined);
    this.#pending.set(key, settled);
    void settled.then(() => {
      if (this.#pending.get(key) === settled) this.#pending.delete(key);
    });
    return run;
  }
}

/** The error a node API call gets for an id not in the fleet. */
export function unknownMember(id: string, param: string): GatewayError {
  return new GatewayError('provider_not_found', `No provider ${id} in the fleet`, { param });
}
