import type { Registry } from 'prom-client';
import type { BillingService } from './billing/index.js';
import type { RequestLog } from './request-log/index.js';
import type { OpenAICompatibleSpec } from './fleet/configured-fleet.js';
import type { GatewayConfig, GatewayOptions } from './config/index.js';
import type { FailedProvider } from './fleet/fleet-source.js';
import type { Gateway } from './gateway/gateway.js';
import type { ProviderMembershipOptions } from './fleet/provider-entry.js';
import type { ReloadReport } from './reload/apply-config-change.js';
import { redactRedisUrl } from './stores/redis/redis-connection.js';

/** A provider of the running fleet, as the handle lists it. */
export interface FleetMember {
  id: string;
  address: string;
  endpoint: string;
  /** Its first (default) model; `models` lists all. */
  model: string;
  models: string[];
  kind: string;
  state: string;
  inFlight: number;
}

/** What `providers.add` takes: a 0G provider address, or a plain OpenAI-compatible upstream. */
export type ProviderToAdd = ({ address: string } | OpenAICompatibleSpec) & ProviderMembershipOptions;

/** The running fleet: list it, add and remove providers while the gateway serves. */
export interface FleetHandle {
  /** The providers in the fleet now (draining ones included). */
  list(): FleetMember[];
  /**
   * Adds a provider: a 0G address is initialised through the wallet first (rejects with why when
   * it cannot serve); an OpenAI-compatible upstream joins at once. Resolves with its id.
   */
  add(provider: ProviderToAdd): Promise<string>;
  /** Takes a provider out: no new requests, its in-flight ones finish, then it leaves. False when unknown. */
  remove(id: string): Promise<boolean>;
  /** Changes a provider's weight, concurrency cap, throughput, pool, capacity, rpm or tpm. */
  configure(id: string, options: ProviderMembershipOptions): void;
}

/** A running gateway. */
export interface GatewayHandle {
  /** Base URL, e.g. `http://127.0.0.1:3000` (a wildcard host is reported as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /**
   * The bearer token of `/admin/*` and `/nodes/*`: the configured `adminToken`, else the one read
   * from or written to `adminTokenFile`, else one generated at start (in memory only). Never logged.
   */
  readonly adminToken: string;
  readonly providers: FleetHandle;
  /** Providers not initialised (yet), with the reason; retried on every health check. */
  readonly failedProviders: readonly FailedProvider[];
  /**
   * The effective configuration (after any `reconfigure`), validated and frozen, secrets removed
   * (key, admin and metrics tokens) or masked (API keys, the Redis URL's password).
   */
  readonly config: Omit<GatewayConfig, 'key' | 'adminToken' | 'metricsToken'>;
  /**
   * Applies a new configuration without a restart and without failing requests in flight: a whole
   * set of options as given at start (env fallbacks apply), validated first. Live: the providers
   * (added; removed ones drain), their weights and membership options, `strategy` and
   * `strategyOptions`, routing (`defaultModel`, `modelAliases`, `fallbacks`, `requireVerifiable`),
   * client keys (`apiKeys`, `keysFile`, read again each time), `logLevel`, `shutdownGracePeriod`.
   * Other changed options are listed in `needsRestart` (and logged), not applied. Rejects with
   * GatewayError('invalid_config') naming the field, changing nothing. Calls run one at a time.
   */
  reconfigure(options: GatewayOptions): Promise<ReloadReport>;
  /** The core, for advanced use (routing, registry, stores). */
  readonly gateway: Gateway;
  /** Settlement auditing: `report()` (what `GET /admin/billing` shows), `reconcile()` and `reclaimIdle()` run a round now. */
  readonly billing: BillingService;
  /** The durable request log when `requestLog` is configured: `flush()`, `prune()`, `counts()`, `database()`. */
  readonly requestLog: RequestLog | undefined;
  /** This gateway's prom-client registry (what `/metrics` serves, besides the process series): add your own series to it. */
  readonly metrics: Registry;
  /** Requests currently being served. */
  inFlight(): number;
  /**
   * Stops taking requests (any that arrives from now on, backlog included, and any not yet on a
   * provider gets 503 `shutting_down` with `Connection: close`; the listener closes once the backlog is drained),
   * lets in-flight requests finish for `shutdownGracePeriod`, then ends the rest (streams get an
   * in-band error event), stops timers and auto-funding. Idempotent.
   */
  close(): Promise<void>;
}

/** The config without secrets (tokens removed; the Redis URL's credentials and the trace collector's headers redacted), for the handle and logs. */
export function publicConfig(config: GatewayConfig): Omit<GatewayConfig, 'key' | 'adminToken' | 'metricsToken'> {
  const { key: _key, adminToken: _adminToken, metricsToken: _metricsToken, ...rest } = config;
  void _key;
  void _adminToken;
  void _metricsToken;
  return Object.freeze({
    ...rest,
    openAICompatibleProviders: rest.openAICompatibleProviders.map(({ apiKey, ...upstream }) => ({ ...upstream, ...(apiKey ? { apiKey: '[redacted]' } : {}) })),
    store: rest.store.type === 'redis' ? { ...rest.store, url: redactRedisUrl(rest.store.url) } : rest.store,
    ...(rest.requestLog?.url ? { requestLog: { ...rest.requestLog, url: rest.requestLog.url.replace(/^(postgres(?:ql)?:\/\/)[^@/]*@/i, '$1***@') } } : {}),
    ...(rest.apiKeys ? { apiKeys: rest.apiKeys.map((entry) => ({ ...entry, hash: '[redacted]' })) } : {}),
    // Collector headers usually carry an API key.
    ...(rest.tracing ? { tracing: { ...rest.tracing, headers: Object.fromEntries(Object.keys(rest.tracing.headers).map((name) => [name, '[redacted]'])) } } : {}),
  });
}
