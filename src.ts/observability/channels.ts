/**
 * The gateway's observability seam: events published on `node:diagnostics_channel`, so
 * metrics, tracing or tests can subscribe without the core knowing them. Publishing costs
 * nothing while a channel has no subscriber.
 *
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('zg-gateway:attempt:finish', (message) => console.log(message));
 * ```
 */
import { channel } from 'node:diagnostics_channel';
import type { AttemptOutcome } from '../stats/index.js';

/** `zg-gateway:attempt:start`: a request was sent to a provider. */
export interface AttemptStartEvent {
  requestId: string;
  providerId: string;
  model: string;
  attempt: number;
}

/** `zg-gateway:attempt:finish`: that attempt ended (exactly once per start). */
export interface AttemptFinishEvent {
  requestId: string | undefined;
  outcome: AttemptOutcome;
}

/** `zg-gateway:breaker`: a provider's health state changed. */
export interface BreakerEvent {
  providerId: string;
  from: string;
  to: string;
  reason: string;
}

/** `zg-gateway:request:done`: a client request got its whole answer (or failed). */
export interface RequestDoneEvent {
  requestId: string;
  route: string;
  status: number;
  outcome: string;
  model: string | undefined;
  providerId: string | undefined;
  attempts: number;
  errorCode: string | undefined;
  durationMs: number;
  /** Time the gateway itself spent (total minus waiting for providers), ms. */
  overheadMs: number | undefined;
  ttfbMs: number | undefined;
  costNeuron: bigint | undefined;
  routeReason: string | undefined;
}

/** `zg-gateway:provider:added` / `:removed`. */
export interface ProviderMembershipEvent {
  providerId: string;
  kind: string;
  reason: string;
}

/** `zg-gateway:provider:state`: funding or trust state changed. */
export interface ProviderStateEvent {
  providerId: string;
  aspect: 'funding' | 'trust' | 'membership';
  state: string;
  reason: string;
}

export const attemptStartChannel = channel('zg-gateway:attempt:start');
export const attemptFinishChannel = channel('zg-gateway:attempt:finish');
export const breakerChannel = channel('zg-gateway:breaker');
export const requestDoneChannel = channel('zg-gateway:request:done');
export const providerAddedChannel = channel('zg-gateway:provider:added');
export const providerRemovedChannel = channel('zg-gateway:provider:removed');
export const providerStateChannel = channel('zg-gateway:provider:state');

/** Publishes `message` when someone listens. */
export function publish<T extends object>(target: ReturnType<typeof channel>, message: T): void {
  if (target.hasSubscribers) target.publish(message);
}
