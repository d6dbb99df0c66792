import { GatewaySubscriptions } from './gateway-subscriptions.js';
import { attemptFinishChannel, breakerChannel, providerRemovedChannel, requestDoneChannel, type AttemptFinishEvent, type BreakerEvent, type ProviderMembershipEvent, type RequestDoneEvent } from './channels.js';
import { RequestSeries, type RequestSeriesOptions } from './request-series.js';

/** One failure of the recent-failures list (a failed attempt on a provider, or a failed client request). */
export interface RecentFailure {
  /** Epoch ms. */
  at: number;
  kind: 'attempt' | 'request';
  providerId: string | null;
  model: string | null;
  /** HTTP status (requests) or null (attempts). */
  status: number | null;
  code: string;
  message: string;
  requestId: string | null;
}

/** Options for {@link StatusHistory}. */
export interface StatusHistoryOptions extends RequestSeriesOptions {
  /** Only events of this gateway count. */
  gatewayId: string;
  /** Failures kept, newest first. Default 50. */
  maxFailures?: number;
}

/** Longest message kept per failure, characters. */
const MAX_MESSAGE = 500;
/** Codes of attempts the client ended: neither failures nor recoveries of the provider. */
const CLIENT_CODES = new Set(['client_closed_request', 'client_stalled']);

/** Requests the series counts: the API's, not the status page's own polls or the metrics scrapes. */
const counted = (event: RequestDoneEvent): boolean => event.route.startsWith('/v1/') && event.method === 'POST';

/**
 * What the status page shows over time, kept from the `diagnostics_channel` events (nothing is
 * added to the request path): the last hour of requests/s, error rate, TTFT and latency per
 * provider and overall ({@link RequestSeries}), the recent failures (bounded), and when each
 * provider last recovered (an attempt succeeded, or its breaker closed) so a stale last error
 * can be hidden. `close()` unsubscribes.
 */
export class StatusHistory {
  readonly series: RequestSeries;
  /** When it started listening (the server's start), epoch ms. */
  readonly startedAt: number;
  readonly #now: () => number;
  readonly #maxFailures: number;
  readonly #failures: RecentFailure[] = [];
  readonly #recoveredAt = new Map<string, number>();
  readonly #subscriptions: GatewaySubscriptions;

  constructor(options: StatusHistoryOptions) {
    this.#subscriptions = new GatewaySubscriptions(options.gatewayId);
    this.series = new RequestSeries(options);
    this.#now = options.now ?? Date.now;
    this.#maxFailures = options.maxFailures ?? 50;
    this.startedAt = this.#now();
    this.#subscriptions.on<RequestDoneEvent>(requestDoneChannel, (event) => this.requestDone(event));
    this.#subscriptions.on<AttemptFinishEvent>(attemptFinishChannel, (event) => this.attemptFinished(event));
    this.#subscriptions.on<BreakerEvent>(breakerChannel, (event) => {
      if (event.to === 'closed') this.#recoveredAt.set(event.providerId, this.#now());
    });
    this.#subscriptions.on<ProviderMembershipEvent>(providerRemovedChannel, (event) => {
      this.series.forget(event.providerId);
      this.#recoveredAt.delete(event.providerId);
    });
  }

  /** The recent failures, newest first. */
  failures(): readonly RecentFailure[] {
    return this.#failures;
  }

  /** When `providerId` last recovered (epoch ms), or undefined. */
  recoveredAt(providerId: string): number | undefined {
    return this.#recoveredAt.get(providerId);
  }

  /** Records a finished client request (called by the channel subscription; public for tests). */
  requestDone(event: RequestDoneEvent): void {
    if (!counted(event)) return;
    const error = event.status >= 500;
    this.series.record(event.providerId, { error, ttftMs: event.ttfbMs, durationMs: event.durationMs });
    if (error) {
      this.#fail({ at: this.#now(), kind: 'request', providerId: event.providerId ?? null, model: event.model ?? null, status: event.status, code: event.errorCode ?? event.outcome, message: `${event.route} answered ${event.status} after ${event.attempts} attempt(s)`, requestId: event.requestId });
    }
  }

  /** Records a finished attempt (called by the channel subscription; public for tests). */
  attemptFinished(event: AttemptFinishEvent): void {
    const outcome = event.outcome;
    if (outcome.ok) {
      this.#recoveredAt.set(outcome.providerId, this.#now());
      return;
    }
    if (CLIENT_CODES.has(outcome.errorCode ?? '')) return;
    const message = outcome.errorMessage ?? '';
    this.#fail({
      at: this.#now(),
      kind: 'attempt',
      providerId: outcome.providerId,
      model: event.model,
      status: null,
      code: outcome.errorCode ?? 'unknown_error',
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message,
      requestId: event.requestId ?? null,
    });
  }

  /** Stops listening. Idempotent. */
  close(): void {
    this.#subscriptions.close();
  }

  #fail(failure: RecentFailure): void {
    this.#failures.unshift(failure);
    if (this.#failures.length > this.#maxFailures) this.#failures.length = this.#maxFailures;
  }

}
