import { GatewayError, type ErrorCode } from '../errors/index.js';

/** One provider tried for a request, and how it failed. */
export interface AttemptRecord {
  provider: string;
  model: string;
  code: string;
  message: string;
  durationMs: number;
  upstreamStatus?: number;
  /** How long the provider asked to be left alone (`Retry-After`), ms. */
  retryAfterMs?: number;
  /** How long the gateway waited after this failure before the next attempt (the retry policy's backoff), ms. */
  delayMs?: number;
}

/** Codes that, when every attempt ended with them, are returned as they are (more precise than "all failed"). */
const PASS_THROUGH_WHEN_UNANIMOUS = new Set<ErrorCode>(['insufficient_funds', 'upstream_rate_limited', 'upstream_timeout', 'route_not_supported', 'unsupported_parameter', 'context_length_exceeded']);

/** What a request needs that no provider of its model serves: the route, or a parameter of it. */
export interface CapabilityGap {
  /** The route as the client called it, e.g. `/v1/completions`. */
  readonly path: string;
  /** The parameter, when the route is served but this parameter of it is not (undefined: not known, or the route itself). */
  readonly param?: string | undefined;
  /** True when the route itself is not served. */
  readonly route: boolean;
  /** The providers that said so. */
  readonly providers: readonly string[];
}

/** The client's answer when no provider serves what the request needs: 404 `route_not_supported` or 400 `unsupported_parameter`. */
export function capabilityGapError(gap: CapabilityGap, model: string | undefined): GatewayError {
  const of = model ? ` of \`${model}\`` : '';
  const details = { route: gap.path, providers: gap.providers };
  if (gap.route) {
    return new GatewayError('route_not_supported', `No provider${of} serves POST ${gap.path} (each answered 404/405 on it); try another route, e.g. POST /v1/chat/completions`, { details });
  }
  const named = gap.param !== undefined ? `the parameter \`${gap.param}\`` : 'a parameter of this request';
  return new GatewayError('unsupported_parameter', `No provider${of} supports ${named} on POST ${gap.path}`, { param: gap.param ?? null, details });
}

/** How long a client is asked to wait when no provider is available, ms. */
const NO_PROVIDER_RETRY_AFTER_MS = 1000;

/**
 * The error a request ends with when no provider served it:
 * - nothing tried: 402 `insufficient_funds` when every provider that could serve needs funds,
 *   else 503 `no_healthy_provider` naming each provider and why it is out of rotation;
 * - only routes or parameters that no provider of the model serves: 404 `route_not_supported` or
 *   400 `unsupported_parameter` (see {@link capabilityGapError});
 * - only a provider's 400/422 that no second provider could confirm: that client error;
 * - the same funding, rate-limit or timeout cause on every attempt: that cause;
 * - otherwise 502 `all_providers_failed` listing every attempt.
 */
export function finalDispatchError(
  attempts: readonly AttemptRecord[],
  unconfirmedClientError: GatewayError | undefined,
  unavailable: ReadonlyArray<{ provider: string; reason: string }>,
  fundingDetails: object | undefined,
  gap?: CapabilityGap,
  model?: string,
): GatewayError {
  // Only what no provider serves stopped it (no health, funding or other failure): say that, precisely.
  if (gap && attempts.every((attempt) => attempt.code === 'route_not_supported' || attempt.code === 'unsupported_parameter')) return capabilityGapError(gap, model);
  if (attempts.length === 0) {
    if (unavailable.length > 0 && unavailable.every((entry) => entry.reason.startsWith('funding'))) {
      const ledger = (fundingDetails as { ledger?: { available?: string } | null } | undefined)?.ledger?.available;
      return new GatewayError('insufficient_funds', `Every provider that serves this model needs funds: the gateway wallet cannot pay them now${ledger !== undefined ? ` (ledger available: ${ledger} 0G)` : ''}`, {
        details: { providers: unavailable, ...(fundingDetails ? { funding: fundingDetails } : {}) },
      });
    }
    return new GatewayError('no_healthy_provider', 'No provider is available to serve the request', {
      retryAfterMs: NO_PROVIDER_RETRY_AFTER_MS,
      details: { attempts: [], unavailable },
    });
  }
  const others = attempts.filter((attempt) => attempt.code !== 'upstream_client_error');
  if (unconfirmedClientError && others.length === 0) return unconfirmedClientError;
  const codes = new Set(attempts.map((attempt) => attempt.code));
  const [onlyCode] = [...codes];
  const summary = attempts.map((attempt) => `${attempt.provider}: ${attempt.code}`).join('; ');
  const plural = attempts.length > 1 ? 's' : '';
  if (codes.size === 1 && onlyCode && PASS_THROUGH_WHEN_UNANIMOUS.has(onlyCode as ErrorCode)) {
    const last = attempts[attempts.length - 1] as AttemptRecord;
    return new GatewayError(onlyCode as ErrorCode, `${last.message} (${attempts.length} attempt${plural}: ${summary})`, {
      details: { attempts, ...(onlyCode === 'insufficient_funds' && fundingDetails ? { funding: fundingDetails } : {}) },
      ...(onlyCode === 'upstream_rate_limited' ? { retryAfterMs: soonestRetry(attempts) } : {}),
    });
  }
  return new GatewayError('all_providers_failed', `All ${attempts.length} attempted provider${plural} failed: ${summary}`, { details: { attempts } });
}

/** When every provider asked to wait: the soonest any of them will take a request again (1 s when one did not say). */
function soonestRetry(attempts: readonly AttemptRecord[]): number {
  let soonest = Number.POSITIVE_INFINITY;
  for (const attempt of attempts) soonest = Math.min(soonest, attempt.retryAfterMs ?? NO_PROVIDER_RETRY_AFTER_MS);
  return Number.isFinite(soonest) ? Math.max(soonest, NO_PROVIDER_RETRY_AFTER_MS) : NO_PROVIDER_RETRY_AFTER_MS;
}
