import type { Logger } from 'pino';
import type { AffinityRequest, AffinityRouter } from '../affinity/index.js';
import { chosenOf, type BalancingStrategy, type PickContext, type PickRequest } from '../strategies/index.js';
import { GatewayError, toGatewayError } from '../errors/index.js';
import { admissionWaitChannel, publish, type AdmissionWaitEvent } from '../observability/index.js';
import type { RetryBudget } from './retry-budget.js';
import type { CompletionRoute, MultipartUpload, ResponseLimits, UpstreamCall } from '../providers/inference-provider.js';
import type { ProviderEntry } from '../fleet/provider-entry.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';
import { attemptOnProvider, type DispatchTimeouts, type PlacedAnswer, type PreambleLimits } from './attempt-on-provider.js';

export type { DispatchTimeouts };
import { finalDispatchError, type AttemptRecord, type CapabilityGap } from './dispatch-errors.js';
import type { Lease } from '../fleet/provider-registry.js';
import type { AdmissionQueue, AdmissionTicket } from '../admission/admission-queue.js';
import type { RoutePlan, RouteTarget } from '../routing/route-planner.js';
import { learnContextLimit } from '../routing/request-needs.js';
import { RetryPolicy, waitBeforeRetry, type RetryPolicyOptions } from './retry-policy.js';

/** What the dispatcher needs to place one request. */
export interface DispatchInput {
  readonly route: CompletionRoute;
  /** The client's validated body; `model` is set per provider. */
  readonly body: Record<string, unknown>;
  /** A multipart route's form as the client sent it (`body` holds its text fields); sent to every provider tried. */
  readonly upload?: MultipartUpload | undefined;
  readonly plan: RoutePlan;
  readonly requestId: string;
  /** The provider the request's session is pinned to, when it has one. */
  readonly pinnedProviderId: string | undefined;
  /** Aborted when the client leaves, the total deadline passes or shutdown ends the request. */
  readonly signal: AbortSignal;
  readonly pick: PickRequest;
  /** Called when the request is first sent to a provider (it no longer waits in the gateway). */
  readonly onSent?: () => void;
  /** Replaces the gateway's strategy for this request. */
  readonly strategy?: BalancingStrategy;
  /** Its priority in the admission queue (0-10, higher first); undefined: it never waits (fails at once when every candidate is full). */
  readonly priority?: number;
  /** Told how long each wait in the admission queue lasted, ms (performance clock). */
  readonly onQueued?: (waitedMs: number) => void;
  /** False: the client opted out of prefix affinity (`X-Affinity: off`). Default true. */
  readonly affinity?: boolean;
}

/** A request placed on a provider: the answer has started (or is complete) and the lease is held until the relay ends. */
export interface Placement {
  readonly entry: ProviderEntry;
  readonly lease: Lease;
  readonly target: RouteTarget;
  readonly upstreamModel: string;
  readonly answer: PlacedAnswer;
  /** Attempts that failed before this one. */
  readonly attempts: readonly AttemptRecord[];
  /** The session was pinned to a provider that could not serve, and is now served by this one. */
  readonly repinnedFrom: string | undefined;
  /** Why this provider (the strategy's reason, `session` for a pin). */
  readonly routeReason: string | undefined;
  /** Stops linking the upstream call to the request; call when the relay is over. */
  readonly detach: () => void;
  /** Call once when the answer is complete, with its usage: the affinity layer records where the prompt is now warm. */
  readonly served: (usage: { prompt_tokens?: unknown; prompt_tokens_details?: unknown } | undefined) => void;
}

