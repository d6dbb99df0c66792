import type { Logger } from 'pino';
import { chosenOf, type BalancingStrategy, type PickContext, type PickRequest } from '../balancer/index.js';
import { GatewayError, toGatewayError } from '../errors/index.js';
import type { RetryBudget } from '../health/index.js';
import type { CompletionRoute, ResponseLimits, UpstreamCall } from '../providers/inference-provider.js';
import type { ProviderEntry } from './provider-entry.js';
import type { ProviderRegistry } from './provider-registry.js';
import { attemptOnProvider, type DispatchTimeouts, type PlacedAnswer, type PreambleLimits } from './attempt-on-provider.js';

export type { DispatchTimeouts };
import { finalDispatchError, type AttemptRecord } from './dispatch-errors.js';
import type { Lease } from './provider-registry.js';
import type { AdmissionQueue, AdmissionTicket } from './admission-queue.js';
import type { RoutePlan, RouteTarget } from './route-planner.js';

/** What the dispatcher needs to place one request. */
export interface DispatchInput {
  readonly route: CompletionRoute;
  /** The client's validated body; `model` is set per provider. */
  readonly body: Record<string, unknown>;
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

  constructor(options: ChatDispatcherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
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
    for (;;) {
      for (let index = 0; index < targets.length; index++) {
        const target = targets[index] as RouteTarget;
        const exclude = excludes[index] as Set<string>;
        while ((tried[index] as number) < maxAttempts) {
          if (input.signal.aborted) throw toGatewayError(input.signal.reason);
          const choice = this.#choose(target, exclude, pinned, input.pick, input.strategy);
          if (!choice) break;
          if (attempts.length > 0 && !retryBudget.tryAcquireRetry()) {
            this.#options.logger.warn({ event: 'retry_budget_exhausted', requestId: input.requestId }, 'retry budget exhausted');
            throw finalDispatchError(attempts, suspect?.error, this.#unavailable(input.plan), this.#options.fundingDetails?.());
          }
          tried[index] = (tried[index] as number) + 1;
          if (pinned !== undefined && choice.entry.id !== pinned) {
            repinnedFrom = pinned;
            pinned = undefined;
          }
          const { entry } = choice;
          exclude.add(entry.id);
          const upstreamModel = target.upstreamModel(entry);
          const call: UpstreamCall = { route: input.route, body: upstreamModel === '' ? input.body : { ...input.body, model: upstreamModel } } as UpstreamCall;
          const lease = registry.acquire(entry, input.requestId, target.model);
          // A request woken from the queue passes what capacity is left to the next waiter.
          if (ticket) admission?.notify();
          input.onSent?.();
          const started = this.#now();
          try {
            const placed = await attemptOnProvider(entry, call, input.signal, this.#options.timeouts, this.#options.limits, this.#now);
            if (suspect) registry.penalise(suspect.entry, suspect.error.code);
            return { entry, lease, target, upstreamModel, answer: placed.answer, attempts, repinnedFrom, routeReason: choice.reason, detach: placed.detach };
          } catch (thrown) {
            const error = toGatewayError(thrown);
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
            if (error.code === 'upstream_client_error') {
              // A second provider rejecting the same request confirms it is the client's.
              if (suspect) throw error;
              suspect = { entry, error };
              continue;
            }
            if (!error.retryable) throw error;
            this.#options.logger.debug({ event: 'attempt_failed', requestId: input.requestId, provider: entry.id, code: error.code }, 'attempt failed; trying another provider');
          }
        }
      }
      // No target can place it now. When that is only because candidates are at their caps, it waits its turn.
      if (!admission || input.priority === undefined || !this.#anyAtCap(targets, excludes, tried)) {
        throw finalDispatchError(attempts, suspect?.error, this.#unavailable(input.plan), this.#options.fundingDetails?.());
      }
      const requeued = ticket !== undefined;
      ticket ??= admission.ticket(input.priority, () => this.#anyServable(targets, excludes, tried));
      const waiting = admission.wait(ticket, input.signal, requeued);
      // A request that lost the race for a slot it was woken for hands the turn on, if someone else can use it.
      if (requeued) admission.notify();
      const since = performance.now();
      try {
        await waiting;
      } finally {
        input.onQueued?.(performance.now() - since);
      }
    }
  }

  /** True when some provider that may serve a target (not tried yet, in rotation) is at its concurrency cap. */
  #anyAtCap(targets: readonly RouteTarget[], excludes: ReadonlyArray<ReadonlySet<string>>, tried: readonly number[]): boolean {
    return this.#anyCandidate(targets, excludes, tried, false);
  }

  /** True when some provider that may serve a target is in rotation with a free slot. */
  #anyServable(targets: readonly RouteTarget[], excludes: ReadonlyArray<ReadonlySet<string>>, tried: readonly number[]): boolean {
    return this.#anyCandidate(targets, excludes, tried, true);
  }

  #anyCandidate(targets: readonly RouteTarget[], excludes: ReadonlyArray<ReadonlySet<string>>, tried: readonly number[], withCapacity: boolean): boolean {
    const now = this.#now();
    for (const entry of this.#options.registry.entries.values()) {
      if (!entry.isAvailable() || entry.hasCapacity() !== withCapacity) continue;
      for (let index = 0; index < targets.length; index++) {
        if ((tried[index] as number) >= this.#options.maxAttempts || (excludes[index] as ReadonlySet<string>).has(entry.id)) continue;
        if ((targets[index] as RouteTarget).accepts(entry, now)) return true;
      }
    }
    return false;
  }

  /** The providers that could have served the plan but are out of rotation, with why (for a 503/402). */
  #unavailable(plan: RoutePlan): Array<{ provider: string; reason: string }> {
    const now = this.#now();
    const out: Array<{ provider: string; reason: string }> = [];
    for (const entry of this.#options.registry.entries.values()) {
      if (!plan.targets.some((target) => target.accepts(entry, now))) continue;
      const reason = entry.outOfRotationReason() ?? (entry.hasCapacity() ? null : 'at its concurrency cap');
      if (reason) out.push({ provider: entry.id, reason });
    }
    return out;
  }

  #choose(target: RouteTarget, exclude: ReadonlySet<string>, pinned: string | undefined, request: PickRequest, override: BalancingStrategy | undefined): Choice | undefined {
    const now = this.#now();
    if (pinned !== undefined && !exclude.has(pinned)) {
      const entry = this.#options.registry.get(pinned);
      if (entry && target.accepts(entry, now) && entry.isAvailable() && entry.hasCapacity()) return { entry, reason: 'session' };
    }
    const candidates: ProviderEntry[] = [];
    for (const entry of this.#options.registry.entries.values()) {
      if (exclude.has(entry.id) || !entry.isAvailable() || !entry.hasCapacity() || !target.accepts(entry, now)) continue;
      candidates.push(entry);
    }
    if (candidates.length === 0) return undefined;
    const strategy = override ?? this.#options.strategy();
    const context: PickContext = { now: this.#now, random: this.#random, request };
    const { provider, reason } = chosenOf(strategy.pick(candidates, context));
    const entry = candidates.find((candidate) => candidate.id === provider.id);
    if (!entry) throw new GatewayError('internal_error', `Balancing strategy "${strategy.name}" picked a provider that was not a candidate`);
    return { entry, reason };
  }
}
