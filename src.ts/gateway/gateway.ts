import type { Logger } from 'pino';
import { preferenceStrategies, type BalancingStrategy, type PreferenceSort } from '../strategies/index.js';
import { AffinityRouter, DEFAULT_AFFINITY_SETTINGS, type AffinitySettings } from '../affinity/index.js';
import type { SharedPrefixStore } from '../stores/shared-prefix-store.js';
import { GatewayError, toGatewayError } from '../errors/index.js';
import { RetryBudget } from '../dispatch/retry-budget.js';
import {
  answerServedChannel,
  countStoreOperations,
  emptyStoreCounts,
  publish,
  verifyDoneChannel,
  type AnswerServedEvent,
  type StoreOperationCounts,
  type VerifyDoneEvent,
} from '../observability/index.js';
import { serviceTypeOfRoute, type CompletionRoute, type MultipartUpload, type ResponseLimits } from '../providers/inference-provider.js';
import type { ResponseRecord, SessionStore } from '../stores/index.js';
import type { ResponseSink } from '../dispatch/answer-relay.js';
import { ChatDispatcher, type DispatchTimeouts } from '../dispatch/chat-dispatcher.js';
import type { PreambleLimits } from '../dispatch/attempt-on-provider.js';
import { DEFAULT_CLIENT_STALL_MS } from '../dispatch/client-stall.js';
import { completeRequest, type CompletionReport, type RequestTiming, type ServedAnswerFacts } from '../dispatch/complete-request.js';
import type { FleetSource } from '../fleet/fleet-source.js';
import type { ProviderEntry } from '../fleet/provider-entry.js';
import { ProviderRegistry } from '../fleet/provider-registry.js';
import { RequestScope, shuttingDownReason } from '../dispatch/request-scope.js';
import { RoutePlanner, type ProviderFilter, type RoutePlannerOptions } from '../routing/route-planner.js';
import { IdleWatch } from '../dispatch/idle-watch.js';
import { estimateRequestCost } from '../dispatch/estimate-request-cost.js';
import { requestNeeds } from '../routing/request-needs.js';
import type { RetryPolicyOptions } from '../dispatch/retry-policy.js';
import { ModelListCache } from '../routing/model-list-cache.js';
import { AdmissionQueue, DEFAULT_PRIORITY, DEFAULT_QUEUE_SETTINGS, type AdmissionClock, type AdmissionQueueSettings } from '../admission/admission-queue.js';
import { TrustSampler } from '../fleet/trust-sampler.js';
import { verifyResponse, type VerifyResult } from './verify-response.js';

/** Something that lives as long as the gateway (e.g. the backend load poller): started with it, closed with it. */
export interface GatewayCompanion {
  start(): void;
  close(): Promise<void>;
}

/** Failures that another provider of the model might have avoided: the fleet source is told of the demand. */
const DEMAND_CODES = new Set([
  'no_healthy_provider',
  'insufficient_funds',
  'all_providers_failed',
  'upstream_unreachable',
  'upstream_timeout',
  'upstream_error',
  'upstream_rate_limited',
  'upstream_model_unavailable',
]);