export interface ChatDispatcherOptions {
  registry: ProviderRegistry;
  /** The strategy in use now (may be replaced at run time). */
  strategy: () => BalancingStrategy;
  retryBudget: RetryBudget;
  /** Most providers tried per model group. */
  maxAttempts: number;
  timeouts: DispatchTimeouts;
  /** Bounds on a provider's answer, and on what a stream may send before its first content. */
  limits: ResponseLimits & PreambleLimits;
  logger: Logger;
  now?: () => number;
  random?: () => number;
  /** What to add to a 402 when every candidate needs funds (e.g. the ledger balance). */
  fundingDetails?: () => object | undefined;
  /** Where requests whose every candidate is at its concurrency cap wait. Default: none (they fail at once). */
  admission?: AdmissionQueue;
  /** The cache-aware routing layer (consulted after a session pin, before the strategy, when enabled). Default: none. */
  affinity?: AffinityRouter;
  /** Retries and waits per failure class (see {@link DEFAULT_RETRY_POLICY}). Default: that. */
  retryPolicy?: RetryPolicyOptions;
  /** Waits `ms` unless `signal` aborts first (tests inject a fake clock's). Default: a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}


/** The path a client calls for each route (named in errors). */
const ROUTE_PATHS: Readonly<Record<CompletionRoute, string>> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
  'image-generations': '/v1/images/generations',
  'image-edits': '/v1/images/edits',
  transcriptions: '/v1/audio/transcriptions',
};

/** What `input` needs that `entry` is remembered not to serve (its route, or a parameter the body sets), if anything. */
function lacksFor(entry: ProviderEntry, input: DispatchInput, now: number): { route: string; param?: string } | undefined {
  return entry.missingCapabilities.missingFor(input.route, Object.keys(input.body), now);
}

/**
 * Chat is the one route every provider must serve: a 404/405 on it says the provider is broken or
 * misconfigured, not that it lacks an optional route, so it stays a failure that counts against its
 * breaker (as before). Remembering it as a missing capability would let a client whose requests
 * draw such 404s take providers out of every chat for the memory's whole TTL.
 */
function asRouteFailure(error: GatewayError, route: CompletionRoute): GatewayError {
  if (route !== 'chat' || error.code !== 'route_not_supported') return error;
  return new GatewayError('upstream_error', error.message, {
    retryable: true,
    cause: error,
    ...(error.upstreamStatus !== undefined ? { upstreamStatus: error.upstreamStatus } : {}),
    ...(error.details ? { details: error.details } : {}),
  });
}

/**
 * Fields (nearly) every request of a route carries: never remembered as unsupported, as that would
 * take the provider out of (nearly) the whole route; such a request is just tried elsewhere.
 */
const CORE_FIELDS = new Set(['model', 'messages', 'prompt', 'input', 'stream']);

/**
 * The body field an "unsupported parameter" error is about: the one the provider named (`param`,
 * or in quotes in its message) when the request sets it, else the only field of the request its
 * message names; undefined when it cannot be told or is a core field (nothing is remembered then).
 */
