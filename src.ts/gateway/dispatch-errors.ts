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
}

/** Codes that, when every attempt ended with them, are returned as they are (more precise than "all failed"). */
const PASS_THROUGH_WHEN_UNANIMOUS = new Set<ErrorCode>(['insufficient_funds', 'upstream_rate_limited', 'upstream_timeout']);

/** How long a client is asked to wait when no provider is available, ms. */
const NO_PROVIDER_RETRY_AFTER_MS = 1000;

/**
 * The error a request ends with when no provider served it:
 * - nothing tried: 402 `insufficient_funds` when every provider that could serve needs funds,
 *   else 503 `no_healthy_provider` naming each provider and why it is out of rotation;
 * - only a provider's 400/422 that no second provider could confirm: that client error;
 * - the same funding, rate-limit or timeout cause on every attempt: that cause;
 * - otherwise 502 `all_providers_failed` listing every attempt.
 */
export function finalDispatchError(
  attempts: readonly AttemptRecord[],
  unconfirmedClientError: GatewayError | undefined,
  unavailable: ReadonlyArray<{ provider: string; reason: string }>,
  fundingDetails: object | undefined,
): GatewayError {
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
