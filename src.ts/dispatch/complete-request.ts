import type { BalancingStrategy } from '../strategies/index.js';
import type { Logger } from 'pino';
import { GatewayError, toGatewayError } from '../errors/index.js';
import { isMediaRoute, type BilledUnits, type CompletionRoute, type MultipartUpload, type TokenUsage } from '../providers/inference-provider.js';
import { costOfBilled } from '../providers/media-billing.js';
import { headerSafe } from '../providers/http/provider-url.js';
import type { ResponseRecord, SessionStore } from '../stores/index.js';
import { endStreamWithError, inBandError, relayStream, SSE_HEADERS, type RelayedAnswer, type RelayProgress, type ResponseSink } from './answer-relay.js';
import { DEFAULT_CLIENT_STALL_MS, stallBoundedSink } from './client-stall.js';
import type { ChatDispatcher, Placement } from './chat-dispatcher.js';
import type { ProviderEntry } from '../fleet/provider-entry.js';
import { costOfUsage, estimatePromptTokens, pricesFor } from '../providers/model-pricing.js';
import type { RoutePlan } from '../routing/route-planner.js';

/** One served answer, as the core's listeners (trust sampling, billing) are told of it. */
export interface ServedAnswerFacts {
  readonly responseId: string;
  readonly chatId: string;
  /** The model group served. */
  readonly model: string;
  /** The model id the provider was sent. */
  readonly upstreamModel: string;
  readonly usage: TokenUsage | undefined;
  /** usage × the provider's price for that model when served, neuron; undefined without usage. */
  readonly costNeuron: bigint | undefined;
  /** Epoch ms. */
  readonly servedAt: number;
  /** The request it answered (the gateway's request id), when known. */
  readonly requestId?: string | undefined;
  /** The model the provider says answered, when it said. */
  readonly responseModel?: string | undefined;
}

/** How a completion request ended, for the request log line, metrics and client keys. */
export interface CompletionReport {
  status: number;
  /** `ok`, `stream_error` (failed after the stream started), `client_closed` (it left, or stopped reading: `errorCode` `client_stalled`). */
  outcome: 'ok' | 'stream_error' | 'client_closed';
  errorCode: string | undefined;
  provider: string | undefined;
  model: string | undefined;
  /** Providers tried, this one included. */
  attempts: number;
  /** The retry policy's wait after each failed attempt, ms (0: none), when any attempt failed. */
  retryDelaysMs?: number[] | undefined;
  usage: TokenUsage | undefined;
  /** usage × the serving provider's price (media: billed units × price), neuron. */
  costNeuron: bigint | undefined;
  /** A media answer's billed units (it has no token usage). */
  billed?: BilledUnits | undefined;
  /**
   * What a stream that ended early (client gone, provider failed after the start) had the provider
   * produce, for the client key's charge: the provider's usage when it sent one, else an estimate (the
   * prompt estimate and the content relayed, about four characters a token). `usage` and `costNeuron`
   * stay for complete answers only (billing and metrics count served answers). Undefined otherwise.
   */
  unfinished: { usage: TokenUsage; costNeuron: bigint | undefined; estimated: boolean } | undefined;
  /** Time to the first byte of substance from the provider, ms. */
  ttfbMs: number | undefined;
  routeReason: string | undefined;
  fallbackFor: string | undefined;
  responseId: string | undefined;
  /** The pool of the provider that served it (`X-Pool`), when it has one. */
  pool: string | undefined;
  /** The pool it asked for, when the serving provider is in another (it overflowed). */
  overflowFrom: string | undefined;
}

/**
 * `performance.now()` stamps the core fills in as a request goes, so the HTTP layer can tell the
 * gateway's own time from the time spent waiting for providers.
 */
export interface RequestTiming {
  /** When the request was first sent to a provider. */
  firstSentAt?: number;
  /** When the last provider attempt ended: the answer fully received (streams: their end), or the last failure. */
  providerDoneAt?: number;
  /** How long it waited in the admission queue, ms (absent: it did not wait). */
  queuedMs?: number;
}

