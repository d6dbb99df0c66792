import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RequestTiming } from '../dispatch/complete-request.js';
import { publish, requestDoneChannel, requestStartChannel, type RequestDoneEvent, type RequestStartEvent } from '../observability/index.js';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Per-request facts the log line reports. */
export interface RequestFacts {
  requestId: string;
  startedAt: number;
  provider?: string | undefined;
  model?: string | undefined;
  attempts?: number | undefined;
  /** The retry policy's wait after each failed attempt, ms (see `retryPolicy`). */
  retryDelaysMs?: number[] | undefined;
  stream?: boolean | undefined;
  errorCode?: string | undefined;
  outcome?: string | undefined;
  costNeuron?: string | undefined;
  ttfbMs?: number | undefined;
  routeReason?: string | undefined;
  fallbackFor?: string | undefined;
  keyId?: string | undefined;
  /** The model the client asked for. */
  requestedModel?: string | undefined;
  /** The tokens the key was charged for (the answer's usage, or what an early-ended stream produced). */
  promptTokens?: number | undefined;
  completionTokens?: number | undefined;
  /** The admission priority applied (X-Priority / user_level, capped by the key's maxPriority). */
  priority?: number | undefined;
  /** The priority the client asked for, when its key's maxPriority lowered it. */
  priorityRequested?: number | undefined;
  /** A stream that ended early: what it was charged (neuron; the key's spend, not billing's), and whether its usage was estimated. */
  chargedNeuron?: string | undefined;
  usageEstimated?: boolean | undefined;
  /** The pool of the provider that served it, and the pool it asked for when it overflowed. */
  pool?: string | undefined;
  overflowFrom?: string | undefined;
  /** When providers were waited for (completions only; see {@link RequestTiming}). */
  timing?: RequestTiming | undefined;
  /**
   * Set by a route that keeps working after the client has gone (a stream the client aborted is still
   * charged): the log line waits for it, so it carries what the route learnt last (usage, cost).
   */
  settled?: Promise<void> | undefined;
  /** The W3C trace id when tracing is on (a `request:start` subscriber set it). */
  traceId?: string | undefined;
  /** What a `request:start` subscriber left for the request-done event. */
  span?: unknown;
}

const FACTS = Symbol('zg-gateway.requestFacts');

type WithFacts = ServerResponse & { [FACTS]?: RequestFacts };

/** The facts recorded for a response by {@link beginRequest}. */
export function factsOf(response: ServerResponse): RequestFacts {
  const facts = (response as WithFacts)[FACTS];
  if (!facts) throw new Error('beginRequest was not called for this response');
  return facts;
}

/**
 * The gateway's own time in a request, ms: the whole duration minus the time providers were
 * waited for (from the first send to the end of the last attempt). Undefined when not measured.
 */
function overheadOf(facts: RequestFacts, durationMs: number, now: number): number | undefined {
  const timing = facts.timing;
  if (!timing) return undefined;
  const queued = timing.queuedMs ?? 0;
  if (timing.firstSentAt === undefined) return Math.max(0, durationMs - queued);
  return Math.max(0, durationMs - queued - ((timing.providerDoneAt ?? now) - timing.firstSentAt));
}

/**
 * Gives a request its id (the client's `X-Request-Id` when sane, else a UUID), echoes it, and
 * writes exactly one structured log line when the response ends or the client leaves. The line
 * never carries headers, bodies or secrets. With a `gatewayId`, it also publishes
 * `zg-gateway:request:done` (when someone listens).
 */
export function beginRequest(request: IncomingMessage, response: ServerResponse, logger: Logger, path: string, gatewayId?: string): RequestFacts {
  const incoming = request.headers['x-request-id'];
  const facts: RequestFacts = {
    requestId: typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID(),
    startedAt: performance.now(),
  };
  (response as WithFacts)[FACTS] = facts;
  response.setHeader('x-request-id', facts.requestId);
  if (gatewayId !== undefined && requestStartChannel.hasSubscribers) startTrace(request, path, facts, gatewayId);
  response.once('close', () => {
    const closedAt = performance.now();
    if (facts.settled) void facts.settled.then(() => logLine(request, response, logger, path, facts, gatewayId, closedAt));
    else logLine(request, response, logger, path, facts, gatewayId, closedAt);
  });
  return facts;
}

