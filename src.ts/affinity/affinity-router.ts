import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { breakerChannel, providerRemovedChannel, providerStateChannel, type BreakerEvent, type ProviderMembershipEvent, type ProviderStateEvent } from '../observability/channels.js';
import { CHARS_PER_TOKEN, type AffinitySettings } from './affinity-settings.js';
import { AffinityRequest, type AffinityDecision, type AffinityHost } from './affinity-request.js';
import { FleetLoad, type FleetLoadStats } from './fleet-load.js';
import { PrefixIndex } from './prefix-index.js';
import type { SharedPrefixStore } from '../stores/shared-prefix-store.js';

export type { AffinityDecision };

export const AFFINITY_DECISIONS: readonly AffinityDecision[] = ['matched', 'fallback-imbalance', 'fallback-no-match', 'opted-out', 'pinned'];

/** Options for {@link AffinityRouter}. */
export interface AffinityRouterOptions {
  readonly settings: AffinitySettings;
  /** Events of this gateway only (its registry's id) drop a provider's entries. */
  readonly gatewayId: string;
  /** The index shared with other instances (Redis), when there is one. */
  readonly shared?: SharedPrefixStore | undefined;
  /**
   * This instance's in-flight requests per provider: with a shared store that exchanges them
   * ({@link FleetLoad}), the load bound adds the other instances' counts to these.
   */
  readonly localInFlight?: (() => ReadonlyMap<string, number>) | undefined;
  /** Period of that exchange, ms. Default 250. */
  readonly fleetLoadPeriodMs?: number | undefined;
  readonly now?: () => number;
}

/** Prompt and cached tokens a provider reported (its prefix-cache hit rate). */
export interface CacheTokens {
  prompt: number;
  cached: number;
  /** Answers whose usage said how many prompt tokens were cached. */
  reported: number;
}

/** What the layer has done (for metrics and the status page). */
export interface AffinityStats {
  readonly enabled: boolean;
  readonly decisions: Readonly<Record<AffinityDecision, number>>;
  /** Per provider: tokens reported (whether or not affinity placed the requests). */
  readonly cacheTokens: ReadonlyMap<string, CacheTokens>;
  readonly index: ReturnType<PrefixIndex['stats']>;
  /** Requests whose prompt the layer keyed, and the time it spent on them (hashing, lookups, recording), µs. */
  readonly work: { readonly requests: number; readonly micros: number };
  /** The shared index: reads made, reads that gave up after `sharedReadTimeoutMs`, and its traffic. */
  readonly shared: { readonly reads: number; readonly timeouts: number; readonly roundTrips: number; readonly bytesOut: number; readonly bytesIn: number; readonly failures: number } | undefined;
  /** The in-flight counts exchanged with the other instances (with the Redis store). */
  readonly fleet: FleetLoadStats | undefined;
}

/** Most providers whose reported tokens are kept (past it, a provider that left makes room). */
const MAX_TOKEN_ROWS = 10_000;

/**
 * The cache-aware routing layer of one gateway: its prefix index (local, and the shared one with
 * Redis), the per-request work ({@link AffinityRequest}: keying a prompt, choosing a warm provider
 * within load bounds, recording what was served), what providers report of their caches, and the
 * counts shown in metrics. A provider that leaves, is ejected (untrusted) or whose breaker opens
 * (it may have restarted) loses its entries.
 */
export class AffinityRouter implements AffinityHost {
  readonly settings: AffinitySettings;
  readonly index: PrefixIndex;
  readonly shared: SharedPrefixStore | undefined;
  readonly now: () => number;
  /** The other instances' in-flight counts, when the shared store exchanges them. */
  readonly fleetLoad: FleetLoad | undefined;
  readonly #gatewayId: string;
  readonly #decisions: Record<AffinityDecision, number> = { matched: 0, 'fallback-imbalance': 0, 'fallback-no-match': 0, 'opted-out': 0, pinned: 0 };
  readonly #tokens = new Map<string, CacheTokens>();
  readonly #work = { requests: 0, micros: 0 };
  readonly #sharedReads = { reads: 0, timeouts: 0 };
  readonly #listeners: Array<[string | symbol, (message: unknown) => void]> = [];
  #byStrategy = false;