function parameterNamed(error: GatewayError, body: Record<string, unknown>): string | undefined {
  if (error.param !== null && Object.hasOwn(body, error.param)) return CORE_FIELDS.has(error.param) ? undefined : error.param;
  const named = Object.keys(body).filter((key) => !CORE_FIELDS.has(key) && new RegExp(`\\b${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(error.message));
  return named.length === 1 ? named[0] : undefined;
}

interface Choice {
  entry: ProviderEntry;
  reason: string | undefined;
}

/**
 * The one dispatch loop, shared by streaming and non-streaming calls: for each target of the
 * plan (the model group, then its fallbacks), the session pin if it passes the target's filter,
 * else the strategy's pick among available candidates; lease, call, and retry on another
 * provider while nothing of substance has reached the client.
 */
export class ChatDispatcher {
  readonly #options: ChatDispatcherOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #retryPolicy: RetryPolicy;

  constructor(options: ChatDispatcherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#retryPolicy = new RetryPolicy(options.retryPolicy, this.#random);
  }

  /** The retry policy in use (defaults applied). */
  get retryPolicy(): RetryPolicy {
    return this.#retryPolicy;
  }


  async place(input: DispatchInput): Promise<Placement> {
    const { registry, retryBudget, maxAttempts, admission } = this.#options;
    retryBudget.recordRequest();
    const attempts: AttemptRecord[] = [];
    let repinnedFrom: string | undefined;
    let pinned = input.pinnedProviderId;
    /** A 400/422 not yet confirmed by a second provider: the client's fault only if another says so too. */
    let suspect: { entry: ProviderEntry; error: GatewayError } | undefined;
    const targets = input.plan.targets;
    /** Per target: the providers tried (never asked twice), and how many. */
    const excludes = targets.map(() => new Set<string>());
    const tried = targets.map(() => 0);
    let ticket: AdmissionTicket | undefined;
    // Chat and completions only (an embedding, an image or a transcription has no conversation to keep warm); a per-request sort preference is the client's choice, as is X-Affinity: off.
    const affinity = input.route !== 'chat' && input.route !== 'completions' ? undefined : this.#options.affinity?.begin(input.body, input.affinity === false || input.strategy !== undefined);
    if (affinity && pinned === undefined && targets[0]) {
      const shared = affinity.loadShared(targets[0].model);
      if (shared) await shared;
    }
    /** Failures of this request by class, for the retry policy. */
    const failures = this.#retryPolicy.counter();
    for (;;) {
      for (let index = 0; index < targets.length; index++) {
        const target = targets[index] as RouteTarget;
        const exclude = excludes[index] as Set<string>;
        while ((tried[index] as number) < maxAttempts) {
          if (input.signal.aborted) throw toGatewayError(input.signal.reason);
          const choice = this.#choose(target, exclude, pinned, input, affinity);
          if (!choice) break;
          if (attempts.length > 0 && !retryBudget.tryAcquireRetry()) {
            this.#options.logger.warn({ event: 'retry_budget_exhausted', requestId: input.requestId }, 'retry budget exhausted');
            throw this.#finalError(input, attempts, suspect?.error);
          }
          tried[index] = (tried[index] as number) + 1;
          if (pinned !== undefined && choice.entry.id !== pinned) {
            repinnedFrom = pinned;
            pinned = undefined;
          }
          const { entry } = choice;
          exclude.add(entry.id);
          const upstreamModel = target.upstreamModel(entry);
          const call: UpstreamCall = {
            route: input.route,
            body: upstreamModel === '' ? input.body : { ...input.body, model: upstreamModel },
            ...(input.upload ? { upload: input.upload } : {}),
          } as UpstreamCall;
          const lease = registry.acquire(entry, input.requestId, target.model, { upstreamModel, route: input.route, number: attempts.length + 1 });
          // A request woken from the queue passes what capacity is left to the next waiter.
          if (ticket) admission?.notify();
          input.onSent?.();
          const started = this.#now();
          try {
            const placed = await attemptOnProvider(entry, call, input.signal, this.#options.timeouts, this.#options.limits, this.#now, lease.headers);
            if (suspect) registry.penalise(suspect.entry, suspect.error.code);
            const served = affinity
              ? (usage: Parameters<Placement['served']>[0]) => affinity.served(target.model, entry.id, usage)
              : (usage: Parameters<Placement['served']>[0]) => void this.#options.affinity?.noteUsage(entry.id, usage);
            return { entry, lease, target, upstreamModel, answer: placed.answer, attempts, repinnedFrom, routeReason: choice.reason, detach: placed.detach, served };
          } catch (thrown) {
            const error = asRouteFailure(toGatewayError(thrown), input.route);
            lease.release({ ok: false, errorCode: error.code, errorMessage: error.message, retryAfterMs: error.retryAfterMs, stream: input.body.stream === true });
            attempts.push({
              provider: entry.id,
              model: target.model,
              code: error.code,
              message: error.message,
              durationMs: this.#now() - started,
              ...(error.upstreamStatus ? { upstreamStatus: error.upstreamStatus } : {}),
              ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
            });
            if (input.signal.aborted) throw toGatewayError(input.signal.reason);
            if (error.code === 'upstream_model_unavailable') registry.markModelUnserved(entry, target.model);
            if (error.code === 'route_not_supported') registry.markCapabilityMissing(entry, input.route);
            if (error.code === 'context_length_exceeded') learnContextLimit(entry, target.model, error, input.plan.needs);
            if (error.code === 'unsupported_parameter') {
              const param = parameterNamed(error, input.body);
              if (param !== undefined) registry.markCapabilityMissing(entry, input.route, param);
            }
            const decision = this.#retryPolicy.after(error.code, failures);
            if (error.code === 'upstream_client_error') {
              // Another provider rejecting the same request confirms it is the client's (by default the second).
              if (!decision.retry) throw error;
              suspect ??= { entry, error };
            } else if (!error.retryable) {
              throw error;
            } else if (!decision.retry) {
              throw this.#finalError(input, attempts, suspect?.error);
            }
            this.#options.logger.debug({ event: 'attempt_failed', requestId: input.requestId, provider: entry.id, code: error.code }, 'attempt failed; trying another provider');
            if (decision.retry && decision.delayMs > 0 && this.#anyServable(input, excludes, tried)) {
              await waitBeforeRetry(decision.delayMs, decision.failureClass, { gatewayId: registry.gatewayId, requestId: input.requestId, signal: input.signal, sleep: this.#options.sleep }, attempts);
            }
          }
        }
      }
      // No target can place it now. When that is only because candidates are at their caps, it waits its turn.
      if (!admission || input.priority === undefined || !this.#anyAtCap(input, excludes, tried)) {
        throw this.#finalError(input, attempts, suspect?.error);
      }
      const requeued = ticket !== undefined;
      ticket ??= admission.ticket(input.priority, () => this.#anyServable(input, excludes, tried));
      const waiting = admission.wait(ticket, input.signal, requeued);
      // A request that lost the race for a slot it was woken for hands the turn on, if someone else can use it.
      if (requeued) admission.notify();
      const since = performance.now();
      try {
        await waiting;
      } finally {
        const waitedMs = performance.now() - since;
        input.onQueued?.(waitedMs);
        publish<AdmissionWaitEvent>(admissionWaitChannel, { gatewayId: registry.gatewayId, requestId: input.requestId, waitedMs, priority: input.priority ?? 0 });
      }
    }
  }

  /** True when some provider that may serve a target (not tried yet, in rotation) is at its concurrency cap. */
  #anyAtCap(input: DispatchInput, excludes: ReadonlyArray<ReadonlySet<string>>, tried: readonly number[]): boolean {
    return this.#anyCandidate(input, excludes, tried, false);
  }

  /** True when some provider that may serve a target is in rotation with a free slot. */
  #anyServable(input: DispatchInput, excludes: ReadonlyArray<ReadonlySet<string>>, tried: readonly number[]): boolean {
    return this.#anyCandidate(input, excludes, tried, true);
  }

  #anyCandidate(input: DispatchInput, excludes: ReadonlyArray<ReadonlySet<string>>, tried: readonly number[], withCapacity: boolean): boolean {
    const now = this.#now();
    const targets = input.plan.targets;
    for (const entry of this.#options.registry.entries.values()) {
      if (!entry.isAvailable() || entry.hasCapacity() !== withCapacity || lacksFor(entry, input, now)) continue;
      for (let index = 0; index < targets.length; index++) {
        if ((tried[index] as number) >= this.#options.maxAttempts || (excludes[index] as ReadonlySet<string>).has(entry.id)) continue;
        if ((targets[index] as RouteTarget).accepts(entry, now)) return true;
      }
    }
    return false;
  }

  /** The error a request ends with when nothing more can be tried (see {@link finalDispatchError}). */
  #finalError(input: DispatchInput, attempts: readonly AttemptRecord[], unconfirmed: GatewayError | undefined): GatewayError {
    return finalDispatchError(attempts, unconfirmed, this.#unavailable(input), this.#options.fundingDetails?.(), this.#capabilityGap(input), input.plan.requestedModel);
  }

  /**
   * What the request needs that no provider of its plan serves now, when every provider the plan
   * accepts (healthy or not) is known to lack it; undefined when some provider may still serve it.
   */
  #capabilityGap(input: DispatchInput): CapabilityGap | undefined {
    const now = this.#now();
    const providers: string[] = [];
    let routeMissing = true;
    let param: string | undefined;
    for (const entry of this.#options.registry.entries.values()) {
      if (!input.plan.targets.some((target) => target.accepts(entry, now))) continue;
      const missing = lacksFor(entry, input, now);
      if (!missing) return undefined;
      providers.push(entry.id);
      if (missing.param !== undefined) {
        routeMissing = false;
        param ??= missing.param;
      }
    }
    if (providers.length === 0) return undefined;
    return { path: ROUTE_PATHS[input.route], route: routeMissing, param: routeMissing ? undefined : param, providers };
  }

  /** The providers that could have served the plan but are out of rotation, with why (for a 503/402). */
  #unavailable(input: DispatchInput): Array<{ provider: string; reason: string }> {
    const now = this.#now();
    const out: Array<{ provider: string; reason: string }> = [];
    for (const entry of this.#options.registry.entries.values()) {
      if (!input.plan.targets.some((target) => target.accepts(entry, now))) continue;
      const missing = lacksFor(entry, input, now);
      const reason = missing
        ? `does not serve ${missing.param !== undefined ? `\`${missing.param}\` on ` : ''}${ROUTE_PATHS[input.route]}`
        : (entry.outOfRotationReason() ?? (entry.hasCapacity() ? null : 'at its concurrency cap'));
      if (reason) out.push({ provider: entry.id, reason });
    }
    return out;
  }

  #choose(target: RouteTarget, exclude: ReadonlySet<string>, pinned: string | undefined, input: DispatchInput, affinity: AffinityRequest | undefined): Choice | undefined {
    const now = this.#now();
    if (pinned !== undefined && !exclude.has(pinned)) {
      const entry = this.#options.registry.get(pinned);
      if (entry && target.accepts(entry, now) && entry.isAvailable() && entry.hasCapacity() && !lacksFor(entry, input, now)) {
        affinity?.notePinned();
        return { entry, reason: 'session' };
      }
    }
    const candidates: ProviderEntry[] = [];
    for (const entry of this.#options.registry.entries.values()) {
      if (exclude.has(entry.id) || !entry.isAvailable() || !entry.hasCapacity() || !target.accepts(entry, now) || lacksFor(entry, input, now)) continue;
      candidates.push(entry);
    }
    if (candidates.length === 0) return undefined;
    // Prefix affinity: the warm provider when it holds enough of the prompt and load allows; else the strategy, told why.
    const warm = affinity?.choose(target.model, candidates);
    if (warm?.kind === 'matched') {
      const entry = candidates.find((candidate) => candidate.id === warm.provider);
      if (entry) return { entry, reason: warm.reason };
    }
    const strategy = input.strategy ?? this.#options.strategy();
    const context: PickContext = { now: this.#now, random: this.#random, request: input.pick };
    // A warm provider too loaded for affinity is left to the others, so the load bound holds whatever the strategy.
    const avoid = warm?.kind === 'fallback' ? warm.avoid : undefined;
    const pool = avoid !== undefined && candidates.length > 1 ? candidates.filter((candidate) => candidate.id !== avoid) : candidates;
    const { provider, reason } = chosenOf(strategy.pick(pool, context));
    const entry = pool.find((candidate) => candidate.id === provider.id);
    if (!entry) throw new GatewayError('internal_error', `Balancing strategy "${strategy.name}" picked a provider that was not a candidate`);
    return { entry, reason: warm?.kind === 'fallback' ? `prefix-affinity fallback: ${warm.reason}; ${reason ?? strategy.name}` : reason };
  }
}
