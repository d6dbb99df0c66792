import type { Logger } from 'pino';
import type { GatewayError } from '../errors/index.js';
import { CircuitBreaker, type BreakerTransition, type CircuitBreakerOptions } from '../health/index.js';
import type { InferenceProvider } from '../providers/inference-provider.js';

/** A provider in rotation with its health. */
export interface RegisteredProvider {
  readonly provider: InferenceProvider;
  readonly weight: number;
  readonly breaker: CircuitBreaker;
  lastHealthCheck: string | null;
  lastProbeError: string | null;
}

/** A configured provider that could not be initialised (kept out of rotation). */
export interface FailedProvider {
  readonly address: string;
  readonly code: string;
  readonly message: string;
}

/** Errors that say nothing about the provider's health. */
const NEUTRAL_CODES = new Set(['client_closed_request', 'upstream_client_error', 'shutting_down', 'invalid_request']);

/**
 * The providers in rotation and their health: passive (circuit breaker fed by every attempt)
 * and active (periodic probes). Transitions are logged.
 */
export class ProviderRegistry {
  private readonly entries = new Map<string, RegisteredProvider>();
  /** Configured providers not (yet) initialised; retried in the background. */
  readonly failed: FailedProvider[] = [];
  private readonly logger: Logger;
  private readonly breakerOptions: CircuitBreakerOptions;

  constructor(
    providers: ReadonlyArray<{ provider: InferenceProvider; weight: number }>,
    failed: ReadonlyArray<FailedProvider>,
    logger: Logger,
    breakerOptions: CircuitBreakerOptions = {},
  ) {
    this.logger = logger;
    this.breakerOptions = breakerOptions;
    for (const { provider, weight } of providers) this.add(provider, weight);
    this.failed.push(...failed);
  }

  /** Puts a provider in rotation (and off the failed list, if it was there). */
  add(provider: InferenceProvider, weight: number): void {
    this.entries.set(provider.id, { provider, weight, breaker: new CircuitBreaker(this.breakerOptions), lastHealthCheck: null, lastProbeError: null });
    const index = this.failed.findIndex((entry) => entry.address === provider.id);
    if (index >= 0) this.failed.splice(index, 1);
  }

  /** Records a failed (re-)initialisation, replacing an earlier reason for the same address. */
  recordFailure(failure: FailedProvider): void {
    const index = this.failed.findIndex((entry) => entry.address === failure.address);
    if (index >= 0) this.failed.splice(index, 1, failure);
    else this.failed.push(failure);
  }

  get(id: string): RegisteredProvider | undefined {
    return this.entries.get(id);
  }

  list(): RegisteredProvider[] {
    return [...this.entries.values()];
  }

  isAvailable = (id: string): boolean => this.entries.get(id)?.breaker.isAvailable() ?? false;

  private logTransition(id: string, transition: BreakerTransition | null, detail?: Record<string, unknown>): void {
    if (!transition) return;
    const level = transition.to === 'open' ? 'warn' : 'info';
    this.logger[level]({ event: 'provider_health', provider: id, from: transition.from, to: transition.to, reason: transition.reason, ...detail }, `provider ${id} ${transition.to}`);
  }

  /** Marks the start of an attempt (the half-open trial, if it is one). */
  attemptStarted(id: string): void {
    const entry = this.entries.get(id);
    if (entry) this.logTransition(id, entry.breaker.onAttemptStart());
  }

  /** Feeds one attempt's outcome to the provider's breaker. */
  attemptFinished(id: string, error: GatewayError | undefined): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (!error) return this.logTransition(id, entry.breaker.recordSuccess());
    if (error.code === 'upstream_rate_limited') {
      return this.logTransition(id, entry.breaker.recordRateLimited(error.retryAfterMs), { retryAfterMs: error.retryAfterMs });
    }
    if (NEUTRAL_CODES.has(error.code)) return entry.breaker.recordNeutral();
    this.logTransition(id, entry.breaker.recordFailure(), { code: error.code });
  }

  /** Probes every provider once, in parallel, each bounded by `timeoutMs`. */
  async probeAll(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.list().map(async (entry) => {
        const id = entry.provider.id;
        let ok = true;
        try {
          await entry.provider.probe(AbortSignal.timeout(timeoutMs));
          entry.lastProbeError = null;
        } catch (error) {
          ok = false;
          entry.lastProbeError = error instanceof Error ? error.message : String(error);
        }
        entry.lastHealthCheck = new Date().toISOString();
        this.logTransition(id, entry.breaker.recordProbe(ok), ok ? undefined : { probeError: entry.lastProbeError });
      }),
    );
  }
}
