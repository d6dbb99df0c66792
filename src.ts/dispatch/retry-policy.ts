/**
 * Which failures of a provider lead to another attempt, how many, and after what wait: a policy
 * per failure class. The dispatcher never asks the same provider twice for one request, so a
 * retry goes to another provider (or fallback model); the wait is for fleet-wide trouble (an
 * overloaded backend shared by several providers, a 429 storm), not for the provider that failed,
 * which its breaker already keeps out (a 429 for its `Retry-After`).
 */

import { setTimeout as delay } from 'node:timers/promises';
import { toGatewayError } from '../errors/index.js';
import { publish, retryDelayChannel } from '../observability/index.js';

/** The failure classes the gateway tells apart. */
export type FailureClass = 'connect' | 'timeout' | 'server_error' | 'rate_limited' | 'client_error' | 'funds';

export const FAILURE_CLASSES: readonly FailureClass[] = ['connect', 'timeout', 'server_error', 'rate_limited', 'client_error', 'funds'];

/** An exponential backoff: the n-th wait is min(maxMs, initialMs × multiplier^(n-1)), less up to `jitter` of it at random. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  /** Share (0..1) of the wait taken off at random: 0 none, 1 "full jitter" (anywhere from 0 to the wait). */
  readonly jitter: number;
}

/** The policy of one failure class. */
export interface ClassPolicy {
  /** Most further attempts after failures of this class in one request; undefined: as many as `maxRetries` and the retry budget allow. */
  readonly retries?: number | undefined;
  /** The wait before each further attempt; undefined: none (at once). */
  readonly backoff?: Backoff | undefined;
}

/** The configured policy (`retryPolicy`): any class left out keeps its default. */
export type RetryPolicyOptions = Readonly<Partial<Record<FailureClass, ClassPolicy>>>;

/**
 * Today's behaviour, with jittered backoff added for 429 and 5xx: every class moves the request to
 * another provider at once (up to `maxRetries` per model, within the retry budget), except a
 * provider's 400/422, which is tried on one more provider to confirm it is the client's.
 */
export const DEFAULT_RETRY_POLICY: Readonly<Record<FailureClass, ClassPolicy>> = Object.freeze({
  connect: {},
  timeout: {},
  server_error: { backoff: { initialMs: 50, maxMs: 1000, multiplier: 2, jitter: 0.5 } },
  rate_limited: { backoff: { initialMs: 100, maxMs: 2000, multiplier: 2, jitter: 0.5 } },
  client_error: { retries: 1 },
  funds: {},
});

/**
 * The class of a dispatch error code; undefined for what is not a failure but a fact the planner
 * learns (model, route or parameter not served, context too small): those always move on at once.
 * 401/403 (signed headers rejected), 3xx, unusable and oversized answers count as `server_error`.
 */
export function failureClassOf(code: string): FailureClass | undefined {
  switch (code) {
    case 'upstream_unreachable':
      return 'connect';
    case 'upstream_timeout':
      return 'timeout';
    case 'upstream_error':
    case 'upstream_response_too_large':
    case 'upstream_auth_rejected':
      return 'server_error';
    case 'upstream_rate_limited':
      return 'rate_limited';
    case 'upstream_client_error':
      return 'client_error';
    case 'insufficient_funds':
      return 'funds';
    default:
      return undefined;
  }
}

/** What to do after a failure: stop (its class allows no more attempts), or try again after `delayMs`. */
export type RetryDecision = { readonly retry: false } | { readonly retry: true; readonly delayMs: number };

/** The n-th wait (n from 1) of a backoff, with `random()` in [0, 1). */
export function backoffDelay(backoff: Backoff, n: number, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** Math.max(0, n - 1));
  const jitter = Math.min(1, Math.max(0, backoff.jitter));
  return Math.max(0, Math.round(base * (1 - jitter * random())));
}

/** A retry policy with per-request failure counts. */
export class RetryPolicy {
  readonly #classes: Readonly<Record<FailureClass, ClassPolicy>>;
  readonly #random: () => number;

  constructor(options: RetryPolicyOptions = {}, random: () => number = Math.random) {
    const merged = { ...DEFAULT_RETRY_POLICY } as Record<FailureClass, ClassPolicy>;
    for (const name of FAILURE_CLASSES) if (options[name]) merged[name] = { ...DEFAULT_RETRY_POLICY[name], ...options[name] };
    this.#classes = merged;
    this.#random = random;
  }

  /** The policy of each class, defaults applied (for status views and docs). */
  get classes(): Readonly<Record<FailureClass, ClassPolicy>> {
    return this.#classes;
  }

  /** A counter of one request's failures by class. */
  counter(): Map<FailureClass, number> {
    return new Map();
  }

  /**
   * After a failure with `code` (the `failures` counter of its request is updated): stop, or try
   * again after the class's backoff for its n-th failure. Codes of no class go on at once.
   */
  after(code: string, failures: Map<FailureClass, number>): RetryDecision & { readonly failureClass?: FailureClass } {
    const failureClass = failureClassOf(code);
    if (failureClass === undefined) return { retry: true, delayMs: 0 };
    const n = (failures.get(failureClass) ?? 0) + 1;
    failures.set(failureClass, n);
    const policy = this.#classes[failureClass];
    if (policy.retries !== undefined && n > policy.retries) return { retry: false, failureClass };
    return { retry: true, delayMs: policy.backoff ? backoffDelay(policy.backoff, n, this.#random) : 0, failureClass };
  }
}

/**
 * Waits `delayMs` before the next attempt of a request, noted on its last attempt (`delayMs`) and
 * published on `retryDelayChannel`; the request's signal (client gone, deadline) cuts it short with
 * its reason.
 */
export async function waitBeforeRetry(
  delayMs: number,
  failureClass: FailureClass | undefined,
  request: { gatewayId: string; requestId: string; signal: AbortSignal; sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined },
  attempts: Array<{ delayMs?: number }>,
): Promise<void> {
  const last = attempts[attempts.length - 1];
  if (last) last.delayMs = delayMs;
  publish(retryDelayChannel, { gatewayId: request.gatewayId, requestId: request.requestId, failureClass: failureClass ?? 'other', delayMs });
  try {
    await (request.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal })))(delayMs, request.signal);
  } catch (error) {
    throw toGatewayError(request.signal.aborted ? request.signal.reason : error);
  }
}
