import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { ConfiguredFleet, OpenAICompatibleSpec } from '../fleet/configured-fleet.js';
import { providerAddress, type GatewayConfig } from '../config/index.js';
import { providerMembership } from '../create-gateway.js';
import { toGatewayError } from '../errors/index.js';
import type { ProviderMembershipOptions } from '../fleet/provider-entry.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';

/** What a reload did to the fleet (provider ids). */
export interface FleetChangeReport {
  /** Joined now. */
  readonly added: string[];
  /** Draining now: no new requests; they leave when their in-flight requests finish. */
  readonly removed: string[];
  /** Endpoint, models or API key changed: the old one drains, then the new one joins under the same id. */
  readonly replaced: string[];
  /** Weight, maxConcurrent, throughput, pool, capacity, rpm or tpm changed in place. */
  readonly reconfigured: string[];
  /** Could not join (e.g. a 0G provider that cannot be initialised), with why. */
  readonly failed: Array<{ readonly id: string; readonly code: string; readonly message: string }>;
}

/** What a fleet change works on. */
export interface FleetChangeTarget {
  readonly fleet: ConfiguredFleet;
  readonly registry: ProviderRegistry;
  readonly logger: Logger;
  /** The config wanted now (a replacement that finishes draining after a later reload checks it is still wanted). */
  readonly desired: () => GatewayConfig;
}

type Upstream = GatewayConfig['openAICompatibleProviders'][number];

const REASON = 'config reload';

function upstreamsByName(config: GatewayConfig): Map<string, Upstream> {
  return new Map(config.openAICompatibleProviders.map((upstream) => [upstream.name.toLowerCase(), upstream]));
}

function specOf({ name, baseUrl, model, models, apiKey, capabilities }: Upstream): OpenAICompatibleSpec {
  return { name, baseUrl, ...(models ? { models } : model ? { models: [model] } : {}), ...(apiKey ? { apiKey } : {}), ...(capabilities ? { capabilities } : {}) };
}

/** Every membership field, absent ones explicitly undefined so `configure` clears them. */
function fullMembership(config: GatewayConfig, upstream: Upstream): ProviderMembershipOptions {
  const { maxConcurrent, throughput, pool, capacity, rpm, tpm } = upstream;
  return { weight: providerMembership(config, upstream.name, { weight: upstream.weight }).weight ?? 1, maxConcurrent, throughput, pool, capacity, rpm, tpm };
}

/** Adds an upstream once any entry of the same id has drained, if the config still wants it then. */
function addWhenFree(target: FleetChangeTarget, name: string, drained: Promise<unknown>): void {
  void drained
    .then(() => {
      const upstream = upstreamsByName(target.desired()).get(name.toLowerCase());
      if (!upstream || target.registry.get(upstream.name)) return;
      target.fleet.addOpenAICompatible(specOf(upstream), fullMembership(target.desired(), upstream), REASON);
    })
    .catch((error: unknown) => target.logger.error({ event: 'provider_add_failed', provider: name, err: error }, 'a provider of the reloaded config could not join'));
}

function drain(target: FleetChangeTarget, id: string): Promise<boolean> {
  const removal = target.fleet.remove(id, REASON);
  removal.catch((error: unknown) => target.logger.error({ event: 'provider_remove_failed', provider: id, err: error }, 'a provider could not be removed'));
  return removal;
}

/**
 * Brings the fleet from `current` to `next`: upstreams and 0G addresses added and removed
 * (removed ones drain in the background: their in-flight requests finish), upstreams whose
 * endpoint changed replaced, membership options and weights changed in place. 0G providers are
 * initialised one at a time (the wallet's transactions must not race); one that cannot serve is
 * reported in `failed` and the rest goes on. Providers added at run time through the handle are
 * left alone unless the config names them.
 */
export async function applyFleetChanges(target: FleetChangeTarget, current: GatewayConfig, next: GatewayConfig): Promise<FleetChangeReport> {
  const report: FleetChangeReport = { added: [], removed: [], replaced: [], reconfigured: [], failed: [] };
  const { fleet, registry } = target;
  const before = upstreamsByName(current);
  const after = upstreamsByName(next);
  for (const [key, upstream] of before) {
    if (after.has(key)) continue;
    void drain(target, upstream.name);
    report.removed.push(upstream.name);
  }
  for (const [key, upstream] of after) {
    const previous = before.get(key);
    const entry = registry.get(upstream.name);
    if (!previous || !entry) {
      if (entry?.membership.state === 'draining') addWhenFree(target, upstream.name, drain(target, entry.id));
      else if (entry) report.failed.push({ id: upstream.name, code: 'invalid_config', message: `a provider ${entry.id} is already in the fleet` });
      else fleet.addOpenAICompatible(specOf(upstream), fullMembership(next, upstream), REASON);
      if (!entry || entry.membership.state === 'draining') report.added.push(upstream.name);
      continue;
    }
    if (!isDeepStrictEqual(specOf(previous), specOf(upstream))) {
      addWhenFree(target, upstream.name, drain(target, entry.id));
      report.replaced.push(upstream.name);
    } else if (!isDeepStrictEqual(fullMembership(current, previous), fullMembership(next, upstream))) {
      registry.configure(entry.id, fullMembership(next, upstream));
      report.reconfigured.push(entry.id);
    }
  }
  const oldAddresses = Array.isArray(current.providers) ? current.providers.map(providerAddress) : [];
  const newAddresses = Array.isArray(next.providers) ? next.providers.map(providerAddress) : [];
  if (Array.isArray(current.providers) && Array.isArray(next.providers)) {
    const kept = new Set(newAddresses.map((address) => address.toLowerCase()));
    for (const address of oldAddresses) {
      if (kept.has(address.toLowerCase())) continue;
      void drain(target, address);
      report.removed.push(address);
    }
    const had = new Set(oldAddresses.map((address) => address.toLowerCase()));
    for (const address of newAddresses) {
      if (had.has(address.toLowerCase())) continue;
      try {
        report.added.push(await fleet.addZg(address, providerMembership(next, address)));
      } catch (thrown) {
        const error = toGatewayError(thrown);
        report.failed.push({ id: address, code: error.code, message: error.message });
      }
    }
  }
  // Weights given by the `weights` map (0G providers, discovered ones, upstreams without a weight of their own),
  // and 0G providers' names (`providers: [{ address, name }]`).
  for (const entry of registry.list()) {
    if (after.has(entry.id.toLowerCase()) || entry.membership.state === 'draining') continue;
    const was = providerMembership(current, entry.id);
    const now = providerMembership(next, entry.id);
    if (was.weight === now.weight && was.name === now.name) continue;
    registry.configure(entry.id, { weight: now.weight ?? 1, ...(was.name !== now.name ? { name: now.name } : {}) });
    report.reconfigured.push(entry.id);
  }
  return report;
}
