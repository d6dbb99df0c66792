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
import type { AttemptOutcome } from './stats/index.js';

/** `zg-gateway:request:start`: a client request arrived (published by the HTTP server before anything else). */
export interface RequestStartEvent {
  gatewayId: string;
  requestId: string;
  method: string;
  /** The path asked for (any path a client sent). */
  route: string;
  /** The client's W3C `traceparent` / `tracestate` headers, when it sent them (unchecked). */
  traceparent: string | undefined;
  tracestate: string | undefined;
  /**
   * Set by a subscriber (the tracer): the request's trace id, which the log line and the
   * request-done event then carry. Read back after publishing, as undici's `request:create`
   * lets subscribers add headers.
   */
  traceId?: string;
  /** An opaque slot a subscriber may fill; the request-done event carries it back. */
  span?: unknown;
}

/** `zg-gateway:attempt:start`: a request was sent to a provider. */
export interface AttemptStartEvent {
  gatewayId: string;
  requestId: string;
  providerId: string;
  /** The model group served. */
  model: string;
  /** The model id the provider is sent (empty when unknown). */
  upstreamModel: string;
  /** `chat`, `completions`, `embeddings`, or empty when unknown. */
  route: string;
  /** 1 for the first provider tried for the request, 2 for the next, ... (0 when unknown). */
  attempt: number;
  /**
   * Headers a subscriber asks to send with this attempt (the tracer's W3C `traceparent`): the
   * gateway reads them after publishing and the provider adapters add them to the request.
   */
  readonly headers: Record<string, string>;
  /** An opaque slot a subscriber may fill; the attempt's finish event carries it back. */
  span?: unknown;
}

/** `zg-gateway:attempt:finish`: that attempt ended (exactly once per start). */
export interface AttemptFinishEvent {
  gatewayId: string;
  requestId: string | undefined;
  /** The model group the attempt served (as in the start event). */
  model: string;
  outcome: AttemptOutcome;
  /** What a subscriber left in the start event's `span`. */
  span: unknown;
}

/** `zg-gateway:admission:wait`: a request waited in the admission queue (published when the wait ends). */
export interface AdmissionWaitEvent {
  gatewayId: string;
  requestId: string;
  /** How long it waited, ms. */
  waitedMs: number;
  priority: number;
}

/** `zg-gateway:answer:served`: an answer was served and its fee recorded (billing, trust sampling). */
export interface AnswerServedEvent {
  gatewayId: string;
  requestId: string | undefined;
  providerId: string;
  /** The model group served, the id the provider was sent, and the model it says answered. */
  model: string;
  upstreamModel: string;
  responseModel: string | undefined;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** The fee, neuron; undefined without usage. */
  costNeuron: bigint | undefined;
  /** How long recording it took (billing's book, trust sampling), ms. */
  durationMs: number;
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
  /** The W3C trace id of the request when tracing is on (see `request:start`). */
  traceId: string | undefined;
  /** What a subscriber left in the start event's `span`. */
  span: unknown;
  /** When it started, epoch ms. */
  startedAtMs: number;
  /** The client key that made it (its id), when keys are on. */
  keyId: string | undefined;
  /** The model the client asked for (before aliases and fallbacks). */
  requestedModel: string | undefined;
  /** Tokens the client key was charged for: the answer's usage, or what a stream that ended early produced. */
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** What a stream that ended early was charged (neuron; `costNeuron` stays for complete answers). */
  chargedNeuron: bigint | undefined;
  /** The charge was estimated (the provider sent no usage). */
  usageEstimated: boolean | undefined;
  /** The model it was a fallback for, when it was served by a fallback. */
  fallbackFor: string | undefined;
  /** The pool of the provider that served it. */
  pool: string | undefined;
  /** The admission priority applied. */
  priority: number | undefined;
  stream: boolean | undefined;
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
  /** The `/v1/verify` request's id, when known. */
  requestId?: string | undefined;
  /** How long the check took, ms. */
  durationMs?: number | undefined;
}

export const requestStartChannel = channel('zg-gateway:request:start');
export const attemptStartChannel = channel('zg-gateway:attempt:start');
export const admissionWaitChannel = channel('zg-gateway:admission:wait');
export const answerServedChannel = channel('zg-gateway:answer:served');
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
