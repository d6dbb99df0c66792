import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GatewayError } from '../errors/index.js';
import { CircuitBreaker, type BreakerTransition, type CircuitBreakerOptions } from '../health/index.js';
import {
  attemptFinishChannel,
  attemptStartChannel,
  breakerChannel,
  providerAddedChannel,
  providerRemovedChannel,
  providerStateChannel,
  publish,
  type AttemptStartEvent,
} from '../observability/index.js';
import type { InferenceProvider } from '../providers/inference-provider.js';
import type { AttemptOutcome } from '../observability/stats/index.js';
import { MissingCapabilities } from './missing-capabilities.js';
import { ProviderEntry, type FundingState, type ProviderMembershipOptions, type TrustState } from './provider-entry.js';

/** How an attempt holding a lease ended (the registry adds provider id and duration). */
export type LeaseOutcome = Omit<AttemptOutcome, 'providerId' | 'durationMs'>;

/**
 * One request in flight on one provider. Releasing it is what brings the provider's in-flight
 * count back down and records the outcome: it takes effect exactly once, however many times and
 * in whatever order leases are released.
 */
export interface Lease {
  readonly entry: ProviderEntry;
  readonly released: boolean;
  /** When the attempt started (the registry's clock, ms). */
  readonly startedAt: number;
  /** Headers to send with the attempt that a `zg-gateway:attempt:start` subscriber asked for (W3C `traceparent`); undefined: none. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Ends the attempt. True the first time; false, with no effect, after. */
  release(outcome: LeaseOutcome): boolean;
}

/** What an attempt is, for its `zg-gateway:attempt:start` event. */
export interface AttemptDescription {
  /** The model id the provider is sent. */
  readonly upstreamModel: string;
  /** `chat`, `completions`, `embeddings`. */
  readonly route: string;
  /** 1 for the request's first provider, 2 for the next, ... */
  readonly number: number;
}

/** Options for {@link ProviderRegistry}. */
export interface ProviderRegistryOptions {
  logger: Logger;
  breaker?: CircuitBreakerOptions;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
  /** How long a provider that said it does not serve a model is not asked for it again, ms. Default 60000. */
  unservedModelTtlMs?: number;
  /** How long a provider that said it does not serve a route (or a parameter of one) is not sent requests that need it, ms. Default 60000. */
  missingCapabilityTtlMs?: number;
  /** The id its events carry on `diagnostics_channel` (see `observability/channels`). Default: a random UUID. */
  gatewayId?: string;
}

/** Codes that say nothing about a provider's health (the breaker is told "neutral"). */
const BREAKER_NEUTRAL = new Set([
  'client_closed_request',
  'client_stalled',
  'shutting_down',
  'invalid_request',
  'upstream_client_error',
  'insufficient_funds',
  'upstream_model_unavailable',
  'route_not_supported',
  'unsupported_parameter',
  'context_length_exceeded',
]);

type OutcomeListener = (outcome: AttemptOutcome, entry: ProviderEntry) => void;

/**
 * The one owner of fleet membership: which providers exist, their configuration, health
 * (breaker, funding, trust), in-flight counts and figures. Providers join with `add` and leave
 * with `remove` (draining first) at any time; strategies read candidates from here.
 */
export class ProviderRegistry {
  /** Carried by every event this registry (and its gateway) publishes, to tell gateways of one process apart. */
  readonly gatewayId: string;
  readonly #entries = new Map<string, ProviderEntry>();
  readonly #options: ProviderRegistryOptions;
  readonly #now: () => number;
  readonly #listeners = new Set<OutcomeListener>();
  readonly #changeListeners = new Set<() => void>();
  readonly #drainWaiters = new Map<string, Array<() => void>>();
  #idleWaiters: Array<() => void> = [];
  #nextIndex = 0;
  #totalInFlight = 0;

  constructor(options: ProviderRegistryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.gatewayId = options.gatewayId ?? randomUUID();
  }

