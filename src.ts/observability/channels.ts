/**
 * The gateway's observability seam: events published on `node:diagnostics_channel`, so
 * metrics, tracing or tests can subscribe without the core knowing them. Publishing costs
 * nothing while a channel has no subscriber.
 *
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('zg-gateway:attempt:finish', (message) => console.log(message));
 * ```
 *
 * Channels are process-wide: when several gateways run in one process, every event carries the
 * `gatewayId` of the gateway (its provider registry) that published it, so a subscriber can keep
 * to its own.
 */
import { channel } from 'node:diagnostics_channel';
import type { AttemptOutcome } from '../stats/index.js';

/** `zg-gateway:attempt:start`: a request was sent to a provider. */
export interface AttemptStartEvent {
  gatewayId: string;
  requestId: string;
  providerId: string;
  model: string;
  attempt: number;
}

/** `zg-gateway:attempt:finish`: that attempt ended (exactly once per start). */
export interface AttemptFinishEvent {
  gatewayId: string;
  requestId: string | undefined;
  /** The model group the attempt served (as in the start event). */
  model: string;
  outcome: AttemptOutcome;
}

/** `zg-gateway:breaker`: a provider's health state changed. */
export interface BreakerEvent {
  gatewayId: string;
  providerId: string;
  from: string;
  to: string;
  reason: string;
}

/** `zg-gateway:request:done`: a client request got its whole answer (or failed). */
export interface RequestDoneEvent {
  gatewayId: string;
  requestId: string;
  /** The path served, e.g. `/v1/chat/completions` (any path a client sent: bound it before using it as a label). */
  route: string;
  method: string;
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
  gatewayId: string;
  providerId: string;
  kind: string;
  reason: string;
}

/** `zg-gateway:provider:state`: funding or trust state changed. */
export interface ProviderStateEvent {
  gatewayId: string;
  providerId: string;
  aspect: 'funding' | 'trust' | 'membership';
  state: string;
  reason: string;
}

/** `zg-gateway:verify:done`: a `/v1/verify` call ended. */
/** A wait before a retry (the retry policy's backoff). */
export interface RetryDelayEvent {
  gatewayId: string;
  requestId: string;
  /** The failure class that caused it (`connect`, `timeout`, `server_error`, `rate_limited`, `client_error`, `funds`). */
  failureClass: string;
  delayMs: number;
}

export interface VerifyDoneEvent {
  gatewayId: string;
  /** The provider that served the response, when the id was known. */
  providerId: string | undefined;
  /** `valid`, `invalid`, `unverifiable` (the provider cannot prove answers), or the error code. */
  result: string;
}

export const attemptStartChannel = channel('zg-gateway:attempt:start');
export const attemptFinishChannel = channel('zg-gateway:attempt:finish');
export const breakerChannel = channel('zg-gateway:breaker');
export const requestDoneChannel = channel('zg-gateway:request:done');
export const providerAddedChannel = channel('zg-gateway:provider:added');
export const providerRemovedChannel = channel('zg-gateway:provider:removed');
export const providerStateChannel = channel('zg-gateway:provider:state');
export const verifyDoneChannel = channel('zg-gateway:verify:done');
export const retryDelayChannel = channel('zg-gateway:retry:delay');

/** Publishes `message` when someone listens. */
export function publish<T extends object>(target: ReturnType<typeof channel>, message: T): void {
  if (target.hasSubscribers) target.publish(message);
}