/** Everything the core is built from (no HTTP). */
export interface GatewayCoreOptions {
  logger: Logger;
  registry: ProviderRegistry;
  strategy: BalancingStrategy;
  responses: SessionStore<ResponseRecord>;
  sessions: SessionStore<string>;
  /** Where providers come from (configured list, chain discovery...); started with the gateway. */
  fleet: FleetSource;
  routing: RoutePlannerOptions;
  maxAttempts: number;
  /** `clientStall`: longest a streaming client may stop reading before it is cut, ms (default {@link DEFAULT_CLIENT_STALL_MS}). */
  timeouts: DispatchTimeouts & { total: number; verify: number; clientStall?: number };
  limits: ResponseLimits & PreambleLimits;
  retryBudget: { ratio: number; minPerSecond: number };
  now?: () => number;
  random?: () => number;
  /** Started by `start()`, closed by `close()`. Default none. */
  companions?: readonly GatewayCompanion[];
  /** Background verification of served answers. Default: 2 % sampled, no cool-down. */
  trust?: { sampleRate: number; coolDownMs: number | undefined };
  /** The admission queue's bounds. Default {@link DEFAULT_QUEUE_SETTINGS}. */
  queue?: AdmissionQueueSettings;
  /** The admission queue's clock (timers). Default the system's. */
  queueClock?: AdmissionClock;
  /** Cache-aware routing: its settings (default {@link DEFAULT_AFFINITY_SETTINGS}: off) and, with Redis, the shared index (closed with the gateway). */
  affinity?: { settings: AffinitySettings; shared?: SharedPrefixStore | undefined };
  /** Retries and backoff per failure class. Default {@link DEFAULT_RETRY_POLICY}. */
  retryPolicy?: RetryPolicyOptions;
  /** How the dispatcher waits before a retry (tests inject a fake clock's). Default: a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** One completion request as the HTTP layer hands it over. */
export interface CompletionRequest {
  readonly route: CompletionRoute;
  /** The validated body, gateway-only fields removed (a multipart route: its text fields). */
  readonly body: Record<string, unknown>;
  /** A multipart route's form as the client sent it, relayed byte for byte. */
  readonly upload?: MultipartUpload | undefined;
  readonly requestId: string;
  readonly sessionId?: string | undefined;
  /**
   * Aborted (with a `client_closed_request` reason) when the client disconnects. An AbortController
   * is used as the request's own (cheaper: no listener); the core may abort it (deadline, shutdown).
   */
  readonly clientSignal: AbortSignal | AbortController;
  /** Per-request limits on which providers may serve. */
  readonly filter?: ProviderFilter | undefined;
  /** Per-request preference that replaces the strategy for this request. */
  readonly sort?: PreferenceSort | undefined;
  /** Filled in by the core with when providers were waited for (for the gateway's own overhead). */
  readonly timing?: RequestTiming | undefined;
  /** Its place in the admission queue when every candidate is full: 0-10, higher first. Default 5. */
  readonly priority?: number | undefined;
  /** The pool it asks for (`X-Pool`); default: the pool its model maps to, else any provider. */
  readonly pool?: string | undefined;
  /** The model groups its client key may reach (`planner.reachableBy(key.models)`); fallbacks outside are skipped. Default: any. */
  readonly mayUseModel?: ((model: string) => boolean) | undefined;
  /** The client key that made it (its id): response ids and session pins are scoped to it. Default: none (no keys). */
  readonly keyId?: string | undefined;
  /** False: place it without prefix affinity (the client sent `X-Affinity: off`). Default true. */
  readonly affinity?: boolean | undefined;
}

/**
 * The gateway core, with no HTTP: the registry (fleet), the route planner, the dispatcher, the
 * stores, the fleet source, shutdown and drain. `startHttpServer(gateway)` puts it on a port.
 */
export class Gateway {
  readonly logger: Logger;
  readonly registry: ProviderRegistry;
  readonly planner: RoutePlanner;
  readonly dispatcher: ChatDispatcher;
  readonly responses: SessionStore<ResponseRecord>;
  readonly sessions: SessionStore<string>;
  readonly fleet: FleetSource;
  /** Verifies a sample of served answers; ejects providers whose answers fail. */
  readonly trust: TrustSampler;
  /** Where requests wait while every provider that could serve them is at its concurrency cap. */
  readonly admission: AdmissionQueue;
  /** Cache-aware routing: the prefix index and its counts (present when off too: it counts providers' cached tokens). */
  readonly affinity: AffinityRouter;
  /** `GET /v1/models`, rebuilt only when the fleet or the catalog changes. */
  readonly models: ModelListCache;
  /** How reads and writes of the response and session stores ended (read by `/metrics`). */
  readonly storeOperations: { readonly responses: StoreOperationCounts; readonly sessions: StoreOperationCounts } = {
    responses: emptyStoreCounts(),
    sessions: emptyStoreCounts(),
  };
  readonly #options: GatewayCoreOptions;
  readonly #now: () => number;
  #strategy: BalancingStrategy;
  /** The strategies a per-request `provider.sort` stands for. */
  readonly #preferences = preferenceStrategies();
  #shuttingDown = false;
  /** Requests accepted and not yet on a provider: shutdown answers them at once. */
  readonly #waiting = new Set<RequestScope>();
  /** Every request being served: shutdown ends them when the grace period is over. */
  readonly #active = new Set<RequestScope>();
  #verifying = 0;
  readonly #idle = new IdleWatch(() => this.inFlight());
  readonly #servedListeners = new Set<(entry: ProviderEntry, answer: ServedAnswerFacts) => void>();

