import type { Logger } from 'pino';
import type { ConfiguredFleet } from '../fleet/configured-fleet.js';
import { parseGatewayConfig, providerSelection, type GatewayConfig, type GatewayOptions } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import type { Gateway, GatewayCompanion } from '../gateway/gateway.js';
import type { UpstreamHttpClient } from '../providers/http/upstream-http-client.js';
import { applyConfigChange, type ReloadReport } from './apply-config-change.js';
import type { ClientKeySet } from './client-key-set.js';
import { StrategySlot } from './strategy-slot.js';

/** Options for {@link GatewayReloader}. */
export interface GatewayReloaderOptions {
  /** The config the gateway started with. */
  config: GatewayConfig;
  gateway: Gateway;
  fleet: ConfiguredFleet;
  client: UpstreamHttpClient;
  logger: Logger;
  now: () => number;
  /** The client keys, when the gateway requires them. */
  keys: ClientKeySet | undefined;
  /** True when the gateway made its logger (then `logLevel` changes its level; a given logger is left as it is). */
  ownsLogger: boolean;
  /** True when the strategy was given as a dependency (the config's `strategy` is then not used). */
  strategyInjected: boolean;
  /** What runs beside the starting strategy. */
  strategyCompanions: readonly GatewayCompanion[];
  /** Makes providers discovered later take their weights from the new config. */
  useWeightsOf: (config: GatewayConfig) => void;
  /** Providers given as dependencies (they count as providers of a config that lists none). */
  injectedProviders: number;
}

/**
 * The configuration of a running gateway and the one way to change it: `reconfigure(options)`
 * validates the options exactly as at start, then applies them (see `applyConfigChange`). Calls
 * are applied one after another, never interleaved. `config` is the effective configuration:
 * the new values of what applied, the old values of what needs a restart.
 */
export class GatewayReloader {
  readonly #options: GatewayReloaderOptions;
  readonly #strategies: StrategySlot | undefined;
  #config: GatewayConfig;
  /** The config being applied (what a replacement that finishes later checks against). */
  #desired: GatewayConfig;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: GatewayReloaderOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#desired = options.config;
    this.#strategies = options.strategyInjected
      ? undefined
      : new StrategySlot({ gateway: options.gateway, client: options.client, logger: options.logger, now: options.now, initialCompanions: options.strategyCompanions });
  }

  /** The effective configuration. */
  get config(): GatewayConfig {
    return this.#config;
  }

  /**
   * Validates `options` (a whole configuration, as given at start; env fallbacks apply) and applies
   * what changed. Rejects with GatewayError('invalid_config') naming the field, changing nothing.
   */
  reconfigure(options: GatewayOptions): Promise<ReloadReport> {
    const run = this.#queue.then(() => this.#apply(options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #apply(options: GatewayOptions): Promise<ReloadReport> {
    const next = parseGatewayConfig(options);
    const selection = providerSelection(next);
    if (selection.addresses.length === 0 && !selection.discover && next.openAICompatibleProviders.length === 0 && this.#options.injectedProviders === 0) {
      throw new GatewayError('invalid_config', 'Invalid option providers: at least one provider is required', { param: 'providers' });
    }
    const { gateway, fleet, logger, keys } = this.#options;
    const current = this.#config;
    this.#desired = next;
    let report: ReloadReport;
    try {
      report = await applyConfigChange(
        {
          gateway,
          fleet,
          registry: gateway.registry,
          logger,
          keys,
          strategies: this.#strategies,
          catalogModels: () => fleet.catalogModels(),
          desired: () => this.#desired,
          ...(this.#options.ownsLogger ? { setLogLevel: (level: string) => void (logger.level = level) } : {}),
        },
        current,
        next,
      );
    } catch (error) {
      this.#desired = current;
      throw error;
    }
    const kept: Record<string, unknown> = {};
    for (const name of report.needsRestart) kept[name] = (current as Record<string, unknown>)[name];
    this.#config = Object.freeze({ ...next, ...kept }) as GatewayConfig;
    this.#options.useWeightsOf(this.#config);
    if (report.changed.length > 0) {
      const { added, removed, replaced, reconfigured, failed } = report.providers;
      logger.info({ event: 'config_reloaded', applied: report.applied, added, removed, replaced, reconfigured, failed: failed.map(({ id, code }) => ({ id, code })) }, 'configuration reloaded');
    }
    if (report.needsRestart.length > 0) {
      logger.warn({ event: 'config_restart_needed', options: report.needsRestart }, `not applied until a restart: ${report.needsRestart.join(', ')}`);
    }
    return report;
  }

  /** Stops what runs beside the current strategy. */
  async close(): Promise<void> {
    await this.#queue;
    await this.#strategies?.close();
  }
}
