import type { Logger } from 'pino';
import type { LoadBalancer } from '../balancer/index.js';
import type { ResponseRecord, SessionStore } from '../sessions/index.js';
import type { ChatDispatcher } from './chat-dispatcher.js';
import type { ProviderRegistry } from './provider-registry.js';

/** What the HTTP layer needs from the gateway: the parts, wired, and nothing else. */
export interface GatewayState {
  readonly registry: ProviderRegistry;
  readonly balancer: LoadBalancer;
  readonly dispatcher: ChatDispatcher;
  readonly responses: SessionStore<ResponseRecord>;
  readonly sessions: SessionStore<string>;
  readonly logger: Logger;
  readonly bodyLimit: string | number;
  readonly adminToken: string | undefined;
  /** Bound for a verify call to the provider, ms. */
  readonly verifyTimeoutMs: number;
  /** True once `close()` began: new requests get 503. */
  isShuttingDown(): boolean;
}