/** Publishes `zg-gateway:request:start` and keeps what a subscriber (the tracer) answered. */
function startTrace(request: IncomingMessage, path: string, facts: RequestFacts, gatewayId: string): void {
  const { traceparent, tracestate } = request.headers;
  const event: RequestStartEvent = {
    gatewayId,
    requestId: facts.requestId,
    method: request.method ?? '',
    route: path,
    traceparent: typeof traceparent === 'string' ? traceparent : undefined,
    tracestate: typeof tracestate === 'string' ? tracestate : undefined,
  };
  requestStartChannel.publish(event);
  facts.traceId = event.traceId;
  facts.span = event.span;
}

/** Publishes `zg-gateway:request:done` and writes the request's one log line. */
function logLine(request: IncomingMessage, response: ServerResponse, logger: Logger, path: string, facts: RequestFacts, gatewayId: string | undefined, closedAt: number): void {
  const status = response.statusCode;
  const outcome = facts.outcome ?? (response.writableFinished ? (status < 400 ? 'ok' : 'error') : 'client_closed');
  const now = closedAt;
  const durationMs = now - facts.startedAt;
  if (gatewayId !== undefined && requestDoneChannel.hasSubscribers) {
    const event: RequestDoneEvent = {
      gatewayId,
      requestId: facts.requestId,
      route: path,
      method: request.method ?? '',
      status,
      outcome,
      model: facts.model,
      providerId: facts.provider,
      attempts: facts.attempts ?? 0,
      errorCode: facts.errorCode,
      durationMs,
      overheadMs: overheadOf(facts, durationMs, now),
      ttfbMs: facts.ttfbMs,
      costNeuron: facts.costNeuron === undefined ? undefined : BigInt(facts.costNeuron),
      routeReason: facts.routeReason,
      traceId: facts.traceId,
      span: facts.span,
      startedAtMs: Date.now() - (performance.now() - facts.startedAt),
      keyId: facts.keyId,
      requestedModel: facts.requestedModel,
      promptTokens: facts.promptTokens,
      completionTokens: facts.completionTokens,
      chargedNeuron: facts.chargedNeuron === undefined ? undefined : BigInt(facts.chargedNeuron),
      usageEstimated: facts.usageEstimated,
      fallbackFor: facts.fallbackFor,
      pool: facts.pool,
      priority: facts.priority,
      stream: facts.stream,
    };
    publish(requestDoneChannel, event);
  }
  const line = {
    event: 'request',
    requestId: facts.requestId,
    method: request.method,
    path,
    status,
    durationMs: Math.round(durationMs * 10) / 10,
    provider: facts.provider,
    model: facts.model,
    attempts: facts.attempts,
    retryDelaysMs: facts.retryDelaysMs,
    stream: facts.stream,
    outcome,
    errorCode: facts.errorCode,
    costNeuron: facts.costNeuron,
    ttfbMs: facts.ttfbMs === undefined ? undefined : Math.round(facts.ttfbMs * 10) / 10,
    routeReason: facts.routeReason,
    fallbackFor: facts.fallbackFor,
    priority: facts.priority,
    priorityRequested: facts.priorityRequested,
    chargedNeuron: facts.chargedNeuron,
    usageEstimated: facts.usageEstimated,
    pool: facts.pool,
    overflowFrom: facts.overflowFrom,
    queuedMs: facts.timing?.queuedMs === undefined ? undefined : Math.round(facts.timing.queuedMs),
    // The client key by its id (ids are not secret; the key itself never reaches a log).
    keyId: facts.keyId,
    traceId: facts.traceId,
  };
  if (status >= 500 || outcome === 'stream_error') logger.warn(line, 'request');
  else logger.info(line, 'request');
}