  constructor(options: GatewayCoreOptions) {
    this.#options = options;
    this.logger = options.logger;
    this.registry = options.registry;
    this.responses = countStoreOperations(options.responses, this.storeOperations.responses);
    this.sessions = countStoreOperations(options.sessions, this.storeOperations.sessions);
    this.fleet = options.fleet;
    this.#now = options.now ?? Date.now;
    this.#strategy = options.strategy;
    this.planner = new RoutePlanner(options.registry, options.routing);
    this.models = new ModelListCache(options.registry, this.planner, () => this.fleet.catalogModels?.() ?? new Map());
    this.trust = new TrustSampler({
      registry: options.registry,
      logger: options.logger,
      sampleRate: options.trust?.sampleRate ?? 0.02,
      coolDownMs: options.trust?.coolDownMs,
      timeoutMs: options.timeouts.verify,
      now: this.#now,
      ...(options.random ? { random: options.random } : {}),
    });
    this.admission = new AdmissionQueue(options.queue ?? DEFAULT_QUEUE_SETTINGS, options.queueClock);
    this.affinity = new AffinityRouter({
      settings: options.affinity?.settings ?? DEFAULT_AFFINITY_SETTINGS,
      shared: options.affinity?.shared,
      gatewayId: options.registry.gatewayId,
      localInFlight: () => new Map(options.registry.list().map((entry) => [entry.id, entry.inFlight])),
      now: this.#now,
    });
    this.dispatcher = new ChatDispatcher({
      affinity: this.affinity,
      admission: this.admission,
      registry: options.registry,
      strategy: () => this.#strategy,
      retryBudget: new RetryBudget({ ...options.retryBudget, now: this.#now }),
      maxAttempts: options.maxAttempts,
      timeouts: options.timeouts,
      limits: options.limits,
      logger: options.logger,
      now: this.#now,
      ...(options.random ? { random: options.random } : {}),
      fundingDetails: () => this.fleet.fundingSummary?.(),
      ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    options.registry.onOutcome((outcome) => {
      this.#strategy.observe?.(outcome);
      if (this.#idle.waiting) this.#idle.check();
    });
    // Freed or added capacity goes to the best waiter that can use it.
    options.registry.onChange(() => void this.admission.notify());
  }

  /** The id this gateway's events carry on `diagnostics_channel` (its registry's). */
  get id(): string {
    return this.registry.gatewayId;
  }

  /** The strategy in use. */
  get strategy(): BalancingStrategy {
    return this.#strategy;
  }

  /** Replaces the balancing strategy (requests already placed are not affected). */
  setStrategy(strategy: BalancingStrategy): void {
    this.#strategy = strategy;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Brings up the fleet (initialising providers as configured), then the companions. */
  async start(): Promise<void> {
    await this.fleet.start();
    this.affinity.start();
    for (const companion of this.#options.companions ?? []) companion.start();
  }

  /** Requests being served: on a provider, or verifying. */
  inFlight(): number {
    return this.registry.totalInFlight() + this.#verifying;
  }

  /**
   * Serves one completion: plans it, places it, relays the answer into `sink`. Throws a
   * GatewayError while nothing was written; afterwards resolves with what happened.
   */
  async complete(request: CompletionRequest, sink: ResponseSink): Promise<CompletionReport> {
    if (this.#shuttingDown) throw shuttingDownReason();
    const needs = requestNeeds(request.body, request.route);
    const plan = this.planner.plan(typeof request.body.model === 'string' ? request.body.model : undefined, request.filter, request.pool, request.mayUseModel, serviceTypeOfRoute(request.route), needs);
    const scope = new RequestScope(request.clientSignal, this.#options.timeouts.total);
    this.#waiting.add(scope);
    this.#active.add(scope);
    try {
      return await completeRequest(
        {
          dispatcher: this.dispatcher,
          responses: this.responses,
          sessions: this.sessions,
          logger: this.logger,
          now: this.#now,
          onServed: (entry, answer) => this.#served(entry, answer),
          clientStallMs: this.#options.timeouts.clientStall ?? DEFAULT_CLIENT_STALL_MS,
        },
        {
          route: request.route,
          body: request.body,
          upload: request.upload,
          requestId: request.requestId,
          sessionId: request.sessionId,
          plan,
          signal: scope.signal,
          onSent: () => this.#waiting.delete(scope),
          timing: request.timing,
          priority: request.priority ?? this.admission.settings.defaultPriority ?? DEFAULT_PRIORITY,
          keyId: request.keyId,
          affinity: request.affinity,
          ...(request.sort ? { strategy: this.#preferences[request.sort] } : {}),
        },
        sink,
      );
    } catch (error) {
      // Nothing could serve: a fleet source that knows more providers may bring one in for next time.
      if (GatewayError.isInstance(error) && DEMAND_CODES.has(error.code)) {
        for (const target of plan.targets) this.fleet.demand?.(target.model);
      }
      // Refused for want of funds: the source looks for a deposit (or a top-up made elsewhere) now, not at its next tick.
      if (GatewayError.isInstance(error) && error.code === 'insufficient_funds') this.fleet.fundsWanted?.();
      throw error;
    } finally {
      this.#waiting.delete(scope);
      this.#active.delete(scope);
      scope.dispose();
      this.#idle.check();
    }
  }

  /**
   * An upper bound of what a request for `model` may cost, neuron (see {@link estimateRequestCost}):
   * what a client key's budget reserves at admission.
   */
  estimateCost(model: string, promptTokens: number, maxTokens: number | undefined, mayUseModel?: (model: string) => boolean, route?: CompletionRoute): bigint {
    return estimateRequestCost(this.registry, this.planner, model, promptTokens, maxTokens, mayUseModel, route === undefined ? undefined : serviceTypeOfRoute(route));
  }

  /** Listens to every served answer, once each, right after it (billing): quick, must not throw. Returns the unsubscribe. */
  onServed(listener: (entry: ProviderEntry, answer: ServedAnswerFacts) => void): () => void {
    this.#servedListeners.add(listener);
    return () => this.#servedListeners.delete(listener);
  }

  #served(entry: ProviderEntry, answer: ServedAnswerFacts): void {
    const startedAt = answerServedChannel.hasSubscribers ? performance.now() : 0;
    this.trust.consider(entry, answer);
    for (const listener of this.#servedListeners) {
      try {
        listener(entry, answer);
      } catch (error) {
        this.logger.error({ event: 'internal_error', err: error }, 'a served-answer listener failed');
      }
    }
    if (answerServedChannel.hasSubscribers) {
      publish<AnswerServedEvent>(answerServedChannel, {
        gatewayId: this.id,
        requestId: answer.requestId,
        providerId: entry.id,
        model: answer.model,
        upstreamModel: answer.upstreamModel,
        responseModel: answer.responseModel,
        promptTokens: answer.usage?.prompt_tokens,
        completionTokens: answer.usage?.completion_tokens,
        costNeuron: answer.costNeuron,
        durationMs: performance.now() - startedAt,
      });
    }
  }

  /**
   * Asks the provider that served `id` to prove it (bounded by the verify timeout, counted in flight).
   * With `keyId`, only an id served to that client key is found (another's is `response_not_found`).
   */
  async verify(id: string, clientSignal: AbortSignal, keyId?: string, requestId?: string): Promise<VerifyResult> {
    if (this.#shuttingDown) throw shuttingDownReason();
    this.#verifying += 1;
    const startedAt = performance.now();
    try {
      const result = await verifyResponse(
        this.responses,
        this.registry,
        id,
        clientSignal,
        this.#options.timeouts.verify,
        (entry, verdict) => {
          if (verdict) this.trust.report(entry, id, verdict);
        },
        keyId,
      );
      const outcome = !result.verifiable ? 'unverifiable' : result.isValid ? 'valid' : 'invalid';
      publish<VerifyDoneEvent>(verifyDoneChannel, { gatewayId: this.id, providerId: this.registry.get(result.provider)?.id ?? result.provider, result: outcome, requestId, durationMs: performance.now() - startedAt });
      return result;
    } catch (error) {
      const failure = toGatewayError(error);
      const provider = failure.details?.provider;
      publish<VerifyDoneEvent>(verifyDoneChannel, { gatewayId: this.id, providerId: typeof provider === 'string' ? provider : undefined, result: failure.code, requestId, durationMs: performance.now() - startedAt });
      throw error;
    } finally {
      this.#verifying -= 1;
      this.#idle.check();
    }
  }

  /** Stops taking requests: new ones and those not yet on a provider get 503 `shutting_down` now. */
  beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const scope of this.#waiting) scope.abort(shuttingDownReason());
    this.#waiting.clear();
  }

  /**
   * Lets in-flight requests finish for `graceMs`; then ends the rest (streams get an in-band
   * `shutting_down` error) and waits for them to let go. Resolves true when all finished in time.
   */
  async drain(graceMs: number): Promise<boolean> {
    this.beginShutdown();
    if (await this.#idle.within(graceMs)) return true;
    this.logger.warn({ event: 'shutdown_abort', inFlight: this.inFlight() }, 'grace period over; ending in-flight requests');
    for (const scope of this.#active) scope.abort(shuttingDownReason());
    await this.#idle.within(2000);
    return false;
  }

  /** Periodic upkeep of the core (trust cool-downs); the wiring calls it on every health tick. */
  maintain(): void {
    this.trust.tick();
    // A breaker's cool-down ends with no event: a waiter for that provider is woken here at the latest.
    this.admission.notify();
  }

  /** Stops the fleet (providers, network), then the stores. Call after `drain`. Idempotent. */
  async close(): Promise<void> {
    this.beginShutdown();
    await this.trust.close();
    await this.fleet.close();
    await Promise.allSettled(this.registry.list().map((entry) => entry.provider.close()));
    await Promise.allSettled([this.responses.close(), this.sessions.close(), this.affinity.close(), ...(this.#options.companions ?? []).map((companion) => companion.close())]);
  }
}

