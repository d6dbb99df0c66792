import type { Logger } from 'pino';
import type { BalancingStrategy } from '../balancer/index.js';
import type { InferenceProvider } from '../providers/inference-provider.js';
import type { ResponseRecord, SessionStore } from '../sessions/index.js';

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
  /** A pino logger. Default: a new JSON logger on stdout at `logLevel`. */
  logger?: Logger;
  /** Where response ids are remembered (for `/v1/verify`). Default: an in-process LRU (`sessionCacheSize`, `sessionTimeout`). */
  responseStore?: SessionStore<ResponseRecord>;
  /** Where session pins are remembered. Default: an in-process LRU. */
  sessionStore?: SessionStore<string>;
  /** A custom balancing strategy, used instead of `strategy`. */
  strategy?: BalancingStrategy;
  /** Extra providers (custom adapters, test doubles), served beside the configured ones. */
  providers?: ReadonlyArray<InferenceProvider | InjectedProvider>;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
  /** Randomness in [0, 1). Default `Math.random`. */
  random?: () => number;
}
