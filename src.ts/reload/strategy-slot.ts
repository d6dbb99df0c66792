import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/index.js';
import { configuredStrategy } from '../configured-strategy.js';
import type { Gateway, GatewayCompanion } from '../gateway/gateway.js';
import type { UpstreamHttpClient } from '../providers/http/upstream-http-client.js';

/** Options for {@link StrategySlot}. */
export interface StrategySlotOptions {
  gateway: Gateway;
  client: UpstreamHttpClient;
  logger: Logger;
  now: () => number;
  /** What runs beside the strategy the gateway started with (closed when it is replaced). */
  initialCompanions: readonly GatewayCompanion[];
}

/**
 * The gateway's balancing strategy as configured, replaceable while it serves: a new strategy is
 * built with what it needs (the `least-load` metrics poller, started at once), put in place with
 * `gateway.setStrategy` (requests already placed keep their provider), and what ran beside the
 * old one is closed. A strategy rebuilt starts afresh (e.g. latency figures it had learnt).
 */
export class StrategySlot {
  readonly #options: StrategySlotOptions;
  #companions: readonly GatewayCompanion[];

  constructor(options: StrategySlotOptions) {
    this.#options = options;
    this.#companions = options.initialCompanions;
  }

  /** Builds the strategy `config` names and puts it in place. Throws (changing nothing) when it cannot be built. */
  apply(config: Pick<GatewayConfig, 'strategy' | 'strategyOptions'>): void {
    const { gateway, client, logger, now } = this.#options;
    const built = configuredStrategy(config, gateway.registry, client, now, logger);
    for (const companion of built.companions) companion.start();
    const previous = this.#companions;
    this.#companions = built.companions;
    gateway.setStrategy(built.strategy);
    // `cache-aware` is round-robin behind the affinity layer: switching to or from it turns the layer on or off.
    gateway.affinity.followStrategy(config.strategy);
    for (const companion of previous) void companion.close();
  }

  /** Closes what runs beside the current strategy. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#companions.map((companion) => companion.close()));
  }
}