  /** Every provider, in joining order (draining ones included). */
  list(): ProviderEntry[] {
    return [...this.#entries.values()];
  }

  /** The live entries, in joining order; do not modify the map. */
  get entries(): ReadonlyMap<string, ProviderEntry> {
    return this.#entries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): ProviderEntry | undefined {
    return this.#entries.get(id) ?? this.#entries.get(id.toLowerCase()) ?? this.#findCaseInsensitive(id);
  }

  #findCaseInsensitive(id: string): ProviderEntry | undefined {
    const wanted = id.toLowerCase();
    for (const entry of this.#entries.values()) if (entry.id.toLowerCase() === wanted) return entry;
    return undefined;
  }

  /** Requests in flight on all providers. */
  totalInFlight(): number {
    return this.#totalInFlight;
  }

  /** Puts a provider in rotation. Throws `invalid_config` for an id already present or a bad weight. */
  add(provider: InferenceProvider, options: ProviderMembershipOptions = {}, reason = 'configured'): ProviderEntry {
    if (typeof provider.id !== 'string' || provider.id.length === 0) throw new GatewayError('invalid_config', 'A provider has no id', { param: 'providers' });
    if (this.get(provider.id)) throw new GatewayError('invalid_config', `Provider ${provider.id} is already in the fleet`, { param: 'providers' });
    const weight = options.weight ?? 1;
    if (!Number.isFinite(weight) || weight < 1) {
      throw new GatewayError('invalid_config', `Provider ${provider.id} has weight ${String(weight)}; weights must be finite numbers >= 1`, { param: 'weights' });
    }
    const breaker = new CircuitBreaker({ ...this.#options.breaker, now: this.#now });
    const entry = new ProviderEntry(provider, this.#nextIndex++, breaker, options, this.#now());
    this.#entries.set(provider.id, entry);
    publish(providerAddedChannel, { gatewayId: this.gatewayId, providerId: provider.id, kind: provider.descriptor.kind, reason });
    this.#options.logger.info({ event: 'provider_added', provider: provider.id, kind: provider.descriptor.kind, models: provider.descriptor.models.map((offer) => offer.id), reason }, 'provider joined');
    this.#changed();
    return entry;
  }

  /** Changes a provider's configuration (weight, cap, throughput, pool, capacity, rpm, tpm) in place. */
  configure(id: string, options: ProviderMembershipOptions): void {
    const entry = this.#require(id);
    if (options.weight !== undefined) {
      if (!Number.isFinite(options.weight) || options.weight < 1) throw new GatewayError('invalid_config', `weights must be finite numbers >= 1`, { param: 'weight' });
      entry.weight = options.weight;
    }
    if ('maxConcurrent' in options) entry.maxConcurrent = options.maxConcurrent;
    if ('throughput' in options) entry.throughput = options.throughput;
    if ('pool' in options) entry.pool = options.pool;
    if ('capacity' in options) entry.capacity = options.capacity;
    if ('rpm' in options) entry.rpm = options.rpm;
    if ('tpm' in options) entry.tpm = options.tpm;
    if ('name' in options) entry.name = options.name;
    this.#changed();
  }

  /**
   * Takes a provider out: it gets no new request at once, its in-flight requests finish, then it
   * leaves the registry and its adapter is closed. Resolves when it has left; false when unknown.
   */
  async remove(id: string, reason = 'removed'): Promise<boolean> {
    const entry = this.get(id);
    if (!entry) return false;
    if (entry.membership.state !== 'draining') {
      entry.membership = { state: 'draining', since: this.#now(), reason };
      publish(providerStateChannel, { gatewayId: this.gatewayId, providerId: entry.id, aspect: 'membership', state: 'draining', reason });
      this.#options.logger.info({ event: 'provider_draining', provider: entry.id, inFlight: entry.inFlight, reason }, 'provider draining');
    }
    if (entry.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const waiters = this.#drainWaiters.get(entry.id) ?? [];
        waiters.push(resolve);
        this.#drainWaiters.set(entry.id, waiters);
      });
    }
    if (this.#entries.get(entry.id) !== entry) return true;
    this.#entries.delete(entry.id);
    publish(providerRemovedChannel, { gatewayId: this.gatewayId, providerId: entry.id, kind: entry.descriptor.kind, reason });
    this.#options.logger.info({ event: 'provider_removed', provider: entry.id, reason }, 'provider left');
    await entry.provider.close().catch(() => undefined);
    return true;
  }

  /** Resolves once nothing is in flight on any provider. */
  whenIdle(): Promise<void> {
    if (this.#totalInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Listens to changes that may free or add capacity (lease released, provider added or reconfigured, health restored); quick. Returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#changeListeners) {
      try {
        listener();
      } catch (error) {
        this.#options.logger.error({ event: 'internal_error', err: error }, 'a registry change listener failed');
      }
    }
  }

  /** Listens to every attempt's outcome (strategies that learn, metrics...). Returns the unsubscribe function. */
  onOutcome(listener: OutcomeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Counts one more request in flight on `entry` and returns the lease that ends it. */
  acquire(entry: ProviderEntry, requestId?: string, model = '', attempt?: AttemptDescription): Lease {
    entry.inFlight += 1;
    this.#totalInFlight += 1;
    this.#logTransition(entry, entry.breaker.onAttemptStart());
    const startedAt = this.#now();
    let headers: Record<string, string> | undefined;
    let span: unknown;
    if (attemptStartChannel.hasSubscribers) {
      const event: AttemptStartEvent = {
        gatewayId: this.gatewayId,
        requestId: requestId ?? '',
        providerId: entry.id,
        model,
        upstreamModel: attempt?.upstreamModel ?? '',
        route: attempt?.route ?? '',
        attempt: attempt?.number ?? 0,
        headers: {},
      };
      attemptStartChannel.publish(event);
      // A subscriber (the tracer) may have asked for headers (traceparent) and left its span.
      if (Object.keys(event.headers).length > 0) headers = event.headers;
      span = event.span;
    }
    let released = false;
    return {
      entry,
      startedAt,
      headers,
      get released(): boolean {
        return released;
      },
      release: (outcome: LeaseOutcome): boolean => {
        if (released) return false;
        released = true;
        this.#settle(entry, { ...outcome, providerId: entry.id, durationMs: Math.max(0, this.#now() - startedAt) }, requestId, model, span);
        return true;
      },
    };
  }

  /**
   * Records an attempt's end. Runs once per lease; the accounting happens first, and a listener
   * that throws is ignored: releasing happens in cleanup paths and must neither throw nor leave
   * the counts wrong.
   */
  #settle(entry: ProviderEntry, outcome: AttemptOutcome, requestId: string | undefined, model: string, span: unknown): void {
    entry.inFlight -= 1;
    this.#totalInFlight -= 1;
    const now = this.#now();
    try {
      entry.stats.record(outcome, now);
      this.#feedHealth(entry, outcome);
    } catch (error) {
      this.#options.logger.error({ event: 'internal_error', err: error }, 'recording an attempt failed');
    }
    for (const listener of this.#listeners) {
      try {
        listener(outcome, entry);
      } catch {
        // Deliberately ignored: see the method's documentation.
      }
    }
    publish(attemptFinishChannel, { gatewayId: this.gatewayId, requestId, model, outcome, span });
    if (entry.inFlight === 0) {
      const waiters = this.#drainWaiters.get(entry.id);
      if (waiters) {
        this.#drainWaiters.delete(entry.id);
        for (const resolve of waiters) resolve();
      }
    }
    if (this.#totalInFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.#changed();
  }

  #feedHealth(entry: ProviderEntry, outcome: AttemptOutcome): void {
    if (outcome.ok) return this.#logTransition(entry, entry.breaker.recordSuccess());
    const code = outcome.errorCode ?? 'unknown_error';
    if (code === 'upstream_rate_limited') return this.#logTransition(entry, entry.breaker.recordRateLimited(outcome.retryAfterMs), { retryAfterMs: outcome.retryAfterMs });
    if (code === 'insufficient_funds') this.setFunding(entry, 'needs-funds', outcome.errorMessage ?? 'the provider answered 402');
    if (code === 'upstream_model_unavailable') return entry.breaker.recordNeutral();
    if (BREAKER_NEUTRAL.has(code)) return entry.breaker.recordNeutral();
    this.#logTransition(entry, entry.breaker.recordFailure(), { code });
  }

  /** Counts a failure against a provider after the fact (an error first taken for the client's turned out to be the provider's). */
  penalise(entry: ProviderEntry, code: string): void {
    this.#logTransition(entry, entry.breaker.recordFailure(), { code, late: true });
  }

  /** Remembers that `entry` does not serve `model` (for a while), so it is not asked again. */
  markModelUnserved(entry: ProviderEntry, model: string): void {
    entry.unservedModels.set(model, this.#now() + (this.#options.unservedModelTtlMs ?? 60_000));
  }

  /**
   * Remembers that `entry` does not serve `route` (or, with `param`, that parameter of it) for a
   * while: requests that need it go to other providers; its breaker and its other requests are untouched.
   */
  markCapabilityMissing(entry: ProviderEntry, route: string, param?: string): void {
    const key = MissingCapabilities.key(route, param);
    const fresh = !entry.missingCapabilities.lacks(key, this.#now());
    const ttlMs = this.#options.missingCapabilityTtlMs ?? 60_000;
    entry.missingCapabilities.mark(key, this.#now() + ttlMs);
    if (fresh) this.#options.logger.info({ event: 'provider_capability_missing', provider: entry.id, route, ...(param !== undefined ? { param } : {}), ttlMs }, `provider ${entry.id} does not serve ${key}`);
  }

  /** Sets a provider's funding state (logged and published when it changes). */
  setFunding(entry: ProviderEntry, state: FundingState, reason: string | null): void {
    if (entry.funding.state === state) return;
    entry.funding = { state, since: this.#now(), reason };
    if (state === 'ok') this.#changed();
    publish(providerStateChannel, { gatewayId: this.gatewayId, providerId: entry.id, aspect: 'funding', state, reason: reason ?? '' });
    this.#options.logger[state === 'ok' ? 'info' : 'warn']({ event: 'provider_funding', provider: entry.id, state, reason }, `provider ${entry.id} funding ${state}`);
  }

  /** Sets a provider's trust state (logged and published when it changes). */
  setTrust(entry: ProviderEntry, state: TrustState, reason: string | null): void {
    if (entry.trust.state === state) return;
    entry.trust = { state, since: this.#now(), reason };
    if (state === 'trusted') this.#changed();
    publish(providerStateChannel, { gatewayId: this.gatewayId, providerId: entry.id, aspect: 'trust', state, reason: reason ?? '' });
    this.#options.logger[state === 'trusted' ? 'info' : 'warn']({ event: 'provider_trust', provider: entry.id, state, reason }, `provider ${entry.id} ${state}`);
  }

  /** Feeds an active probe's result to the breaker. */
  recordProbe(entry: ProviderEntry, ok: boolean, error: string | null): void {
    entry.lastHealthCheck = new Date(this.#now()).toISOString();
    entry.lastProbeError = error;
    this.#logTransition(entry, entry.breaker.recordProbe(ok), ok ? undefined : { probeError: error });
  }

  #require(id: string): ProviderEntry {
    const entry = this.get(id);
    if (!entry) throw new GatewayError('provider_not_found', `No provider ${id} in the fleet`, { param: 'id' });
    return entry;
  }

  #logTransition(entry: ProviderEntry, transition: BreakerTransition | null, detail?: Record<string, unknown>): void {
    if (!transition) return;
    if (transition.to !== 'open') this.#changed();
    publish(breakerChannel, { gatewayId: this.gatewayId, providerId: entry.id, from: transition.from, to: transition.to, reason: transition.reason });
    const level = transition.to === 'open' ? 'warn' : 'info';
    this.#options.logger[level]({ event: 'provider_health', provider: entry.id, from: transition.from, to: transition.to, reason: transition.reason, ...detail }, `provider ${entry.id} ${transition.to}`);
  }
}