  constructor(options: AffinityRouterOptions) {
    this.settings = options.settings;
    this.shared = options.shared;
    this.now = options.now ?? Date.now;
    this.#gatewayId = options.gatewayId;
    const fleetStore = options.shared?.fleetLoad;
    this.fleetLoad =
      fleetStore && options.localInFlight
        ? new FleetLoad({ store: fleetStore, gatewayId: options.gatewayId, localInFlight: options.localInFlight, periodMs: options.fleetLoadPeriodMs, active: () => this.enabled, now: this.now })
        : undefined;
    this.index = new PrefixIndex({
      maxBytes: Math.floor(options.settings.maxIndexMiB * 1024 * 1024),
      ttlMs: options.settings.ttlSeconds * 1000,
      providerCapacityBlocks: Math.max(1, Math.floor((options.settings.providerCapacityTokens * CHARS_PER_TOKEN) / options.settings.blockChars)),
      now: this.now,
    });
    this.#listen<ProviderMembershipEvent>(providerRemovedChannel.name, (event) => this.index.dropProvider(event.providerId));
    this.#listen<ProviderStateEvent>(providerStateChannel.name, (event) => {
      if ((event.aspect === 'trust' && event.state === 'untrusted') || (event.aspect === 'membership' && event.state === 'draining')) this.index.dropProvider(event.providerId);
    });
    this.#listen<BreakerEvent>(breakerChannel.name, (event) => {
      if (event.to === 'open') this.index.dropProvider(event.providerId);
    });
  }

  /** On when `affinity.enabled`, or while the strategy is `cache-aware`. */
  get enabled(): boolean {
    return this.settings.enabled || this.#byStrategy;
  }

  /** Tells the layer the configured strategy's name: `cache-aware` turns it on (at start, and on a reload). */
  followStrategy(name: string): void {
    this.#byStrategy = name === 'cache-aware';
  }

  /**
   * The affinity work of one request (undefined when the layer is off). `optedOut`: the client sent
   * `X-Affinity: off` or a per-request sort preference; the request is then only counted (and, when
   * served, recorded: its provider is warm for the next request that does not opt out).
   */
  begin(body: Readonly<Record<string, unknown>>, optedOut: boolean): AffinityRequest | undefined {
    if (!this.enabled) return undefined;
    return new AffinityRequest(this, body, optedOut);
  }

  /** Starts exchanging in-flight counts with the other instances (with a shared store that does). */
  start(): void {
    this.fleetLoad?.start();
  }

  /** In-flight requests the other instances have on `provider` (0 without a shared store, or while it is stale). */
  othersInFlight(provider: string): number {
    return this.fleetLoad?.othersInFlight(provider) ?? 0;
  }

  /** Counts a request's decision (once per request). */
  count(decision: AffinityDecision): void {
    this.#decisions[decision] += 1;
  }

  /** Adds `micros` of affinity work for one more (or the same, `newRequest` false) request. */
  addWork(micros: number, newRequest: boolean): void {
    this.#work.micros += micros;
    if (newRequest) this.#work.requests += 1;
  }

  /** Counts a read of the shared index and whether it gave up waiting. */
  countSharedRead(timedOut: boolean): void {
    this.#sharedReads.reads += 1;
    if (timedOut) this.#sharedReads.timeouts += 1;
  }

  /**
   * Counts a provider's reported usage (prompt tokens, and cached ones when it says), whether or
   * not affinity placed the request; returns the cached tokens reported.
   */
  noteUsage(provider: string, usage: { prompt_tokens?: unknown; prompt_tokens_details?: unknown } | undefined): number | undefined {
    if (!usage || typeof usage.prompt_tokens !== 'number') return undefined;
    const reported = (usage.prompt_tokens_details as { cached_tokens?: unknown } | undefined)?.cached_tokens;
    const cached = typeof reported === 'number' && reported >= 0 ? reported : undefined;
    let row = this.#tokens.get(provider);
    if (!row) {
      if (this.#tokens.size >= MAX_TOKEN_ROWS) this.#tokens.delete(this.#tokens.keys().next().value as string);
      row = { prompt: 0, cached: 0, reported: 0 };
      this.#tokens.set(provider, row);
    }
    row.prompt += usage.prompt_tokens;
    if (cached !== undefined) {
      row.cached += cached;
      row.reported += 1;
    }
    return cached;
  }

  stats(): AffinityStats {
    const traffic = this.shared?.traffic;
    return {
      enabled: this.enabled,
      decisions: { ...this.#decisions },
      cacheTokens: this.#tokens,
      index: this.index.stats(),
      work: { ...this.#work },
      shared: traffic ? { ...this.#sharedReads, ...traffic } : undefined,
      fleet: this.fleetLoad?.stats(),
    };
  }

  /** Stops listening to the gateway's events and the in-flight exchange, and lets go of the shared index. Idempotent. */
  async close(): Promise<void> {
    for (const [name, listener] of this.#listeners.splice(0)) unsubscribe(name, listener);
    this.fleetLoad?.close();
    await this.shared?.close();
  }

  #listen<T extends { gatewayId: string }>(name: string | symbol, handle: (event: T) => void): void {
    const listener = (message: unknown): void => {
      const event = message as T;
      if (event.gatewayId === this.#gatewayId) handle(event);
    };
    subscribe(name, listener);
    this.#listeners.push([name, listener]);
  }
}
