import type { DestinationStream, Logger } from 'pino';
import type { BalancingStrategy } from '../strategies/index.js';
import type { CounterStore } from '../stores/counter-store.js';
import type { InferenceProvider } from '../providers/inference-provider.js';
import type { ResponseRecord, SessionStore } from '../stores/index.js';

/** A provider built by the caller, with how it takes part in the fleet. */
export interface InjectedProvider {
  provider: InferenceProvider;
  weight?: number;
  maxConcurrent?: number;
  throughput?: number;
  pool?: string;
  capacity?: number;
  rpm?: number;
  tpm?: number;
}

/**
 * What a configuration file cannot produce: live objects handed to `runMultiProviderInferenceServer`
 * beside the serialisable options. Every part is optional; the defaults are built from the config.
 */
export interface GatewayDependencies {
  /** A pino logger. Default: a new JSON logger at `logLevel` (changed live by `reconfigure`), writing to `logDestination`. */
  logger?: Logger;
  /** Where the gateway's own logger writes, when no `logger` is given (e.g. a pretty printer). Default: stdout. */
  logDestination?: DestinationStream;
  /**
   * Where response ids are remembered (for `/v1/verify`). Default: built from the `store` option: an
   * in-process LRU (`sessionCacheSize`, `sessionTimeout`), or Redis with a local fallback. Used as
   * given (not wrapped), and closed by the gateway.
   */
  responseStore?: SessionStore<ResponseRecord>;
  /** Where session pins are remembered. Default: built from `store`, like `responseStore`. */
  sessionStore?: SessionStore<string>;
  /** Where client-key counters (rpm, tpm, spend) live. Default: built from `store` (memory, or Redis with local fallback). */
  counterStore?: CounterStore;
  /** A custom balancing strategy, used instead of `strategy`. */
  strategy?: BalancingStrategy;
  /** Extra providers (custom adapters, test doubles), served beside the configured ones. */
  providers?: ReadonlyArray<InferenceProvider | InjectedProvider>;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
  /** Randomness in [0, 1). Default `Math.random`. */
  random?: () => number;
}