/** Everything one completion needs from the core. */
export interface CompletionContext {
  readonly dispatcher: ChatDispatcher;
  readonly responses: SessionStore<ResponseRecord>;
  readonly sessions: SessionStore<string>;
  readonly logger: Logger;
  readonly now: () => number;
  /** Told once per served answer (trust sampling, billing). Must not throw. */
  readonly onServed?: (entry: ProviderEntry, answer: ServedAnswerFacts) => void;
  /** Longest a streaming client may stop reading before it is cut, ms. Default {@link DEFAULT_CLIENT_STALL_MS}. */
  readonly clientStallMs?: number;
}

/** One completion request as the HTTP layer hands it over (validated, gateway-only fields removed). */
export interface CompletionInput {
  readonly route: CompletionRoute;
  readonly body: Record<string, unknown>;
  /** A multipart route's form as the client sent it. */
  readonly upload?: MultipartUpload | undefined;
  readonly requestId: string;
  readonly sessionId: string | undefined;
  readonly plan: RoutePlan;
  /** The request's lifetime (client gone, deadline, shutdown). */
  readonly signal: AbortSignal;
  /** Called when the request is first sent to a provider (it no longer waits in the gateway). */
  readonly onSent: () => void;
  /** Replaces the gateway's strategy for this request (a per-request `provider.sort`). */
  readonly strategy?: BalancingStrategy;
  /** Stamped with when providers were waited for; undefined: not measured. */
  readonly timing?: RequestTiming | undefined;
  /** Its admission queue priority (0-10); undefined: it never waits in the queue. */
  readonly priority?: number | undefined;
  /** The client key that made it: its session pin and response id are scoped to it. Undefined: no keys. */
  readonly keyId?: string | undefined;
  /** False: the client opted out of prefix affinity (`X-Affinity: off`). Default true. */
  readonly affinity?: boolean | undefined;
}

/**
 * The session store's name for a client's `X-Session-Id`: scoped to its client key, so another key
 * sending the same value has another session (it cannot read or move the first key's pin). `/` is in
 * neither a key id nor a session id, so no scoped name equals another key's or an unscoped one.
 */
export function scopedSessionId(sessionId: string, keyId: string | undefined): string {
  return keyId === undefined ? sessionId : `key/${keyId}/${sessionId}`;
}

/** Usage for a stream that ended early: the provider's when it sent some, else an estimate from what was relayed; undefined when nothing was produced. */
function usageOfEndedStream(progress: RelayProgress, body: Record<string, unknown>): { usage: TokenUsage; estimated: boolean } | undefined {
  if (progress.usage) return { usage: progress.usage, estimated: false };
  if (progress.contentChars === 0) return undefined;
  const promptTokens = estimatePromptTokens(body);
  const completionTokens = Math.ceil(progress.contentChars / 4);
  return { usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }, estimated: true };
}

function answerHeaders(placement: Placement): Record<string, string> {
  // Provider ids come from configuration, the node API or the chain: encoded if not header-safe, so a header can never fail after the upstream answered.
  const headers: Record<string, string> = { 'x-provider-address': headerSafe(placement.entry.descriptor.address) };
  if (placement.repinnedFrom) {
    headers['x-session-repinned'] = 'true';
    headers['x-session-previous-provider'] = headerSafe(placement.repinnedFrom);
  }
  if (placement.target.fallbackFor !== undefined) headers['x-model-fallback'] = placement.target.model;
  if (placement.target.fallbackReason !== undefined) headers['x-model-fallback-reason'] = placement.target.fallbackReason;
  if (placement.routeReason) headers['x-route-reason'] = placement.routeReason;
  if (placement.entry.pool !== undefined) headers['x-pool'] = headerSafe(placement.entry.pool);
  return headers;
}

