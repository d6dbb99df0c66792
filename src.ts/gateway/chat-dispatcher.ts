import type { Logger } from 'pino';
import type { Lease, LoadBalancer } from '../balancer/index.js';
import { GatewayError, toGatewayError } from '../errors/index.js';
import type { RetryBudget } from '../health/index.js';
import type { ChatCompletionRequest, InferenceProvider, ProviderJsonResult, TokenUsage } from '../providers/inference-provider.js';
import type { ResponseRecord, SessionStore } from '../sessions/index.js';
import type { ProviderRegistry } from './provider-registry.js';

/** Timeouts the dispatcher enforces, ms. */
export interface DispatchTimeouts {
  firstByte: number;
  chunkGap: number;
  total: number;
}

/** One provider tried for a request. */
export interface AttemptRecord {
  provider: string;
  code: string;
  message: string;
  upstreamStatus?: number;
}

/** What a successful dispatch hands to the relay. */
export type DispatchedAnswer =
  | ProviderJsonResult
  | {
      kind: 'stream';
      chatId: string | undefined;
      /** The first event, already received (so a failure before it could still be retried). */
      firstEvent: string;
      /** The remaining events. */
      events: AsyncIterator<string>;
    };

/** How the relay ended, reported back exactly once. */
export type RelayOutcome =
  | { ok: true; responseId: string; chatId: string; usage: TokenUsage | undefined }
  | { ok: false; error: GatewayError };

/** A chat placed on a provider, still owning its lease until `finish` is called. */
export interface DispatchedChat {
  readonly provider: InferenceProvider;
  readonly attempts: readonly AttemptRecord[];
  /** The session was pinned to a provider that could not serve, and is now pinned to this one. */
  readonly repinnedFrom: string | undefined;
  readonly answer: DispatchedAnswer;
  /** Aborted when the client leaves, the total deadline passes or shutdown ends the request. */
  readonly signal: AbortSignal;
  /** Releases the lease, feeds health, and on success binds the response id (and session). Idempotent. */
  finish(outcome: RelayOutcome): Promise<void>;
}

export interface DispatchContext {
  /** Aborted when the client disconnects. */
  clientSignal: AbortSignal;
  requestId: string;
  /** `X-Session-Id`, when the client sent one. */
  sessionId?: string;
}

export interface ChatDispatcherOptions {
  registry: ProviderRegistry;
  balancer: LoadBalancer;
  responses: SessionStore<ResponseRecord>;
  sessions: SessionStore<string>;
  retryBudget: RetryBudget;
  maxAttempts: number;
  timeouts: DispatchTimeouts;
  /** Aborted when the gateway's grace period for shutdown is over. */
  shutdownSignal: AbortSignal;
  logger: Logger;
}

/** Codes that, when every attempt ended with them, are returned as they are (more precise than "all failed"). */
const PASS_THROUGH_WHEN_UNANIMOUS = new Set(['insufficient_funds', 'upstream_rate_limited', 'upstream_timeout']);

/**
 * The one dispatch loop, shared by streaming and non-streaming chats: session affinity, pick
 * with an exclusion list, lease, call, retry before the first byte, bind after success.
 */
export class ChatDispatcher {
  private readonly options: ChatDispatcherOptions;

  constructor(options: ChatDispatcherOptions) {
    this.options = options;
  }