/**
 * Places a completion and relays its answer to `sink`: throws a GatewayError while nothing has
 * been written (the caller answers with it), and once the answer has started resolves with a
 * report in every case (a failure after the start is written in band). Releases the lease
 * exactly once, records the response id (and session pin) before the client can see the end.
 */
export async function completeRequest(context: CompletionContext, input: CompletionInput, sink: ResponseSink): Promise<CompletionReport> {
  const stream = input.body.stream === true;
  let pinned: string | undefined;
  // Embeddings take no part in sessions: a conversation's pin is neither read nor moved by them.
  const sessionKey = input.sessionId && input.route !== 'embeddings' ? scopedSessionId(input.sessionId, input.keyId) : undefined;
  if (sessionKey) {
    try {
      pinned = await context.sessions.get(sessionKey);
    } catch (error) {
      context.logger.warn({ event: 'session_store_failed', requestId: input.requestId, err: error }, 'could not read the session pin; placing the request afresh');
    }
  }
  const maxTokens = typeof input.body.max_tokens === 'number' ? input.body.max_tokens : typeof input.body.max_completion_tokens === 'number' ? input.body.max_completion_tokens : undefined;
  const timing = input.timing;
  const providerDone = (): void => {
    if (timing) timing.providerDoneAt = performance.now();
  };
  let placement: Placement;
  try {
    placement = await context.dispatcher.place({
      route: input.route,
      body: input.body,
      upload: input.upload,
      plan: input.plan,
      requestId: input.requestId,
      pinnedProviderId: pinned,
      signal: input.signal,
      pick: { model: input.plan.targets[0]?.model ?? '', promptTokens: input.plan.needs?.promptTokens ?? estimatePromptTokens(input.body), maxTokens },
      onSent: timing
        ? () => {
            timing.firstSentAt ??= performance.now();
            input.onSent();
          }
        : input.onSent,
      ...(input.strategy ? { strategy: input.strategy } : {}),
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      ...(input.affinity === false ? { affinity: false } : {}),
      ...(timing ? { onQueued: (waitedMs: number) => void (timing.queuedMs = (timing.queuedMs ?? 0) + waitedMs) } : {}),
    });
  } catch (error) {
    providerDone();
    throw error;
  }
  const { entry, lease, answer } = placement;
  const offer = entry.descriptor.models.find((candidate) => candidate.id === placement.target.model);
  const report: CompletionReport = {
    status: 200,
    outcome: 'ok',
    errorCode: undefined,
    provider: entry.id,
    model: placement.target.model,
    attempts: placement.attempts.length + 1,
    ...(placement.attempts.length > 0 ? { retryDelaysMs: placement.attempts.map((attempt) => attempt.delayMs ?? 0) } : {}),
    usage: undefined,
    costNeuron: undefined,
    unfinished: undefined,
    ttfbMs: answer.ttfbMs,
    routeReason: placement.routeReason,
    fallbackFor: placement.target.fallbackFor,
    responseId: undefined,
    pool: entry.pool,
    overflowFrom: placement.target.overflowFrom,
  };
  const record = async (relayed: RelayedAnswer, billed?: BilledUnits): Promise<void> => {
    providerDone();
    report.usage = relayed.usage;
    report.billed = billed;
    report.responseId = relayed.responseId;
    report.costNeuron = relayed.usage && offer ? costOfUsage(offer, relayed.usage) : billed && offer ? costOfBilled(offer, billed) : undefined;
    if (report.costNeuron !== undefined) entry.spendNeuron += report.costNeuron;
    lease.release({ ok: true, ttfbMs: answer.ttfbMs, usage: relayed.usage, stream, responseModel: relayed.model });
    placement.served(relayed.usage);
    if (relayed.usage) entry.provider.recordUsage?.(relayed.usage, placement.upstreamModel);
    // A media answer's fee, once, by the SDK's rule for its service type.
    if (billed) entry.provider.recordBilled?.(billed, placement.upstreamModel);
    const price = relayed.usage && offer ? pricesFor(offer, relayed.usage.prompt_tokens) : undefined;
    const stored: ResponseRecord = {
      providerId: entry.id,
      chatId: relayed.chatId,
      usage: relayed.usage,
      createdAt: context.now(),
      model: placement.target.model,
      upstreamModel: placement.upstreamModel,
      costNeuron: report.costNeuron?.toString(),
      ...(input.keyId !== undefined ? { keyId: input.keyId } : {}),
      ...(price ? { price: { input: price.input.toString(), output: price.output.toString() } } : {}),
    };
    context.onServed?.(entry, {
      responseId: relayed.responseId,
      chatId: relayed.chatId,
      model: placement.target.model,
      upstreamModel: placement.upstreamModel,
      usage: relayed.usage,
      costNeuron: report.costNeuron,
      servedAt: stored.createdAt,
      requestId: input.requestId,
      responseModel: relayed.model,
    });
    // An embeddings list has no id the client sees, and nothing to verify: no response record (and no pin).
    if (input.route === 'embeddings') return;
    try {
      await context.responses.set(relayed.responseId, stored);
      if (relayed.chatId !== relayed.responseId) await context.responses.set(relayed.chatId, stored);
      if (sessionKey) await context.sessions.set(sessionKey, entry.id);
    } catch (error) {
      context.logger.error({ event: 'session_store_failed', requestId: input.requestId, err: error }, 'could not record the response id');
    }
  };
  try {
    if (answer.kind === 'json') {
      const relayed: RelayedAnswer = { responseId: answer.facts.responseId ?? answer.chatId, chatId: answer.chatId, usage: answer.facts.usage, model: answer.facts.model };
      await record(relayed, answer.facts.billed);
      const headers = answerHeaders(placement);
      headers['content-type'] = answer.contentType ?? 'application/json';
      // Images and transcriptions carry no id: the one `/v1/verify` takes is given here.
      if (isMediaRoute(input.route)) headers['x-response-id'] = headerSafe(relayed.responseId);
      // Known length: the client gets one plain body (no chunked framing) and knows its size.
      headers['content-length'] = String(answer.bytes.length);
      if (report.costNeuron !== undefined) headers['x-request-cost'] = report.costNeuron.toString();
      sink.head(200, headers);
      sink.end(answer.bytes);
      return report;
    }
    sink.head(200, { ...SSE_HEADERS, ...answerHeaders(placement) });
    const clientWantsUsage = (input.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const progress: RelayProgress = { contentChars: 0, usage: undefined };
    try {
      // A client that stops reading pauses the provider (backpressure) and, after clientStallMs, is cut.
      await relayStream(answer, stallBoundedSink(sink, context.clientStallMs ?? DEFAULT_CLIENT_STALL_MS), input.signal, clientWantsUsage, entry.id, record, progress);
    } catch (thrown) {
      const error = input.signal.aborted && GatewayError.isInstance(input.signal.reason) ? input.signal.reason : toGatewayError(thrown);
      await answer.events.return?.(undefined).catch(() => undefined);
      providerDone();
      // What the provider produced before the end is charged (the client key's spend and tpm).
      const produced = report.usage === undefined ? usageOfEndedStream(progress, input.body) : undefined;
      if (produced) report.unfinished = { ...produced, costNeuron: offer ? costOfUsage(offer, produced.usage) : undefined };
      lease.release({ ok: false, errorCode: error.code, errorMessage: error.message, ttfbMs: answer.ttfbMs, stream });
      report.errorCode = error.code;
      if (error.code === 'client_closed_request' || error.code === 'client_stalled') {
        report.outcome = 'client_closed';
        // A client that stopped reading gets nothing more: its connection is cut, buffers and all.
        if (error.code === 'client_stalled') sink.destroy?.();
        return report;
      }
      report.outcome = 'stream_error';
      const streamError = inBandError(error, entry.id);
      report.errorCode = streamError.code;
      endStreamWithError(sink, streamError);
    }
    return report;
  } finally {
    placement.detach();
  }
}