  async dispatch(request: ChatCompletionRequest, context: DispatchContext): Promise<DispatchedChat> {
    const { registry, balancer, sessions, retryBudget, maxAttempts, timeouts } = this.options;
    retryBudget.recordRequest();
    const attempts: AttemptRecord[] = [];
    const exclude = new Set<string>();
    // The request's lifetime: client gone, total deadline, or shutdown.
    const requestController = new AbortController();
    const abortRequest = (reason: GatewayError): void => {
      if (!requestController.signal.aborted) requestController.abort(reason);
    };
    const onClientGone = (): void => abortRequest(new GatewayError('client_closed_request', 'The client closed the connection'));
    const onShutdown = (): void => abortRequest(new GatewayError('shutting_down', 'The gateway is shutting down'));
    if (context.clientSignal.aborted) onClientGone();
    context.clientSignal.addEventListener('abort', onClientGone, { once: true });
    this.options.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
    const totalTimer = setTimeout(
      () => abortRequest(new GatewayError('upstream_timeout', `The request took longer than ${timeouts.total} ms`)),
      timeouts.total,
    );
    const detachRequest = (): void => {
      clearTimeout(totalTimer);
      context.clientSignal.removeEventListener('abort', onClientGone);
      this.options.shutdownSignal.removeEventListener('abort', onShutdown);
    };

    let pinned: string | undefined;
    let repinnedFrom: string | undefined;
    try {
      if (context.sessionId) pinned = await sessions.get(context.sessionId);
      if (pinned && !registry.get(pinned)) pinned = undefined;
      if (pinned && !registry.isAvailable(pinned)) {
        repinnedFrom = pinned;
        pinned = undefined;
      }
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (requestController.signal.aborted) throw requestController.signal.reason as GatewayError;
        if (attempt > 1 && !retryBudget.tryAcquireRetry()) {
          this.options.logger.warn({ event: 'retry_budget_exhausted', requestId: context.requestId }, 'retry budget exhausted');
          break;
        }
        const providerId = attempt === 1 && pinned ? pinned : balancer.pick({ exclude, isAvailable: registry.isAvailable });
        if (!providerId) break;
        const entry = registry.get(providerId);
        if (!entry) break;
        const lease = balancer.acquire(providerId);
        registry.attemptStarted(providerId);
        try {
          const answer = await this.attempt(entry.provider, request, requestController.signal, timeouts);
          if (pinned && providerId !== pinned) repinnedFrom = pinned;
          return this.placed(entry.provider, answer, lease, attempts, repinnedFrom, context, requestController.signal, detachRequest);
        } catch (thrown) {
          const error = toGatewayError(thrown);
          lease.release({ ok: false, error: { code: error.code, message: error.message } });
          registry.attemptFinished(providerId, error);
          attempts.push({ provider: providerId, code: error.code, message: error.message, ...(error.upstreamStatus ? { upstreamStatus: error.upstreamStatus } : {}) });
          if (requestController.signal.aborted) throw requestController.signal.reason as GatewayError;
          if (!error.retryable) throw error;
          exclude.add(providerId);
          this.options.logger.debug({ event: 'attempt_failed', requestId: context.requestId, provider: providerId, code: error.code }, 'attempt failed; trying another provider');
        }
      }
      throw this.finalError(attempts);
    } catch (error) {
      detachRequest();
      throw error;
    }
  }

  /** One call on one provider, bounded by the first-byte timeout (first event, for streams). */
  private async attempt(
    provider: InferenceProvider,
    request: ChatCompletionRequest,
    requestSignal: AbortSignal,
    timeouts: DispatchTimeouts,
  ): Promise<DispatchedAnswer> {
    const attemptController = new AbortController();
    const forward = (): void => attemptController.abort(requestSignal.reason);
    if (requestSignal.aborted) forward();
    requestSignal.addEventListener('abort', forward, { once: true });
    const firstByteTimer = setTimeout(
      () =>
        attemptController.abort(
          new GatewayError('upstream_timeout', `Provider ${provider.id} sent nothing within ${timeouts.firstByte} ms`, {
            retryable: true,
            details: { provider: provider.id },
          }),
        ),
      timeouts.firstByte,
    );
    try {
      const result = await provider.chat(request, { signal: attemptController.signal, chunkTimeoutMs: timeouts.chunkGap });
      if (result.kind === 'json') return result;
      const events = result.events[Symbol.asyncIterator]();
      let first: IteratorResult<string>;
      try {
        first = await events.next();
      } catch (error) {
        throw toGatewayError(error);
      }
      if (first.done) {
        throw new GatewayError('upstream_error', `Provider ${provider.id} sent an empty stream`, { retryable: true, details: { provider: provider.id } });
      }
      try {
        JSON.parse(first.value);
      } catch (error) {
        await events.return?.();
        throw new GatewayError('upstream_error', `Provider ${provider.id} sent a stream event that is not JSON`, {
          retryable: true,
          cause: error,
          details: { provider: provider.id },
        });
      }
      return { kind: 'stream', chatId: result.chatId, firstEvent: first.value, events };
    } catch (error) {
      requestSignal.removeEventListener('abort', forward);
      const reason: unknown = attemptController.signal.reason;
      if (attemptController.signal.aborted && GatewayError.isInstance(reason)) throw reason;
      // Make sure nothing of this failed attempt stays open upstream.
      attemptController.abort(error);
      throw error;
    } finally {
      // On success the attempt signal stays linked to the request for the rest of the relay.
      clearTimeout(firstByteTimer);
    }
  }

  private placed(
    provider: InferenceProvider,
    answer: DispatchedAnswer,
    lease: Lease,
    attempts: AttemptRecord[],
    repinnedFrom: string | undefined,
    context: DispatchContext,
    signal: AbortSignal,
    detachRequest: () => void,
  ): DispatchedChat {
    const { registry, responses, sessions, logger } = this.options;
    let finished = false;
    return {
      provider,
      attempts,
      repinnedFrom,
      answer,
      signal,
      finish: async (outcome: RelayOutcome): Promise<void> => {
        if (finished) return;
        finished = true;
        detachRequest();
        if (outcome.ok) {
          lease.release({ ok: true });
          registry.attemptFinished(provider.id, undefined);
          const record: ResponseRecord = { providerId: provider.id, chatId: outcome.chatId, usage: outcome.usage, createdAt: Date.now(), model: provider.model };
          try {
            await responses.set(outcome.responseId, record);
            if (outcome.chatId !== outcome.responseId) await responses.set(outcome.chatId, record);
            if (context.sessionId) await sessions.set(context.sessionId, provider.id);
          } catch (error) {
            logger.error({ event: 'session_store_failed', requestId: context.requestId, err: error }, 'could not record the response id');
          }
          return;
        }
        lease.release({ ok: false, error: { code: outcome.error.code, message: outcome.error.message } });
        registry.attemptFinished(provider.id, outcome.error);
      },
    };
  }

  private finalError(attempts: AttemptRecord[]): GatewayError {
    if (attempts.length === 0) {
      return new GatewayError('no_healthy_provider', 'No provider is available to serve the request', { details: { attempts: [] } });
    }
    const codes = new Set(attempts.map((attempt) => attempt.code));
    const [onlyCode] = [...codes];
    const summary = attempts.map((attempt) => `${attempt.provider}: ${attempt.code}`).join('; ');
    if (codes.size === 1 && onlyCode && PASS_THROUGH_WHEN_UNANIMOUS.has(onlyCode)) {
      const last = attempts[attempts.length - 1] as AttemptRecord;
      return new GatewayError(onlyCode as 'insufficient_funds', `${last.message} (${attempts.length} attempt${attempts.length > 1 ? 's' : ''}: ${summary})`, {
        details: { attempts },
      });
    }
    return new GatewayError('all_providers_failed', `All ${attempts.length} attempted provider${attempts.length > 1 ? 's' : ''} failed: ${summary}`, {
      details: { attempts },
    });
  }
}
